import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { PRIVATE_DIRECTORY } from "../shared/private.ts";

export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Why the store's worker stopped on its own, once it has: requests to it then fail to connect. */
  readonly stopped: string | undefined;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  /**
   * Answer only requests carrying this token in the `x-idc-audit-token` header (others get a 403): the port is
   * on loopback, where any local user could connect to it.
   */
  readonly token?: string;
}

/** The header that carries the token an embedded store requires. */
export const TOKEN_HEADER = "x-idc-audit-token";

/** The embedded store could not start; `locked` when another process holds its data dir. */
export class EmbeddedStartError extends Error {
  readonly locked: boolean;
  constructor(reason: string, locked: boolean) {
    super(reason);
    this.name = "EmbeddedStartError";
    this.locked = locked;
  }
}

/**
 * Runs in a worker thread: dynalite there uses the second core while the pipeline works on the first.
 * Plain CommonJS source (an `eval` worker), so the same code runs from TypeScript sources and from the bundle.
 * LevelDB is opened before the server listens: it opens lazily otherwise, and a data dir it could not open
 * (locked by another process, unreadable) failed the first request by throwing in the worker, which died
 * without a word.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { timingSafeEqual } = require("node:crypto");
const dynalite = require(workerData.dynalitePath);
const server = dynalite(workerData.options);
const fail = (error) => {
  const cause = error && error.cause;
  parentPort.postMessage({
    error: String((cause && cause.message) || (error && error.message) || error),
    locked: Boolean(cause && cause.code === "LEVEL_LOCKED"),
  });
};
if (workerData.token) {
  const expected = Buffer.from(workerData.token);
  const [handle] = server.listeners("request");
  server.removeAllListeners("request");
  server.on("request", (request, response) => {
    const given = Buffer.from(String(request.headers["${TOKEN_HEADER}"] || ""));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return handle(request, response);
    request.resume();
    response.writeHead(403, { "content-type": "application/x-amz-json-1.0" });
    response.end(JSON.stringify({
      __type: "com.amazonaws.dynamodb.v20120810#UnrecognizedClientException",
      message: "this embedded store answers only the idc-audit processes of its data dir",
    }));
  });
}
server.on("error", fail);
server.store.db.open().then(
  () => server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port })),
  fail,
);
parentPort.on("message", (message) => {
  if (message !== "close") return;
  server.close(() => parentPort.postMessage({ closed: true }));
  // Clients of other processes keep connections alive; once their requests are answered, let them go.
  setInterval(() => server.closeIdleConnections(), 20).unref();
});
`;

let levelDbAddonPinned = false;

/**
 * Loads LevelDB's native addon (classic-level, through dynalite's `level`) in this thread as well. A worker
 * that loaded it alone unloads it when it ends, while LevelDB's background thread, which lives on, still runs
 * its code: the process then died of SIGSEGV at exit, after its output (about one run in five, more with pipes).
 * Loaded here too, the library stays mapped.
 */
function pinLevelDbAddon(dynalitePath: string): void {
  if (levelDbAddonPinned) return;
  const fromDynalite = createRequire(dynalitePath);
  createRequire(fromDynalite.resolve("level"))("classic-level");
  levelDbAddonPinned = true;
}

/**
 * LevelDB's write buffer (its log and table in memory, 4 MB by default) for the embedded store: fewer, larger
 * flushes and compactions. On the bench's 93,465 Identity Center records the store's CPU was 32.0–33.0 s
 * against 35.6–36.6 s at 4 MB, for 25 MiB more peak RSS in the store (215–221 MiB against 190–194); 32 MB
 * gained nothing more. Affordable since the CLI fixes its heaps' growth (`heap.ts`): the hostile folder, the
 * store in the ingest's worker, then peaked at 377–393 MiB of its 488 MiB bound (`docs/benchmarks.md`).
 */
export const EMBEDDED_WRITE_BUFFER_BYTES = 16 * 1024 * 1024;

/** dynalite's options for the embedded store: tables made at once, and on disk at `path` (LevelDB) if given. */
export function embeddedStoreOptions(path?: string): Record<string, unknown> {
  return {
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path === undefined ? {} : { path, levelOptions: { writeBufferSize: EMBEDDED_WRITE_BUFFER_BYTES } }),
  };
}

/**
 * Starts dynalite, an embedded DynamoDB, on a loopback port in a worker thread of this process. With a data
 * dir its tables live on disk (LevelDB, one process per dir); without one, in memory. It has no transactions,
 * TTL expiry or PITR, and idc-audit depends on none of them. Rejects with an `EmbeddedStartError` saying why
 * it could not start.
 */
/** The folder of a data dir that holds its embedded store (LevelDB's files): there once something was stored. */
export function embeddedStoreFolder(dataDir: string): string {
  return join(dataDir, "dynamodb");
}

export async function startEmbeddedDynamo(
  dataDir?: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedDynamo> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = embeddedStoreFolder(dataDir);
    try {
      await mkdir(path, { recursive: true, mode: PRIVATE_DIRECTORY });
    } catch (error) {
      throw new EmbeddedStartError((error as Error).message, false);
    }
  }
  const storeOptions = embeddedStoreOptions(path);
  const dynalitePath = createRequire(import.meta.url).resolve("dynalite");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { dynalitePath, options: storeOptions, token: options.token },
  });
  // While the worker starts (on the other core), not before.
  try {
    pinLevelDbAddon(dynalitePath);
  } catch (error) {
    await worker.terminate();
    throw new EmbeddedStartError(`cannot load LevelDB: ${(error as Error).message}`, false);
  }
  let stopped: string | undefined;
  // Listened to for the worker's whole life: an error event with no listener would crash this process, and
  // one that only settled the start-up promise was how a dying store went unnoticed.
  worker.on("error", (error) => {
    stopped ??= error.message;
  });
  worker.on("exit", (code) => {
    stopped ??= `its worker exited with code ${code}`;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = () => reject(new EmbeddedStartError(stopped ?? "its worker exited", false));
    worker.once("exit", onExit);
    worker.once("message", (message: { port?: number; error?: string; locked?: boolean }) => {
      worker.off("exit", onExit);
      if (message.port !== undefined) resolve(message.port);
      else reject(new EmbeddedStartError(message.error ?? "it did not start", message.locked === true));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  // The worker must not keep a finished CLI alive; whoever uses it learns of its end from `stopped`.
  worker.unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get stopped() {
      return stopped;
    },
    close: async () => {
      if (stopped === undefined) {
        const closed = new Promise<void>((resolve) => {
          worker.once("message", () => resolve());
          worker.once("exit", () => resolve());
        });
        worker.postMessage("close");
        await closed;
      }
      stopped ??= "it was closed";
      await worker.terminate();
    },
  };
}
