import { configFromEnvironment, openRuntime, type Runtime } from "../runtime/index.ts";
import type { AuditLogger } from "../shared/logger.ts";

/**
 * Opens something on a function's first invocation and keeps it for the container's life. A failed open is
 * forgotten, so the next invocation tries again instead of failing on the same rejected promise for ever.
 */
export function openedOnce<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
}

/** The runtime a function works with: the one its tests inject, else the one its environment configures. */
export function containerRuntime(
  open: (() => Promise<Runtime>) | undefined,
  logger: AuditLogger,
): () => Promise<Runtime> {
  return openedOnce(open ?? (() => openRuntime(configFromEnvironment(process.env, logger))));
}
