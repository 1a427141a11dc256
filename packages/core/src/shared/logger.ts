/**
 * The logging surface core needs. Lambda passes a Powertools `Logger`; the CLI passes a quiet stderr logger.
 * Messages are static strings; data goes in the object. Never pass a whole event.
 */
export interface AuditLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const silentLogger: AuditLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A structured logger such as Powertools' `Logger`: a message and one object of data. */
export interface StructuredLogger {
  debug(message: string, data: Record<string, unknown>): void;
  info(message: string, data: Record<string, unknown>): void;
  warn(message: string, data: Record<string, unknown>): void;
  error(message: string, data: Record<string, unknown>): void;
}

export function toAuditLogger(logger: StructuredLogger): AuditLogger {
  return {
    debug: (message, data) => logger.debug(message, data ?? {}),
    info: (message, data) => logger.info(message, data ?? {}),
    warn: (message, data) => logger.warn(message, data ?? {}),
    error: (message, data) => logger.error(message, data ?? {}),
  };
}
