import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { StoreError } from "../shared/errors.ts";
import { PRIVATE_DIRECTORY, PRIVATE_FILE } from "../shared/private.ts";
import {
  type EmbeddedDynamo,
  EmbeddedStartError,
  embeddedStoreFolder,
  startEmbeddedDynamo,
  TOKEN_HEADER,
} from "./embedded.ts";

/**
 * One data dir, many processes. LevelDB lets one process open a data dir; that process (the owner) serves its
 * embedded store on loopback and writes where (`store-endpoint.json`: pid, port, token) for the others, which
 * use it as clients. LevelDB's own lock (an OS file lock, released when its process ends, however it ends)
 * decides who owns: the endpoint file is only an address, trusted once the endpoint answers to its token. When
 * the owner ends, its clients' next request fails to connect: a client then opens the data dir again and
 * becomes the owner or a client of the new one, and the request is sent again (the hand-over).
 */

export const ENDPOINT_FILE = "store-endpoint.json";

/** Where requests go now: the owner's loopback endpoint and the token it requires. */
export interface StoreAddress {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly token: string;
  /** The owner's process id (this process's when it owns the store). */
  readonly pid: number;
}

interface Lease {
  readonly address: StoreAddress;
  /** Set when this process owns the data dir. */
  readonly owned: EmbeddedDynamo | undefined;
}

export interface SharedStoreOptions {
  /** How long to wait for a data dir whose store is locked but not (yet, or any more) served. */
  readonly lockWaitMs?: number;
  /** Told once when opening waits for another process (more than a second), so that a wait is never silent. */
  readonly onWait?: (message: string) => void;
}

/** Long enough for an owner to open a large store, or to finish its writes and close. */
const DEFAULT_LOCK_WAIT_MS = 15_000;
/** Re-openings one request may cause before its failure is reported instead. */
const MAX_REOPENINGS = 3;

export class SharedStore {
  private lease: Lease;
  private reopening: Promise<Lease> | undefined;
  private closed = false;

  private constructor(
    /** Undefined for a store in memory, which only this process uses. */
    readonly dataDir: string | undefined,
    lease: Lease,
    private readonly options: SharedStoreOptions,
  ) {
    this.lease = lease;
  }

  /** Opens the store of a data dir (or one in memory): as its owner, or as a client of the process serving it. */
  static async open(dataDir: string | undefined, options: SharedStoreOptions = {}): Promise<SharedStore> {
    const lease = dataDir === undefined ? await inMemory() : await acquire(dataDir, options);
    return new SharedStore(dataDir, lease, options);
  }

  get address(): StoreAddress {
    return this.lease.address;
  }

  /** Whether this process serves the store (to itself and to other processes). */
  get owner(): boolean {
    return this.lease.owned !== undefined;
  }

  /** Whether this process serves the store and its worker has not stopped. */
  get ownStoreRunning(): boolean {
    return this.lease.owned !== undefined && this.lease.owned.stopped === undefined;
  }

  /**
   * A request to `failed` could not connect: open the data dir again, once for all the requests that failed on
   * the same address, and say where to send them now.
   */
  async reopen(failed: StoreAddress): Promise<StoreAddress> {
    if (this.closed) throw new StoreError(`${this.label} is closed`, { retryable: false });
    if (this.lease.address !== failed) return this.lease.address;
    this.reopening ??= this.replaceLease().finally(() => {
      this.reopening = undefined;
    });
    return (await this.reopening).address;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reopening?.catch(() => undefined);
    await release(this.dataDir, this.lease);
  }

  /** `the store of the data dir <dir>` or `the embedded store (in memory)`, for messages. */
  get label(): string {
    return this.dataDir === undefined
      ? "the embedded store (in memory)"
      : `the store of the data dir ${this.dataDir}`;
  }

  private async replaceLease(): Promise<Lease> {
    const { dataDir, lease } = this;
    if (dataDir === undefined) {
      throw new StoreError(`the embedded store (in memory) stopped: ${lease.owned?.stopped ?? "no answer"}`, {
        retryable: false,
      });
    }
    // This process's own store stopped answering: let go of it (and of LevelDB's lock) before opening again.
    await release(dataDir, lease);
    this.lease = await acquire(dataDir, this.options);
    return this.lease;
  }
}

/**
 * Sends every request of `client` to the shared store's current owner with its token, and carries a request
 * over to the next owner when the one it was sent to has gone.
 */
