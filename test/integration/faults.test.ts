import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  AccessDeniedException,
  DescribeUserCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ResourceNotFoundException,
  ThrottlingException,
} from "@aws-sdk/client-identitystore";
import { main } from "@idc-audit/core/cli";
import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { ExportDirectory, IdentityStoreDirectory } from "@idc-audit/core/identity";
import { type IngestCounts, ingestStream, Pipeline } from "@idc-audit/core/ingest";
import { type EmbeddedDynamo, openRuntime, type Runtime, startEmbeddedDynamo } from "@idc-audit/core/runtime";
import { IDENTITY_STORE_ID, synthDirectory, synthEvents } from "@idc-audit/core/synth";
import { ENRICH_PENDING_PARTITION, TableStore } from "@idc-audit/core/timeline";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type Answers, answers, synthRecords, synthUsers } from "../support/answers.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { startFakeIdentityStore } from "../support/identity-store-server.ts";
import { dumpTable, memoryRuntime } from "../support/store.ts";

const SYNTH = { events: 400, users: 6, seed: 23, failureRate: 0.2 } as const;
const raw = [...synthEvents(SYNTH)];
const records = synthRecords(SYNTH);
const users = synthUsers(SYNTH);
const exported = synthDirectory(SYNTH);
const exportDirectory = () => ExportDirectory.fromJson(exported, IDENTITY_STORE_ID);

async function* itemsOf(list: readonly Record<string, unknown>[]): AsyncGenerator<ReadItem> {
  for (const [index, record] of list.entries()) yield { kind: "record", record, location: `synth:${index}` };
}

/** The same records through the same pipeline with nothing going wrong: what every faulty run must end with. */
let reference: { counts: IngestCounts; table: Record<string, unknown>[]; answers: Answers };
let embedded: EmbeddedDynamo;
const scratch = mkdtempSync(join(tmpdir(), "idc-audit-faults-"));

beforeAll(async () => {
  // Placeholders only: the embedded store checks no signature.
  vi.stubEnv("AWS_ACCESS_KEY_ID", "faults");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "faults");
  vi.stubEnv("AWS_REGION", "local");
  embedded = await startEmbeddedDynamo();
  const clean = await memoryRuntime(exportDirectory());
  try {
    const counts = await ingestStream(itemsOf(raw), clean.pipeline, { batchSize: 50 });
    reference = { counts, table: await dumpTable(clean), answers: await answers(clean, records, users) };
  } finally {
    await clean.close();
  }
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await embedded.close();
  rmSync(scratch, { recursive: true, force: true });
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A runtime on one table of the embedded store, directly (no faults): how the tests look at the result. */
async function direct(tableName: string): Promise<Runtime> {
  const runtime = await openRuntime({ endpoint: embedded.endpoint, tableName, region: "local" });
  closers.push(() => runtime.close());
  return runtime;
}

describe("DynamoDB faults: throttling, UnprocessedItems, lost connections", () => {
  it("loses nothing through a throttled, flaky table with the SDK's retries, as the runtime is wired", async () => {
    // Prepare
    const proxy = await startFaultProxy(embedded.endpoint, {
      seed: 7,
      throttle: 0.08,
      unprocessed: 0.3,
      dropBefore: 0.03,
      dropAfter: 0.03,
    });
    closers.push(() => proxy.close());
    const runtime = await openRuntime({
      endpoint: proxy.url,
      tableName: "wired",
      region: "local",
      directory: exportDirectory(),
    });
    closers.push(() => runtime.close());
    // Act
    const counts = await ingestStream(itemsOf(raw), runtime.pipeline, { batchSize: 50 });
    // Assess: faults happened, and the table and every answer are those of the clean run.
    expect(proxy.stats.throttled).toBeGreaterThan(5);
    expect(proxy.stats.unprocessed).toBeGreaterThan(5);
    expect(proxy.stats.droppedBefore + proxy.stats.droppedAfter).toBeGreaterThan(5);
    expectSameOutcome(counts);
    const table = await direct("wired");
    expect(await dumpTable(table)).toEqual(reference.table);
    expect(await answers(table, records, users)).toEqual(reference.answers);
  });

  it("loses nothing under heavy faults with no SDK retries: the store's own retries carry every operation", async () => {
    // Prepare: one attempt per SDK call, so every fault reaches TableStore.
    const proxy = await startFaultProxy(embedded.endpoint, {
      seed: 11,
      throttle: 0.15,
      unprocessed: 0.4,
      dropBefore: 0.05,
      dropAfter: 0.05,
    });
    closers.push(() => proxy.close());
    const client = new DynamoDBClient({
      endpoint: proxy.url,
      region: "local",
      credentials: { accessKeyId: "faults", secretAccessKey: "faults" },
      maxAttempts: 1,
    });
    closers.push(async () => client.destroy());
    const store = new TableStore(client, {
      tableName: "heavy",
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / 20)),
    });
    await store.ensureTable();
    const pipeline = new Pipeline(store, exportDirectory());
    // Act
    const counts = await ingestStream(itemsOf(raw), pipeline, { batchSize: 50 });
    // Assess
    expect(proxy.stats.throttled).toBeGreaterThan(20);
    expect(proxy.stats.unprocessed).toBeGreaterThan(20);
    expect(store.stats.unprocessedRetries).toBeGreaterThan(20);
    expectSameOutcome(counts);
    const table = await direct("heavy");
    expect(await dumpTable(table)).toEqual(reference.table);
    expect(await answers(table, records, users)).toEqual(reference.answers);
  });

  it("fails a batch that cannot be stored with a retryable error, and a re-run completes it", async () => {
    // Prepare: a table that throttles every request for good.
    const proxy = await startFaultProxy(embedded.endpoint, { seed: 3, throttle: 1 });
    closers.push(() => proxy.close());
    const client = new DynamoDBClient({
      endpoint: proxy.url,
      region: "local",
      credentials: { accessKeyId: "faults", secretAccessKey: "faults" },
      maxAttempts: 1,
    });
    closers.push(async () => client.destroy());
    const store = new TableStore(client, { tableName: "outage", sleep: async () => {} });
    await store.ensureTable();
    const pipeline = new Pipeline(store, exportDirectory());
    // Act
    const failure = await ingestStream(itemsOf(raw), pipeline, { batchSize: 50 }).catch(
      (error: unknown) => error,
    );
    proxy.heal();
    const counts = await ingestStream(itemsOf(raw), pipeline, { batchSize: 50 });
    // Assess
    expect(failure).toMatchObject({ name: "StoreError", retryable: true });
    expectSameOutcome(counts);
    expect(await dumpTable(await direct("outage"))).toEqual(reference.table);
  });
});

