import { AuditError } from "../shared/errors.ts";

/** A request the API refuses: its HTTP status and a message meant for the person who sent it. */
export class ApiError extends AuditError {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message);
    this.status = status;
    this.details = details;
  }
}

export const badRequest = (message: string) => new ApiError(400, "BAD_REQUEST", message);
export const notFound = (message: string) => new ApiError(404, "NOT_FOUND", message);
