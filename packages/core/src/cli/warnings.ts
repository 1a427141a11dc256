import type { Writable } from "node:stream";
import type { AuditLogger } from "../shared/logger.ts";

/** Warnings about the directory: what `idc-audit enrich`, with directory options that work, makes good. */
const DIRECTORY_WARNINGS: ReadonlySet<string> = new Set([
  "user name lookup failed",
  "identity store lookup failed",
  "session name lookup failed",
]);

const MAX_DETAIL = 200;

/**
 * The CLI's logger: counts a command's warnings and errors by message, keeping the first one's reason, so that
 * the command says once, at its end, on stderr, what did not work (a directory that never answered left every
 * old-shape event unresolved with nothing said). Messages are static strings; of their data only the `reason`
 * and `error` fields are kept (error names and messages, never an event or a name).
 */
export class WarningTally implements AuditLogger {
  private readonly seen = new Map<string, { count: number; detail: string | undefined }>();

  debug(): void {}
  info(): void {}

  warn(message: string, data?: Record<string, unknown>): void {
    const entry = this.seen.get(message);
    if (entry) entry.count += 1;
    else this.seen.set(message, { count: 1, detail: detailOf(data) });
  }

  error(message: string, data?: Record<string, unknown>): void {
    this.warn(message, data);
  }

  /** Writes one line per message, and what to do when the directory failed; nothing when all went well. */
  report(stderr: Writable): void {
    for (const [message, { count, detail }] of this.seen)
      stderr.write(
        `idc-audit: warning: ${message}${count > 1 ? ` (${count} times)` : ""}${detail ? `: ${detail}` : ""}\n`,
      );
    if ([...this.seen.keys()].some((message) => DIRECTORY_WARNINGS.has(message)))
      stderr.write(
        "idc-audit: the events are stored; the people the directory did not name or describe stay unresolved or unenriched. Check the directory options (--directory, or --identity-store-id with --identity-store-region and AWS credentials), then run idc-audit enrich with them.\n",
      );
    this.seen.clear();
  }
}

function detailOf(data: Record<string, unknown> | undefined): string | undefined {
  const value = data?.reason ?? data?.error;
  if (typeof value !== "string" || value === "") return undefined;
  return value.length > MAX_DETAIL ? `${value.slice(0, MAX_DETAIL)}…` : value;
}