/**
 * Every record is accounted for as in the clean run. A commit marker whose answer was lost is written, and
 * its retry then finds it: that event counts as a duplicate instead of stored, so only the sum is compared.
 */
function expectSameOutcome(counts: IngestCounts) {
  expect(counts.read).toBe(reference.counts.read);
  expect(counts.read).toBe(counts.stored + counts.duplicates + counts.ignored + counts.rejected);
  expect(counts.ignored).toBe(reference.counts.ignored);
  expect(counts.rejected).toBe(reference.counts.rejected);
  expect(counts.stored + counts.duplicates).toBe(reference.counts.stored + reference.counts.duplicates);
}

describe("Identity Store faults: throttling, access denied, deleted users, network errors", () => {
  // Only this client is mocked: the CLI test below uses the SDK for real.
  const client = new IdentitystoreClient({ region: "us-east-1" });
  const identityStore = mockClient(client);
  afterEach(() => identityStore.reset());
  afterAll(() => identityStore.restore());

  const [throttledUser, deniedUser, unreachableUser, deletedUser] = exported.Users.map((user) => ({
    userId: String(user.UserId),
    userName: String(user.UserName),
  }));
  if (!throttledUser || !deniedUser || !unreachableUser || !deletedUser) throw new Error("too few users");

  /** Answers as the real service would from the export, except for the faults the test turns on. */
  function answerFromExport(faults: boolean) {
    identityStore.on(DescribeUserCommand).callsFake((input: { UserId: string }) => {
      if (input.UserId === deletedUser?.userId)
        throw new ResourceNotFoundException({ message: "USER not found", $metadata: {} });
      if (faults && input.UserId === deniedUser?.userId)
        throw new AccessDeniedException({ message: "not authorized", $metadata: {} });
      if (faults && input.UserId === unreachableUser?.userId)
        throw Object.assign(new Error("connect ETIMEDOUT 3.5.1.1:443"), {
          name: "TimeoutError",
          code: "ETIMEDOUT",
        });
      const user = exported.Users.find((entry) => entry.UserId === input.UserId);
      return { ...user, IdentityStoreId: IDENTITY_STORE_ID };
    });
    identityStore
      .on(GetUserIdCommand)
      .callsFake((input: { AlternateIdentifier: { UniqueAttribute: { AttributeValue: string } } }) => {
        const name = input.AlternateIdentifier.UniqueAttribute.AttributeValue.toLowerCase();
        const user = exported.Users.find((entry) => String(entry.UserName).toLowerCase() === name);
        if (!user || user.UserId === deletedUser?.userId)
          throw new ResourceNotFoundException({ message: "USER not found", $metadata: {} });
        return { UserId: user.UserId, IdentityStoreId: IDENTITY_STORE_ID };
      });
  }

  it("stores every event during an outage, unenriched, and `enrich` completes them to the answers of a healthy run", async () => {
    // Prepare: one throttled answer (Retry-After 3 s), and failures for two users.
    answerFromExport(true);
    identityStore
      .on(DescribeUserCommand, { UserId: throttledUser.userId })
      .rejectsOnce(new ThrottlingException({ message: "slow down", $metadata: {}, RetryAfterSeconds: 3 }))
      .callsFake(() => ({ ...exported.Users[0], IdentityStoreId: IDENTITY_STORE_ID }));
    const waits: number[] = [];
    const directory = new IdentityStoreDirectory(client, {
      identityStoreId: IDENTITY_STORE_ID,
      requestsPerSecond: 10_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const expected = await healthyRun(deletedUser.userId);
    const runtime = await memoryRuntime(directory);
    closers.push(() => runtime.close());
    // Act: ingest during the outage.
    const counts = await ingestStream(itemsOf(raw), runtime.pipeline, { batchSize: 50 });
    const during = await runtime.queries.profiles(users);
    const pending = await runtime.store.query(ENRICH_PENDING_PARTITION);
    // Assess: nothing lost, the throttled call waited as asked, the failed users are pending.
    expectSameOutcome(counts);
    expect(waits).toContain(3000);
    const status = (userId: string) => during.get(`${IDENTITY_STORE_ID}/${userId}`)?.status;
    expect(status(throttledUser.userId)).toBe("enriched");
    expect(status(deniedUser.userId)).toBe("unenriched");
    expect(status(unreachableUser.userId)).toBe("unenriched");
    expect(status(deletedUser.userId)).toBe("deleted");
    expect(pending.map((item) => item.userId).sort()).toEqual(
      [deniedUser.userId, unreachableUser.userId].sort(),
    );

    // Act: the directory is back; `idc-audit enrich` retries what is pending.
    identityStore.reset();
    answerFromExport(false);
    const retry = await runtime.pipeline.enricher.retryPending();
    // Assess
    expect(retry).toEqual({ retried: 2, stillPending: 0 });
    expect(await runtime.store.query(ENRICH_PENDING_PARTITION)).toEqual([]);
    expect(await answers(runtime, records, users)).toEqual(expected);
  });

  it("keeps a user pending while the directory still fails, then enriches them", async () => {
    // Prepare
    answerFromExport(true);
    const directory = new IdentityStoreDirectory(client, {
      identityStoreId: IDENTITY_STORE_ID,
      requestsPerSecond: 10_000,
      sleep: async () => {},
    });
    const runtime = await memoryRuntime(directory);
    closers.push(() => runtime.close());
    await ingestStream(itemsOf(raw), runtime.pipeline, { batchSize: 100 });
    // Act
    const stillFailing = await runtime.pipeline.enricher.retryPending();
    identityStore.reset();
    answerFromExport(false);
    const healed = await runtime.pipeline.enricher.retryPending();
    // Assess
    expect(stillFailing).toEqual({ retried: 2, stillPending: 2 });
    expect(healed).toEqual({ retried: 2, stillPending: 0 });
    const view = (
      await runtime.queries.user({ identityStoreId: IDENTITY_STORE_ID, userId: deniedUser.userId })
    ).user;
    expect(view).toMatchObject({ status: "enriched", userName: deniedUser.userName });
  });
});

/** The answers of a run whose directory never fails (the deleted user is absent from it). */
async function healthyRun(deletedUserId: string): Promise<Answers> {
  const survivors = { Users: exported.Users.filter((user) => user.UserId !== deletedUserId) };
  const clean = await memoryRuntime(ExportDirectory.fromJson(survivors, IDENTITY_STORE_ID));
  try {
    await ingestStream(itemsOf(raw), clean.pipeline, { batchSize: 50 });
    return await answers(clean, records, users);
  } finally {
    await clean.close();
  }
}

describe("idc-audit enrich, end to end against an Identity Store endpoint", () => {
  it("ingests while Identity Store denies access, then `enrich` fetches every pending profile", async () => {
    // Prepare: the CLI's own live-directory wiring, pointed at a local Identity Store.
    const server = await startFakeIdentityStore(exported, IDENTITY_STORE_ID);
    closers.push(() => server.close());
    vi.stubEnv("AWS_ENDPOINT_URL_IDENTITYSTORE", server.url);
    const dataDir = join(scratch, "enrich");
    const live = [
      "--data-dir",
      dataDir,
      "--identity-store-id",
      IDENTITY_STORE_ID,
      "--identity-store-region",
      "us-east-1",
    ];
    const archive = join(scratch, "events.ndjson");
    writeFileSync(archive, raw.map((record) => JSON.stringify(record)).join("\n"));
    server.mode = "access-denied";
    // Act
    const ingested = await cli(["ingest", archive, ...live, "--json"]);
    const pendingBefore = await pendingUsers(dataDir);
    server.mode = "healthy";
    const enriched = await cli(["enrich", ...live, "--json"]);
    const again = await cli(["enrich", ...live, "--json"]);
    const firstUser = exported.Users[0];
    const view = await cli(["user", String(firstUser?.UserName), "--data-dir", dataDir, "--json"]);
    // Assess
    expect(ingested.code).toBe(0);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ read: raw.length, stored: reference.counts.stored });
    expect(pendingBefore).toBe(users.length);
    expect(server.calls.DescribeUser).toBeGreaterThanOrEqual(users.length);
    // A live Identity Store lists nobody to refresh (only an export does).
    expect(JSON.parse(enriched.stdout)).toEqual({ retried: users.length, refreshed: 0, stillPending: 0 });
    expect(JSON.parse(again.stdout)).toEqual({ retried: 0, refreshed: 0, stillPending: 0 });
    expect(JSON.parse(view.stdout).user).toMatchObject({ status: "enriched", userName: firstUser?.UserName });
  });
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([]), interactive: false });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