export function routeThroughSharedStore(client: DynamoDBClient, store: SharedStore): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as Addressable;
      let address = store.address;
      for (let reopenings = 0; ; reopenings += 1) {
        pointAt(request, address);
        try {
          return await next(args);
        } catch (error) {
          if (!ownerGone(error)) throw error;
          if (reopenings === MAX_REOPENINGS) {
            throw new StoreError(
              `${store.label} stopped answering ${MAX_REOPENINGS + 1} times in a row (${describe(error)}): try again; if it keeps failing, stop the other idc-audit processes using it`,
              { cause: error, retryable: false },
            );
          }
          // This process's own store, still running, dropped the connection (its server closed a kept-alive
          // connection as the request went out on it, which the server never read): asked again, not reopened.
          // Reopening would restart a data dir's store, and could not restart one in memory at all.
          if (store.ownStoreRunning && droppedConnection(error)) continue;
          address = await store.reopen(address);
        }
      }
    },
    { step: "finalizeRequest", priority: "low", name: "idcAuditSharedStore" },
  );
}

/** What dynalite requires of every request: an `Authorization` header of SigV4's form and a date. */
const FIXED_AUTHORIZATION =
  "AWS4-HMAC-SHA256 Credential=embedded/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned";
const FIXED_DATE = "20260101T000000Z";

/**
 * The embedded store's requests are not signed. Its server checks the token (`TOKEN_HEADER`), never a
 * signature, and a signature could not hold anyway: the host it covers is rewritten afterwards, when a request
 * is sent to the current owner (`routeThroughSharedStore`). dynalite still refuses a request without the
 * headers of a signed one, so this signer sets fixed ones, with a placeholder credential. Signing (a hash of
 * the body and a chain of HMACs) was about a fifth of the client's CPU per write request: 0.415 against
 * 0.331 ms a `BatchWriteItem` of 25 items (`scripts/bench.ts --phase request-signing`, docs/benchmarks.md).
 */
export const EMBEDDED_STORE_SIGNER = {
  async sign<Request extends { headers: Record<string, string> }>(request: Request): Promise<Request> {
    request.headers.authorization = FIXED_AUTHORIZATION;
    request.headers["x-amz-date"] = FIXED_DATE;
    return request;
  },
};

interface Addressable {
  hostname: string;
  port?: number;
  headers: Record<string, string>;
}

function pointAt(request: Addressable, address: StoreAddress): void {
  request.hostname = LOOPBACK;
  request.port = address.port;
  request.headers[TOKEN_HEADER] = address.token;
  request.headers.host = `${LOOPBACK}:${address.port}`;
}

const LOOPBACK = "127.0.0.1";

function loopbackAddress(port: number, token: string, pid: number): StoreAddress {
  return { endpoint: `http://${LOOPBACK}:${port}`, port, token, pid };
}

/** The owner ended (refused, reset) or another store took its port (refuses the token). */
function ownerGone(error: unknown): boolean {
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    name === "UnrecognizedClientException"
  );
}

