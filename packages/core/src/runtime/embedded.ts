import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { StoreError } from "../shared/errors.ts";

export interface EmbeddedDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite, an embedded DynamoDB, in this process on a loopback port. With a data dir its tables
 * live on disk (LevelDB); without one, in memory. It has no transactions, TTL expiry or PITR, and
 * idc-audit depends on none of them.
 */
export async function startEmbeddedDynamo(dataDir?: string): Promise<EmbeddedDynamo> {
  const options: Record<string, unknown> = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };
  if (dataDir !== undefined) {
    const path = join(dataDir, "dynamodb");
    await mkdir(path, { recursive: true });
    options.path = path;
  }
  // Loaded on demand: Lambda bundles never start an embedded store and do not ship dynalite.
  const { default: dynalite } = await import("dynalite");
  const server = dynalite(options);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** LevelDB allows one process per data dir: say so instead of failing on the first request. */
export function explainEmbeddedFailure(error: unknown, dataDir: string): StoreError {
  const message = error instanceof Error ? error.message : String(error);
  if (/lock/i.test(message)) {
    return new StoreError(`the data dir ${dataDir} is in use by another idc-audit process`, {
      cause: error,
      retryable: false,
    });
  }
  return new StoreError(`embedded store failed: ${message}`, { cause: error, retryable: false });
}