async function pendingUsers(dataDir: string): Promise<number> {
  const runtime = await openRuntime({ dataDir });
  try {
    return (await runtime.store.query(ENRICH_PENDING_PARTITION)).length;
  } finally {
    await runtime.close();
  }
}

describe("a profile write cut short", () => {
  it("leaves no person without their lookup values: the profile, which says they are fetched, is written last", async () => {
    // Prepare: a store whose first write holding a profile stores only the profile, then fails (a process killed
    // in the middle of a BatchWriteItem); and the same person enriched in a clean store, for reference.
    const directory = ExportDirectory.fromJson(synthDirectory({ events: 10, users: 3 }));
    const [user] = synthUsers({ events: 10, users: 3 });
    if (!user) throw new Error("no synthesized user");
    const lookupValues = async (runtime: Runtime) =>
      (await dumpTable(runtime)).filter((item) => item.type === "alias" && item.userId === user.userId);
    const clean = await memoryRuntime(directory);
    await clean.pipeline.enricher.ensure([user]);
    const expected = await lookupValues(clean);
    await clean.close();
    expect(expected.length).toBeGreaterThan(0);
    const runtime = await memoryRuntime(directory);
    try {
      const putAll = runtime.store.putAll.bind(runtime.store);
      let cut = false;
      runtime.store.putAll = async (items) => {
        if (!cut && items.some((item) => item.type === "profile")) {
          cut = true;
          await putAll(items.filter((item) => item.type === "profile"));
          throw new Error("killed in the middle of a write");
        }
        return putAll(items);
      };
      // Act: the write fails; the person is enriched again.
      await expect(runtime.pipeline.enricher.ensure([user])).rejects.toThrow("killed");
      await runtime.pipeline.enricher.ensure([user]);
      // Assess
      expect(await lookupValues(runtime)).toEqual(expected);
    } finally {
      await runtime.close();
    }
  });
});
