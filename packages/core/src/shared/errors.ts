/**
 * One base error for idc-audit; every failure the pipeline can name is a subclass with a machine-readable
 * `code`. `classify` is the one place that decides whether a failure is worth retrying.
 */
export class AuditError extends Error {
  readonly code: string;
  readonly eventId: string | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; eventId?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.eventId = options?.eventId;
  }
}

/** Input that can never be ingested, whatever the retries: it goes to the dead-letter with its reason. */
export class RejectedRecordError extends AuditError {
  constructor(reason: string, options?: { cause?: unknown; eventId?: string | undefined }) {
    super("REJECTED_RECORD", reason, options);
  }
}

/** The store answered with an error or could not be reached. */
export class StoreError extends AuditError {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super("STORE_ERROR", message, options);
    this.retryable = options.retryable;
  }
}

/** The user directory answered with an error that is not "no such user". */
export class DirectoryError extends AuditError {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super("DIRECTORY_ERROR", message, options);
    this.retryable = options.retryable;
  }
}

/** Bad command-line usage or configuration. */
export class UsageError extends AuditError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

export type FailureKind = "retryable" | "poison" | "bug";

/** Decides what a failure means for a delivery: retry it, dead-letter it, or treat it as a defect. */
export function classify(error: unknown): FailureKind {
  if (error instanceof RejectedRecordError) return "poison";
  if (error instanceof StoreError || error instanceof DirectoryError) {
    return error.retryable ? "retryable" : "poison";
  }
  if (error instanceof AuditError) return "poison";
  return "bug";
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