/** A connection reset or closed under a request, as opposed to one refused. */
function droppedConnection(error: unknown): boolean {
  const { code } = error as { code?: unknown };
  return code === "ECONNRESET" || code === "EPIPE";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function inMemory(): Promise<Lease> {
  const token = newToken();
  let owned: EmbeddedDynamo;
  try {
    owned = await startEmbeddedDynamo(undefined, { token });
  } catch (error) {
    throw new StoreError(`cannot start the embedded store (in memory): ${describe(error)}`, {
      cause: error,
      retryable: false,
    });
  }
  return { address: loopbackAddress(owned.port, token, process.pid), owned };
}

interface Advertised {
  readonly address: StoreAddress | undefined;
  /** Why the endpoint file could not be used, when it exists. */
  readonly problem: string | undefined;
}

/** Becomes the data dir's owner, or a client of its owner. */
async function acquire(dataDir: string, options: SharedStoreOptions): Promise<Lease> {
  const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const endpointFile = join(dataDir, ENDPOINT_FILE);
  try {
    await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIRECTORY });
  } catch (error) {
    throw cannotOpen(dataDir, describe(error), error);
  }
  const startedAt = Date.now();
  const deadline = startedAt + lockWaitMs;
  let pause = 25;
  let told = false;
  for (;;) {
    const advertised = await readEndpointFile(endpointFile);
    if (advertised.address && (await answers(advertised.address))) {
      return { address: advertised.address, owned: undefined };
    }
    const token = newToken();
    let owned: EmbeddedDynamo;
    try {
      owned = await startEmbeddedDynamo(dataDir, { token });
    } catch (error) {
      if (!(error instanceof EmbeddedStartError && error.locked))
        throw cannotOpen(dataDir, describe(error), error);
      // Locked and not served: an owner opening or closing the store, or a process that is not idc-audit.
      if (Date.now() >= deadline) throw lockedWithoutOwner(dataDir, advertised, lockWaitMs, error);
      if (!told && Date.now() - startedAt > 1000) {
        told = true;
        options.onWait?.(
          `waiting for the process that holds the store of ${dataDir} to serve it (at most ${lockWaitMs / 1000} s)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 500);
      continue;
    }
    const address = loopbackAddress(owned.port, token, process.pid);
    try {
      await publish(endpointFile, address);
    } catch (error) {
      await owned.close();
      throw cannotOpen(dataDir, `cannot write ${endpointFile}: ${describe(error)}`, error);
    }
    return { address, owned };
  }
}

async function release(dataDir: string | undefined, lease: Lease): Promise<void> {
  if (!lease.owned) return;
  // Withdrawn before the store closes, so that no client finds an address about to go. While this process
  // holds LevelDB's lock no other process writes the file: it is this process's own.
  if (dataDir !== undefined) await unlink(join(dataDir, ENDPOINT_FILE)).catch(() => undefined);
  await lease.owned.close();
}

/** Written whole under a temporary name, then renamed: a reader never sees half a file. Owner-only (0600). */
async function publish(endpointFile: string, address: StoreAddress): Promise<void> {
  const temporary = `${endpointFile}.${process.pid}.tmp`;
  const content = {
    pid: address.pid,
    port: address.port,
    token: address.token,
    startedAt: new Date().toISOString(),
  };
  await writeFile(temporary, `${JSON.stringify(content)}\n`, { mode: PRIVATE_FILE });
  await rename(temporary, endpointFile);
}

async function readEndpointFile(endpointFile: string): Promise<Advertised> {
  let text: string;
  try {
    text = await readFile(endpointFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { address: undefined, problem: undefined };
    return { address: undefined, problem: `${endpointFile} cannot be read (${describe(error)})` };
  }
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; port?: unknown; token?: unknown };
    const { pid, port, token } = parsed;
    if (
      Number.isInteger(pid) &&
      Number.isInteger(port) &&
      typeof token === "string" &&
      /^[0-9a-f]{64}$/.test(token)
    ) {
      return {
        address: loopbackAddress(port as number, token, pid as number),
        problem: undefined,
      };
    }
  } catch {
    // Reported below, with the other shapes that are not an idc-audit endpoint file.
  }
  return { address: undefined, problem: `${endpointFile} is not an idc-audit endpoint file` };
}

/** Whether an idc-audit store answers at `address` to its token (a ListTables, bounded to 2 s). */
function answers(address: StoreAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpRequest(
      `${address.endpoint}/`,
      {
        method: "POST",
        agent: false,
        timeout: 2000,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          // The headers of a signed request, as every request to the store has them (`EMBEDDED_STORE_SIGNER`).
          authorization: FIXED_AUTHORIZATION,
          "x-amz-date": FIXED_DATE,
          [TOKEN_HEADER]: address.token,
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
    request.end("{}");
  });
}

function newToken(): string {
  return randomBytes(32).toString("hex");
}

function cannotOpen(dataDir: string, reason: string, cause: unknown): StoreError {
  return new StoreError(
    `cannot open the embedded store in the data dir ${dataDir}: ${reason}. Check that ${dataDir} is an idc-audit data dir that this user can read and write, or pass another --data-dir`,
    { cause, retryable: false },
  );
}

function lockedWithoutOwner(
  dataDir: string,
  advertised: Advertised,
  waitedMs: number,
  cause: unknown,
): StoreError {
  const known = advertised.address
    ? `${join(dataDir, ENDPOINT_FILE)} names process ${advertised.address.pid}, which does not answer`
    : (advertised.problem ?? `no process has written ${join(dataDir, ENDPOINT_FILE)}`);
  return new StoreError(
    `cannot open the embedded store in the data dir ${dataDir}: another process holds its lock (${join(embeddedStoreFolder(dataDir), "LOCK")}) and did not serve it within ${waitedMs / 1000} s; ${known}. Wait for that process to finish, or stop it (an idc-audit started before this version, or another program using ${embeddedStoreFolder(dataDir)}), then run this command again`,
    { cause, retryable: false },
  );
}
