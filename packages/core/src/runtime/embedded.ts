import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { StoreError } from "../shared/errors.ts";

export interface EmbeddedDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Runs in a worker thread: dynalite there uses the second core while the pipeline works on the first.
 * Plain CommonJS source (an `eval` worker), so the same code runs from TypeScript sources and from the bundle.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const dynalite = require(workerData.dynalitePath);
const server = dynalite(workerData.options);
server.on("error", (error) => parentPort.postMessage({ error: String(error && error.message || error) }));
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (message) => {
  if (message === "close") server.close(() => parentPort.postMessage({ closed: true }));
});
`;

/**
 * Starts dynalite, an embedded DynamoDB, on a loopback port in a worker thread of this process. With a data
 * dir its tables live on disk (LevelDB); without one, in memory. It has no transactions, TTL expiry or PITR,
 * and idc-audit depends on none of them.
 */
export async function startEmbeddedDynamo(dataDir?: string): Promise<EmbeddedDynamo> {
  const options: Record<string, unknown> = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };
  if (dataDir !== undefined) {
    const path = join(dataDir, "dynamodb");
    await mkdir(path, { recursive: true });
    options.path = path;
  }
  const dynalitePath = createRequire(import.meta.url).resolve("dynalite");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dynalitePath, options } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message: { port?: number; error?: string }) => {
      if (message.port !== undefined) resolve(message.port);
      else reject(new Error(message.error ?? "embedded store did not start"));
    });
  });
  // The worker must not keep a finished CLI alive, nor die silently while in use.
  worker.unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => {
        worker.once("message", () => resolve());
        worker.once("exit", () => resolve());
      });
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
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
