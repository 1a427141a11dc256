/**
 * Benchmarks against the floors: `npm run bench` (100,000 events) or `npm run bench -- --events 1000000`.
 * Memory under hostile input: `npm run bench -- --phase hostile` (a 2 GiB gzip bomb, 70 MB of mangled NDJSON).
 *
 * Archives are generated once into .bench/ and reused. Every measurement runs in a fresh child process of this
 * script (`--phase …`), so memory peaks and cold imports belong to that measurement alone. Figures are printed;
 * nothing is asserted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import {
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { CreateTableCommand, type DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import {
  DescribeGroupCommand,
  DescribeUserCommand,
  GetUserIdCommand,
  IdentitystoreClient,
} from "@aws-sdk/client-identitystore";
import { MAX_LINE_BYTES, type ReadItem, readInputs, storedCategory, walk } from "@idc-audit/core/cloudtrail";
import { DEFAULT_DETECTION_CONFIG, evaluateRoleSession } from "@idc-audit/core/detect";
import { ExportDirectory, IdentityStoreDirectory, type UserDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestBatch, ingestStream, type MixedBatch } from "@idc-audit/core/ingest";
import { type NormalizedRecord, normalize, type UserKey } from "@idc-audit/core/normalize";
import type { RoleEvent } from "@idc-audit/core/roles";
import {
  boundHeapGrowth,
  createTableIfMissing,
  EMBEDDED_STORE_SIGNER,
  embeddedStoreOptions,
  heapGrowthFlag,
  openRuntime,
  type Runtime,
  runtimeOnTable,
  startEmbeddedDynamo,
  storeClient,
} from "@idc-audit/core/runtime";
import {
  busyPerson,
  foreignRoleSession,
  hashString,
  hashStringPair,
  IDENTITY_STORE_ID,
  isoSeconds,
  steadySpray,
  synthDirectory,
  synthEvents,
  writeArchive,
} from "@idc-audit/core/synth";
import { type Item, itemKeyString, Keys, mapLimit, TABLE_KEYS, TableStore } from "@idc-audit/core/timeline";
import { mockClient } from "aws-sdk-client-mock";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const benchDir = join(root, ".bench");
const USERS = 200;
const SEED = 1;

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    "ingest-events": { type: "string" },
    phase: { type: "string" },
    archive: { type: "string" },
    limit: { type: "string" },
    store: { type: "string" },
    /** The spray phase: how many people its attributed failures go to in turn (1: a brute force). */
    people: { type: "string" },
    // Ingest phases: run the embedded store in a worker thread of the measured process, as `idc-audit ingest`
    // does, instead of in a process of its own.
    "store-in-process": { type: "boolean", default: false },
    // Ingest phases: write V8 CPU profiles of the store's process into this directory, one per thread
    // (dynalite runs in the owner's worker thread); `node --cpu-prof` on the bench profiles only the measured
    // process.
    "store-cpu-prof": { type: "string" },
    // Also force a full garbage collection every 10 s and record the heap still in use after it (the live
    // heap). Off by default: forced collections change the RSS being measured.
    "live-heap": { type: "boolean", default: false },
    // The normalize phase and its floor, run alternately this many times; medians are compared. The machine's
    // noise (a shared VM) moves a single pair by as much as the gap being measured.
    "normalize-rounds": { type: "string", default: "3" },
    // The Identity Center records' ingest and its same-items floors (one phase), run this many times, each into
    // a fresh store; the median ratio is the figure. One phase moved by ±15% between identical runs.
    "ingest-rounds": { type: "string", default: "3" },
    // Role sessions: records of the archive where role activity outnumbers Identity Center events 10 to 1.
    "role-events": { type: "string", default: "110000" },
    // Run only the role-session measurement (the rest of the bench is unchanged by it).
    "roles-only": { type: "boolean", default: false },
    // The archive layout ingest is measured on: "small" (a handful of records a file, as trails write them
    // every 5 minutes per account and region) or "large" (1,000 records a file).
    "ingest-layout": { type: "string", default: "small" },
    // Ingest phase: leave out every record that is not an Identity Center event (role-session calls and what
    // idc-audit ignores), so the per-event figures are those of the sign-in join alone.
    "identity-center-only": { type: "boolean", default: false },
    // Ingest phases: batches stored side by side (`ingestStream`'s `batchesInFlight`; 1 stores them one after
    // the other, as idc-audit did before 2026-12-02).
    "batches-in-flight": { type: "string" },
    // Ingest phases: records a batch (`ingestStream`'s `batchSize`, the CLI's `--batch-size`; its default when
    // not given).
    "batch-size": { type: "string" },
    // Ingest phase: at the end of the ingest and of each of its same-items floors, print each thread's CPU seconds
    // in it, this process's and the store's, on standard error (`threadCpuMeter`); the ingest's line is one to
    // cut a `--trace-opt` or `--trace-gc` at.
    "thread-cpu": { type: "boolean", default: false },
    // Ingest phase: before the measured ingest, ingest this many of the same records into a table of their own
    // in the same store, by a pipeline of its own, so that the ingest is measured as its same-items floor is
    // (which runs after it): with the process's code compiled and the store's process warm.
    "warm-up": { type: "string", default: "0" },
    // The bench's rounds of the Identity Center records alone: the warm-up of the rounds measured warm.
    "ingest-warm-up": { type: "string", default: "20000" },
  },
});

const MiB = 1024 * 1024;
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * Samples RSS and heap while a phase runs; the OS's own peak RSS is read at the end. With `storePid`, the
 * embedded store's process is sampled too and reported apart.
 */
function memorySampler(storePid?: number) {
  let peakHeap = 0;
  let peakRss = 0;
  let peakAnonymous = 0;
  const samples: number[] = [];
  const anonymousSamples: number[] = [];
  const storeSamples: { rss: number; anonymous: number }[] = [];
  const cpuAtStart = process.cpuUsage();
  const storeCpuAtStart = storePid === undefined ? undefined : processCpuSeconds(storePid);
  const sample = () => {
    const usage = process.memoryUsage();
    const anonymous = processMemory("self")?.anonymous ?? 0;
    if (storePid !== undefined) {
      const store = processMemory(String(storePid));
      if (store) storeSamples.push(store);
    }
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    peakRss = Math.max(peakRss, usage.rss);
    peakAnonymous = Math.max(peakAnonymous, anonymous);
    samples.push(usage.rss);
    anonymousSamples.push(anonymous);
  };
  const timer = setInterval(sample, 100);
  const liveHeap: number[] = [];
  const collect = (globalThis as { gc?: () => void }).gc;
  const liveTimer =
    values["live-heap"] && collect
      ? setInterval(() => {
          collect();
          liveHeap.push(process.memoryUsage().heapUsed);
        }, 10_000)
      : undefined;
  return {
    stop() {
      clearInterval(timer);
      clearInterval(liveTimer);
      sample();
      // RSS at 10%, 50% and 90% of the run: flat means these stay close.
      const at = (share: number, from = samples) =>
        from[Math.min(from.length - 1, Math.floor(from.length * share))] ?? 0;
      return {
        peakRssMiB: round(peakRss / MiB, 0),
        maxRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
        peakHeapMiB: round(peakHeap / MiB, 0),
        rssAt10_50_90MiB: [at(0.1), at(0.5), at(0.9)].map((value) => round(value / MiB, 0)),
        // RSS also counts pages of files mapped into the process (LevelDB maps its table files): the OS takes
        // those back under pressure. Anonymous RSS is the memory the process itself holds (Linux only).
        peakAnonymousRssMiB: round(peakAnonymous / MiB, 0),
        anonymousRssAt10_50_90MiB: [0.1, 0.5, 0.9].map((share) =>
          round(at(share, anonymousSamples) / MiB, 0),
        ),
        cpuSeconds: cpuSecondsSince(cpuAtStart),
        liveHeapAfterGcMiB: liveTimer ? liveHeap.map((bytes) => round(bytes / MiB, 0)) : undefined,
        store:
          storeSamples.length === 0 || storePid === undefined
            ? undefined
            : {
                ...storeMemory(storeSamples),
                cpuSeconds: round((processCpuSeconds(storePid) ?? 0) - (storeCpuAtStart ?? 0)),
              },
      };
    },
  };
}

/** `VmRSS` and `RssAnon` of /proc/<pid>/status in bytes, where there is one (Linux). */
function processMemory(pid: string): { rss: number; anonymous: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
    const rss = kib("VmRSS");
    const anonymous = kib("RssAnon");
    return Number.isNaN(rss) || Number.isNaN(anonymous)
      ? undefined
      : { rss: rss * 1024, anonymous: anonymous * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * User + system CPU seconds a process (or one thread of it, `/proc/<pid>/task/<tid>/stat`) has used, from
 * /proc/<pid>/stat (Linux; 100 ticks a second).
 */
function processCpuSeconds(pid: number | "self", tid?: number): number | undefined {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    // The command name (2nd field) is in parentheses and may hold spaces: count fields after it.
    const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isNaN(ticks) ? undefined : ticks / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each thread of a process by thread id, in the order they were made (thread ids rise). */
function threadCpuSeconds(pid: number | "self"): Map<number, number | undefined> {
  const threads = readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => a - b);
  return new Map(threads.map((tid) => [tid, processCpuSeconds(pid, tid)]));
}

/** The monotonic clock in µs, the clock of V8's CPU profiles (`startTime`). */
const monotonicMicros = () => process.hrtime.bigint() / 1000n;

/**
 * `--thread-cpu`: each thread's CPU seconds over a phase, this process's and the store's (in the order each
 * process made them), on standard error. In this process the first is the main thread, then Node's scheduler of
 * delayed tasks, V8's four workers (TurboFan's compiles, concurrent marking), then libuv's pool and the rest. The
 * lines printed as a phase starts and ends also mark it in a trace printed beside them (`--trace-opt`,
 * `--trace-gc`). `undefined` when the option is not given.
 */
function threadCpuMeter(phase: string, storePid: number | undefined) {
  if (!values["thread-cpu"]) return undefined;
  // With the monotonic clock, a CPU profile is cut at these lines.
  process.stderr.write(`${phase} starts at ${monotonicMicros()} µs\n`);
  const ownAtStart = threadCpuSeconds("self");
  const storeAtStart = storePid === undefined ? undefined : threadCpuSeconds(storePid);
  // Each thread against itself, by id: threads made during the phase started at zero, and one that ended during
  // it is left out rather than shifting the others' places.
  const since = (now: Map<number, number | undefined>, start: Map<number, number | undefined>) =>
    [...now].map(([tid, cpu]) => round((cpu ?? 0) - (start.get(tid) ?? 0)));
  return {
    print(seconds: number): void {
      const own = since(threadCpuSeconds("self"), ownAtStart);
      const workers = own.slice(2, 6).reduce((sum, cpu) => sum + cpu, 0);
      const store =
        storePid === undefined || storeAtStart === undefined
          ? undefined
          : since(threadCpuSeconds(storePid), storeAtStart);
      process.stderr.write(
        `${phase} ended at ${monotonicMicros()} µs after ${round(seconds)} s; CPU seconds by thread in it: main ${own[0]}, V8's workers ` +
          `${round(workers)} (${own.slice(2, 6).join(", ")}), all ${own.join(", ")}` +
          `${store ? `; the store's process: ${store.join(", ")} (${round(store.reduce((sum, cpu) => sum + cpu, 0))} in all)` : ""}\n`,
      );
    },
  };
}

function storeMemory(samples: { rss: number; anonymous: number }[]) {
  const at = (share: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * share))];
  return {
    peakRssMiB: round(Math.max(...samples.map((sample) => sample.rss)) / MiB, 0),
    peakAnonymousRssMiB: round(Math.max(...samples.map((sample) => sample.anonymous)) / MiB, 0),
    rssAt10_50_90MiB: [0.1, 0.5, 0.9].map((share) => round((at(share)?.rss ?? 0) / MiB, 0)),
    anonymousRssAt10_50_90MiB: [0.1, 0.5, 0.9].map((share) => round((at(share)?.anonymous ?? 0) / MiB, 0)),
  };
}

/**
 * The embedded store (the same dynalite, with the options `startEmbeddedDynamo` gives it) in a process of its
 * own, so that what LevelDB holds is measured apart from idc-audit. In AWS the store is DynamoDB, not this.
 */
async function startStoreProcess(
  dir: string,
): Promise<{ endpoint: string; pid: number; close(): Promise<void> }> {
  const path = join(dir, "dynamodb");
  await mkdir(path, { recursive: true });
  const dynalitePath = createRequire(import.meta.url).resolve("dynalite");
  const source = `
const dynalite = require(process.argv[1]);
const server = dynalite(JSON.parse(process.argv[2]));
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("disconnect", () => server.close(() => process.exit(0)));
`;
  const proc: ChildProcess = spawn(
    process.execPath,
    [...storeProcessFlags(), "-e", source, dynalitePath, JSON.stringify(embeddedStoreOptions(path))],
    {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  const [message] = (await once(proc, "message")) as [{ port: number }];
  return {
    endpoint: `http://127.0.0.1:${message.port}`,
    pid: proc.pid ?? 0,
    close: async () => {
      const exited = once(proc, "exit");
      proc.disconnect();
      await exited;
    },
  };
}

/**
 * The owner of a data dir in a process of its own, as `idc-audit serve` is while `idc-audit ingest` runs: the
 * product's `SharedStore` serves the embedded store (dynalite in its worker thread) on loopback
 * (`scripts/bench-store-owner.ts`), and the measured process opens the same data dir as its client, with the
 * product's client of the embedded store (its token, its routing, its unsigned requests). What the store
 * costs is then that process's CPU and memory. If it ends before `close`, this process ends too: its client
 * would take the store over and the store's work would be counted as idc-audit's.
 */
async function startStoreOwner(dir: string): Promise<{ pid: number; close(): Promise<void> }> {
  const proc: ChildProcess = spawn(
    process.execPath,
    [...storeProcessFlags(), ...loaderFlags(), join(root, "scripts", "bench-store-owner.ts"), dir],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const [message] = (await Promise.race([once(proc, "message"), once(proc, "exit")])) as [unknown, unknown];
  if (message !== "serving") {
    throw new Error(`the store's owner for ${dir} exited (code ${String(message)}) before serving it`);
  }
  let closing = false;
  proc.once("exit", (code, signal) => {
    if (closing) return;
    console.error(`the store's process (${dir}) ended during the measurement (${code ?? signal}): stopping`);
    process.exit(1);
  });
  return {
    pid: proc.pid ?? 0,
    close: async () => {
      closing = true;
      const exited = once(proc, "exit");
      proc.disconnect();
      await exited;
    },
  };
}

/** A store process's node flags: `--store-cpu-prof`'s profiling, and the heap growth idc-audit sets. */
function storeProcessFlags(): string[] {
  const profile = values["store-cpu-prof"];
  const heapGrowth = heapGrowthFlag(process.execArgv);
  return [
    ...(profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${resolve(profile)}`]),
    ...(heapGrowth ? [heapGrowth] : []),
  ];
}

/** The loader this script runs under (`--import tsx`), and none of its other flags (a profile of it, say). */
function loaderFlags(): string[] {
  return process.execArgv.flatMap((arg, index, args) =>
    arg === "--import" ? [arg, args[index + 1] ?? ""] : arg.startsWith("--import=") ? [arg] : [],
  );
}

/** Opens the product's runtime on a fresh embedded store: in this process's worker, or in a process of its own. */
async function openBenchRuntime(store: string, directory?: UserDirectory) {
  rmSync(store, { recursive: true, force: true });
  const owner = values["store-in-process"] ? undefined : await startStoreOwner(store);
  const runtime = await openRuntime({ dataDir: store, ...(directory ? { directory } : {}) });
  return {
    runtime,
    storePid: owner?.pid,
    close: async () => {
      await runtime.close();
      await owner?.close();
    },
  };
}

/** The records an Identity Center service wrote (the catalogue's sources and names); the rest are skipped. */
async function* identityCenterOnly(items: AsyncIterable<ReadItem>): AsyncGenerator<ReadItem> {
  for await (const item of items) {
    if (item.kind !== "record") continue;
    const { eventSource, eventName } = item.record;
    if (storedCategory(String(eventSource), String(eventName)) !== undefined) yield item;
  }
}

async function* limited<T>(items: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  let count = 0;
  for await (const item of items) {
    if (count >= limit) return;
    count += 1;
    yield item;
  }
}

const credentialOf = (record: Record<string, unknown>): unknown =>
  (record.userIdentity as Record<string, unknown> | undefined)?.credentialId ??
  (record.additionalEventData as Record<string, unknown> | undefined)?.["identitycenter:CredentialId"];

// ---------------------------------------------------------------------------------------------------------------
// Phases (each in its own process)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Floor of reading: every file read, gunzipped and `JSON.parse`d, records counted. Files are read with
 * `fs.promises.readFile`, or with `readFileSync` (`sync`), as idc-audit reads the files of a folder: on small
 * files the asynchronous calls per file are most of the floor's cost.
 */
async function phaseParseFloor(archive: string, sync = false) {
  const memory = memorySampler();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let records = 0;
  for await (const file of walk(archive)) {
    const bytes = sync ? readFileSync(file) : await readFile(file);
    const document = JSON.parse(gunzipSync(bytes).toString("utf8")) as { Records: unknown[] };
    records += document.Records.length;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    records,
    seconds: round(seconds),
    cpuSeconds: cpuSecondsSince(cpu),
    perSecond: round(records / seconds, 0),
    memory: memory.stop(),
  };
}

/** User + system CPU time of this process since `start`: the work done, whatever the disk waits were. */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return round((used.user + used.system) / 1e6);
}

/** The product's reading and normalization: reader (read-ahead, proto-guarded parse) + schema + normalize. */
async function phaseNormalize(archive: string) {
  const memory = memorySampler();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const counts = { records: 0, audited: 0, roleSession: 0, ignored: 0, rejected: 0 };
  for await (const item of readInputs([archive])) {
    counts.records += 1;
    const classified = classifyItem(item);
    if (classified.kind === "audited") counts.audited += 1;
    // Another role's call is a chain candidate: only the store can tell; normalize counts it as ignored.
    else if (classified.kind === "role") counts.roleSession += 1;
    else if (classified.kind === "ignored" || classified.kind === "chain-candidate") counts.ignored += 1;
    else counts.rejected += 1;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    ...counts,
    seconds: round(seconds),
    cpuSeconds: cpuSecondsSince(cpu),
    perSecond: round(counts.records / seconds, 0),
    memory: memory.stop(),
  };
}

/**
 * An Identity Store client answered locally from the synthetic directory (with `roleRatio`, the role archive's,
 * its re-hire included), counting calls per user and per name looked up.
 */
function localIdentityStore(roleRatio = 0) {
  const directory = synthDirectory({ events: 1, users: USERS, seed: SEED, roleRatio });
  const client = new IdentitystoreClient({
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const mock = mockClient(client);
  const described = new Map<string, number>();
  const looked = new Map<string, number>();
  const groupsDescribed = new Map<string, number>();
  // Every group a directory change names exists, with a made-up name: the calls are what is measured.
  mock.on(DescribeGroupCommand).callsFake((input: { GroupId: string }) => {
    groupsDescribed.set(input.GroupId, (groupsDescribed.get(input.GroupId) ?? 0) + 1);
    return {
      GroupId: input.GroupId,
      IdentityStoreId: IDENTITY_STORE_ID,
      DisplayName: `group ${input.GroupId}`,
    };
  });
  mock.on(DescribeUserCommand).callsFake((input: { UserId: string }) => {
    described.set(input.UserId, (described.get(input.UserId) ?? 0) + 1);
    const user = directory.Users.find((entry) => entry.UserId === input.UserId);
    if (!user) throw Object.assign(new Error("USER not found"), { name: "ResourceNotFoundException" });
    return { ...user, IdentityStoreId: IDENTITY_STORE_ID };
  });
  mock
    .on(GetUserIdCommand)
    .callsFake(
      (input: {
        AlternateIdentifier: { UniqueAttribute: { AttributePath: string; AttributeValue: string } };
      }) => {
        const { AttributePath: path, AttributeValue: value } = input.AlternateIdentifier.UniqueAttribute;
        const name = value.toLowerCase();
        const key = path === "userName" ? name : `${path}:${name}`;
        looked.set(key, (looked.get(key) ?? 0) + 1);
        // Identity Store answers one user per email: the first listed, as GetUserId does.
        const user = directory.Users.find((entry) =>
          path === "userName"
            ? String(entry.UserName).toLowerCase() === name
            : ((entry.Emails ?? []) as { Value: string }[]).some(
                (email) => email.Value.toLowerCase() === name,
              ),
        );
        return user ? { UserId: user.UserId, IdentityStoreId: IDENTITY_STORE_ID } : {};
      },
    );
  return { client, described, looked, groupsDescribed };
}

/** `--batches-in-flight` and `--batch-size`, as `ingestStream` takes them (its defaults when not given). */
function batchOptions(): { batchesInFlight?: number; batchSize?: number } {
  const inFlight = values["batches-in-flight"];
  const size = values["batch-size"];
  return {
    ...(inFlight === undefined ? {} : { batchesInFlight: Number(inFlight) }),
    ...(size === undefined ? {} : { batchSize: Number(size) }),
  };
}

/** `--batches-in-flight` and `--batch-size` as given to this script, to hand on to a phase's process. */
function batchArgs(): string[] {
  const inFlight = values["batches-in-flight"];
  const size = values["batch-size"];
  return [
    ...(inFlight === undefined ? [] : ["--batches-in-flight", inFlight]),
    ...(size === undefined ? [] : ["--batch-size", size]),
  ];
}

/** The ingest phase's directory: the real `IdentityStoreDirectory` over the synthetic directory's local client. */
function ingestDirectory() {
  const identity = localIdentityStore();
  // Pacing is Identity Store's quota, not the pipeline's cost: allow far more than 10/s so it is not measured.
  const directory = new IdentityStoreDirectory(identity.client, {
    identityStoreId: IDENTITY_STORE_ID,
    requestsPerSecond: 100_000,
  });
  return { identity, directory };
}

/** The ingest phase's records: the archive's, or its Identity Center records alone (`--identity-center-only`). */
function ingestSource(archive: string): AsyncIterable<ReadItem> {
  return values["identity-center-only"] ? identityCenterOnly(readInputs([archive])) : readInputs([archive]);
}

/** The product's ingest: CLI path (reader → normalize → pipeline) into the embedded store on disk. */
async function phaseIngest(archive: string, limit: number, store: string) {
  const { identity, directory } = ingestDirectory();
  const { runtime, storePid, close } = await openBenchRuntime(store, directory);
  const warmUp = await warmUpIngest(runtime.store, archive, Number(values["warm-up"]));
  const writeOrder = recordWriteOrder(runtime.store);
  const memory = memorySampler(storePid);
  const threads = threadCpuMeter("the ingest", storePid);
  const start = performance.now();
  // Identity Center events stored, apart from role-session events (onBatch is told of the former only).
  let identityCenterStored = 0;
  const counts = await ingestStream(limited(ingestSource(archive), limit), runtime.pipeline, {
    ...batchOptions(),
    onBatch: (_counts, stored) => {
      identityCenterStored += stored.length;
    },
  });
  const seconds = (performance.now() - start) / 1000;
  threads?.print(seconds);
  const mem = memory.stop();
  const written = writeOrder.stop();
  const describes = [...identity.described.values()].reduce((sum, value) => sum + value, 0);
  const lookups = [...identity.looked.values()].reduce((sum, value) => sum + value, 0);
  // The ingest's own requests, before the second pass below adds its duplicate check.
  const stats = { ...runtime.store.stats };
  // A second "process" (a new pipeline, empty memory cache) over the same table calls Identity Store no more.
  const { Pipeline } = await import("@idc-audit/core/ingest");
  const second = new Pipeline(runtime.store, directory);
  const before = describes;
  const groupDescribes = [...identity.groupsDescribed.values()].reduce((sum, value) => sum + value, 0);
  await ingestStream(limited(readInputs([archive]), Math.min(limit, 20_000)), second);
  const secondDescribes = [...identity.described.values()].reduce((sum, value) => sum + value, 0) - before;
  const sameItems = await sameItemsFloor(runtime.store, stats.itemsWritten, storePid, written);
  const sameItemsSorted = await sameItemsFloor(runtime.store, stats.itemsWritten, storePid);
  await close();
  return {
    counts,
    identityCenterStored,
    warmUp,
    sameItems,
    sameItemsSorted,
    seconds: round(seconds),
    perSecond: round(counts.read / seconds, 0),
    storedPerSecond: round(counts.stored / seconds, 0),
    requests: stats,
    itemsByType: Object.fromEntries([...writeOrder.byType].sort((a, b) => b[1] - a[1])),
    identityStore: {
      describeUserCalls: describes,
      uniqueUsersDescribed: identity.described.size,
      describeCallsPerUser: round(describes / Math.max(1, identity.described.size), 3),
      getUserIdCalls: lookups,
      uniqueNamesLookedUp: identity.looked.size,
      describeCallsBySecondProcess: secondDescribes,
      describeGroupCalls: groupDescribes,
      uniqueGroupsDescribed: identity.groupsDescribed.size,
    },
    memory: mem,
  };
}

/**
 * `--warm-up`: the first `records` of the archive ingested into a table of their own in the bench's store, by a
 * pipeline and a directory of their own (nothing of them is cached for the measured ingest), as the measured
 * ingest would (`runtimeOnTable`). V8 compiles the pipeline's and the SDK's functions while they first run (the
 * ingest's first seconds, docs/benchmarks.md), and the same-items floor, run after the ingest in the same process,
 * finds the SDK's compiled: after a warm-up, the ingest is measured as the floor is.
 */
async function warmUpIngest(measured: TableStore, archive: string, records: number) {
  if (!Number.isInteger(records) || records < 0)
    throw new Error("--warm-up must be a whole number of records");
  if (records === 0) return undefined;
  const table = new TableStore(measured.client, { tableName: `${measured.tableName}-warm-up` });
  await createTableIfMissing(table);
  const warm = await runtimeOnTable(
    table,
    ingestDirectory().directory,
    {},
    "the warm-up table",
    async () => {},
  );
  // The measured store's writes are recorded by replacing two of its methods (`recordWriteOrder`), which gives
  // it a hidden class of its own; the warm-up's store gets the same, so that code V8 compiled during the warm-up
  // does not meet the measured store as a class it has not seen ("wrong map", docs/benchmarks.md).
  const recorder = recordWriteOrder(table);
  const start = performance.now();
  const counts = await ingestStream(limited(ingestSource(archive), records), warm.pipeline, batchOptions());
  const seconds = round((performance.now() - start) / 1000);
  recorder.stop();
  return { records: counts.read, seconds };
}

/**
 * A key as a 53-bit number (two seeds of the synthetic archive's 32-bit hash of `pk`, a NUL and `sk`): 8 bytes an
 * item written. It runs on every item the ingest writes, inside the time measured: no key string is built.
 */
function keyHash(item: Item): number {
  return (hashStringPair(item.pk, item.sk, 1) & 0x1fffff) * 2 ** 32 + hashStringPair(item.pk, item.sk, 2);
}

/**
 * Records the keys a store writes, in the order its `putAll` and `insertAll` write them (each call's keys once,
 * as they send them; an insert refused because its key existed is recorded too: it cost the store a write's
 * request), until `stop()`. Hashes only, in a typed array, so the ingesting process's memory is measured
 * with no more than 8 bytes an item written added to it.
 */
function recordWriteOrder(store: TableStore): { stop(): Float64Array; byType: Map<string, number> } {
  let order = new Float64Array(1 << 16);
  let length = 0;
  // Items written by type (each call's keys once, as `putAll` sends them).
  const byType = new Map<string, number>();
  const putAll = store.putAll;
  const insertAll = store.insertAll;
  const record = (items: readonly Item[]) => {
    const keys = new Set<number>();
    for (const item of items) {
      const key = keyHash(item);
      if (keys.has(key)) continue;
      keys.add(key);
      const type = String(item.type ?? "untyped");
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
    if (length + keys.size > order.length) {
      const grown = new Float64Array(Math.max(order.length * 2, length + keys.size));
      grown.set(order.subarray(0, length));
      order = grown;
    }
    for (const key of keys) order[length++] = key;
  };
  store.putAll = async function (items: readonly Item[]) {
    record(items);
    return putAll.call(this, items);
  };
  // Workflow heads are items written too (an insert each); the floor writes them as it writes every item.
  store.insertAll = async function (items: readonly Item[]) {
    record(items);
    return insertAll.call(this, items);
  };
  return {
    stop() {
      store.putAll = putAll;
      store.insertAll = insertAll;
      return order.slice(0, length);
    },
    byType,
  };
}

/**
 * Floor of ingest, the same items: as many items as the ingest wrote, the ones it stored (same sizes), written
 * with `BatchWriteItem` into a fresh table of the same store process, right after the ingest. What is left
 * between the two is the cost of attribution on top of the writes it needs: reads, joins, detections, reading
 * and normalizing the archive.
 *
 * With `writeOrder` (the ingest's, `recordWriteOrder`), the items are written in that order, a key written
 * more than once written again at each place: the writes the ingest needed, as it needed them. Without it, in
 * the order a scan returns them (the store's key order, every item once, then again from the first ones until
 * the count is the ingest's): the floor printed before 2026-12-01 19:00Z. LevelDB takes writes in key order
 * faster than the same writes in any other order, and an ingest writes in event order, which is no order of
 * the store's keys: that floor was the faster one by a fifth (docs/benchmarks.md).
 */
async function sameItemsFloor(
  source: TableStore,
  itemsWritten: number,
  storePid: number | undefined,
  writeOrder?: Float64Array,
) {
  const stored: Item[] = [];
  for await (const page of source.scan()) for (const item of page) stored.push(item);
  let items: Item[];
  if (writeOrder) {
    const byKey = new Map<number, Item>();
    for (const item of stored) byKey.set(keyHash(item), item);
    items = [];
    // A key written and later deleted (a pending enrichment) is not in the table: its writes are not replayed.
    for (const key of writeOrder) {
      const item = byKey.get(key);
      if (item) items.push(item);
    }
  } else {
    items = stored.slice(0, itemsWritten);
    for (let index = 0; items.length < itemsWritten && stored.length > 0; index += 1)
      items.push(stored[index % stored.length] as Item);
  }
  const suffix = writeOrder ? "same-items-floor" : "same-items-floor-sorted";
  const floor = new TableStore(source.client, { tableName: `${source.tableName}-${suffix}` });
  await floor.ensureTable();
  const memory = memorySampler(storePid);
  const threads = threadCpuMeter(
    `the ${writeOrder ? "same-items floor" : "same-items floor in key order"}`,
    storePid,
  );
  const start = performance.now();
  // Chunks of up to 500 with no key twice in one chunk: putAll keeps one of each key per call (as DynamoDB
  // needs), and every write is to be made.
  let chunk: Item[] = [];
  let keys = new Set<string>();
  for (const item of items) {
    const key = itemKeyString(item);
    if (chunk.length === 500 || keys.has(key)) {
      await floor.putAll(chunk);
      chunk = [];
      keys = new Set();
    }
    chunk.push(item);
    keys.add(key);
  }
  if (chunk.length > 0) await floor.putAll(chunk);
  const seconds = (performance.now() - start) / 1000;
  threads?.print(seconds);
  const mem = memory.stop();
  const bytes = items.reduce((sum, item) => sum + JSON.stringify(item).length, 0);
  return {
    items: floor.stats.itemsWritten,
    itemsInIngestTable: stored.length,
    batchWrites: floor.stats.batchWrites,
    meanItemBytes: round(bytes / Math.max(1, items.length), 0),
    seconds: round(seconds),
    cpuSeconds: mem.cpuSeconds,
    storeCpuSeconds: mem.store?.cpuSeconds,
  };
}

/** Floor of ingest: one `BatchWriteItem`ed item per event, as large as the event, into the same kind of store. */
async function phaseIngestFloor(archive: string, limit: number, store: string) {
  const items: Item[] = [];
  let audited = 0;
  for await (const item of limited(readInputs([archive]), limit)) {
    const classified = classifyItem(item);
    if (classified.kind !== "audited") continue;
    audited += 1;
    const event = classified.record.event;
    items.push({ ...Keys.event(event.eventId), data: JSON.stringify(event) });
  }
  const { runtime, storePid, close } = await openBenchRuntime(store);
  const memory = memorySampler(storePid);
  const start = performance.now();
  const chunk = 500;
  for (let offset = 0; offset < items.length; offset += chunk)
    await runtime.store.putAll(items.slice(offset, offset + chunk));
  const seconds = (performance.now() - start) / 1000;
  const mem = memory.stop();
  const bytes = items.reduce((sum, item) => sum + JSON.stringify(item).length, 0);
  await close();
  return {
    items: audited,
    meanItemBytes: round(bytes / Math.max(1, audited), 0),
    seconds: round(seconds),
    perSecond: round(audited / seconds, 0),
    memory: mem,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile input (`--phase hostile`): memory of an ingest of a folder built to break the reader
// ---------------------------------------------------------------------------------------------------------------

const GiB = 1024 * MiB;

/**
 * The hostile folder of issue 15, at its full size, built once under .bench/hostile: a 2 GiB gzip bomb of
 * concatenated members (three records, then a `{"Records":[…` document that never ends), 70 MB of NDJSON of
 * mangled events (300,000-character fields, 20,000-deep nesting, fields longer than a record may be), a
 * 60 MiB log file (the largest kind of document held whole) and clean small files.
 */
async function ensureHostileFolder(): Promise<string> {
  const dir = join(benchDir, "hostile");
  const done = join(dir, "COMPLETE.txt");
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  process.stdout.write(`generating the hostile folder into ${dir} … `);
  const clean = await writeArchive(join(dir, "clean"), {
    events: 2000,
    users: USERS,
    seed: SEED + 1,
    recordsPerFile: LAYOUTS.small,
  });
  const records = [...synthEvents({ events: 2000, users: USERS, seed: SEED + 2 })];
  const texts = records.map((record) => JSON.stringify(record));

  // The bomb: members gunzip as one stream; each block member is ~0.1 % of what it inflates to.
  const one = `${texts[0]},`;
  const block = Buffer.from(one.repeat(Math.ceil((16 * MiB) / one.length))).subarray(0, 16 * MiB);
  const member = gzipSync(block, { level: 9 });
  const bomb = createWriteStream(join(dir, "bomb.json.gz"));
  bomb.write(gzipSync(`${texts.slice(0, 3).join("\n")}\n{"Records":[`));
  for (let inflated = 0; inflated < 2 * GiB; inflated += block.length) bomb.write(member);
  bomb.end();
  await once(bomb, "finish");

  // Mangled NDJSON: per cycle, clean events and events each mangled one way.
  const deep = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
  const ndjson = createWriteStream(join(dir, "mangled.ndjson"));
  let bytes = 0;
  for (let cycle = 0; bytes < 70_000_000; cycle += 1) {
    const base = records[cycle % records.length] as Record<string, unknown>;
    const id = (n: number) => `00000000-0000-4000-8000-${String(cycle * 10 + n).padStart(12, "0")}`;
    const lines = [
      ...texts.slice((cycle * 5) % 1900, ((cycle * 5) % 1900) + 5),
      JSON.stringify({ ...base, eventID: id(1), userAgent: "u".repeat(300_000) }),
      JSON.stringify({ ...base, eventID: id(2), eventName: "n".repeat(300_000) }),
      JSON.stringify({ ...base, eventID: id(3), requestParameters: { note: "r".repeat(300_000) } }),
      JSON.stringify({ ...base, eventID: id(4), requestParameters: "DEEP" }).replace('"DEEP"', deep(20_000)),
      JSON.stringify({ ...base, eventID: id(5), userAgent: "x".repeat(MAX_LINE_BYTES + 500_000) }),
    ];
    const text = `${lines.join("\n")}\n`;
    bytes += Buffer.byteLength(text);
    if (!ndjson.write(text)) await once(ndjson, "drain");
  }
  ndjson.end();
  await once(ndjson, "finish");

  // The largest kind of document read whole: a ~60 MiB log file of real-shaped records.
  const big: string[] = [];
  let bigBytes = 0;
  for (const record of synthEvents({ events: 200_000, users: USERS, seed: SEED + 3 })) {
    const text = JSON.stringify(record);
    if (bigBytes + text.length > 60 * MiB) break;
    big.push(text);
    bigBytes += text.length + 1;
  }
  writeFileSync(join(dir, "large-log-file.json.gz"), gzipSync(`{"Records":[${big.join(",")}]}`));
  writeFileSync(done, `${JSON.stringify({ cleanFiles: clean.files, largeLogRecords: big.length })}\n`);
  process.stdout.write("done\n");
  return dir;
}

/** Ingest of the hostile folder into the embedded store: counts, why records were cut, memory. */
async function phaseHostileIngest(folder: string, store: string) {
  const { runtime, storePid, close } = await openBenchRuntime(store);
  const memory = memorySampler(storePid);
  const start = performance.now();
  const reasons = new Map<string, number>();
  const counts = await ingestStream(readInputs([folder]), runtime.pipeline, {
    ...batchOptions(),
    onRejected: (rejection) => {
      // Sizes and positions vary; the kind of cut is what is counted.
      const kind = rejection.reason.replace(/\d+/g, "N");
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const mem = memory.stop();
  await close();
  return { counts, seconds: round(seconds), reasons: Object.fromEntries(reasons), memory: mem };
}

/**
 * A password spray that never pauses (`steadySpray`: a failure every 2 s from one address, half for `people`
 * people, half for names that match nobody; with one person, a brute force on them), ingested as `ingest`
 * does, its store in a process of its own: seconds, and the alerts with the failures they count. Each episode
 * rule's episode is the whole attack; judging it whole at every batch made the time grow with the square of the
 * failures (docs/benchmarks.md).
 */
async function phaseSpray(failures: number, store: string, people: number) {
  const spray = steadySpray({
    failures,
    everyMs: 2000,
    users: people,
    seed: 17,
    sourceIp: "203.0.113.66",
    start: "2026-11-20T08:00:00Z",
  });
  const file = join(benchDir, `spray-${failures}.ndjson`);
  writeFileSync(file, `${spray.records.map((record) => JSON.stringify(record)).join("\n")}\n`);
  const { runtime, close } = await openBenchRuntime(store, ExportDirectory.fromJson(spray.directory));
  try {
    const start = performance.now();
    const counts = await ingestStream(readInputs([file]), runtime.pipeline, batchOptions());
    const seconds = (performance.now() - start) / 1000;
    const alerts = (await runtime.alerts()).map(({ rule, count }) => ({ rule, count }));
    return { seconds: round(seconds), stored: counts.stored, alerts, expected: spray.expected };
  } finally {
    await close();
    rmSync(file, { force: true });
  }
}

async function steadySprays(people: number, heading: string, rules: readonly string[]) {
  const runs: string[] = [];
  let counted = "";
  for (const failures of [10_000, 40_000]) {
    const result = await child<Awaited<ReturnType<typeof phaseSpray>>>([
      "--phase",
      "spray",
      "--limit",
      String(failures),
      "--people",
      String(people),
      "--store",
      join(benchDir, "store-spray"),
      ...batchArgs(),
    ]);
    runs.push(
      `${failures} failures ${result.seconds} s (${round((result.seconds * 1000) / failures, 2)} ms a failure)`,
    );
    const countOf = (rule: string) =>
      result.alerts
        .filter((alert) => alert.rule === rule)
        .map((alert) => alert.count)
        .join("+") || "none";
    // Each rule's alerts, and the failures the attack's generator says it should count: those attributed to the
    // people (its `passwordSpray`; with one person, their brute force), or the names that match nobody.
    const expected = (rule: string) =>
      rule === "unknown-user-names" ? result.expected.unknownUserNames : result.expected.passwordSpray;
    counted = `${rules.map((rule) => `${rule} ${countOf(rule)} of ${expected(rule)}`).join(", ")}; ${result.alerts.length} alerts`;
  }
  console.log(heading);
  console.log(`  ingested: ${runs.join(", ")}`);
  console.log(`  the last one's alerts, failures counted: ${counted}`);
  console.log("");
}

/**
 * An attack of a few seconds every day (40 failures 2 s apart at 08:00 from one address, half for `people`
 * people, half for names that match nobody: two alerts a day), delivered day after day in batches of ten
 * records as the ingest queue hands them over, its store in a process of its own. For the first and the last ten
 * days: milliseconds a day, and the items read of the subject's alerts, their index and paging markers. Judging
 * a subject read every alert it ever had until 2026-12-04 (docs/benchmarks.md).
 */
async function phaseDaily(days: number, store: string, people: number) {
  const dayMs = 24 * 60 * 60 * 1000;
  const spray = steadySpray({
    failures: 40 * days,
    everyMs: 2000,
    users: people,
    seed: 19,
    sourceIp: "203.0.113.67",
    start: "2026-01-01T08:00:00Z",
  });
  const { runtime, close } = await openBenchRuntime(store, ExportDirectory.fromJson(spray.directory));
  try {
    let read = 0;
    const counted = (items: Item[]) => {
      for (const item of items) if (item.pk.startsWith("ALERT") || item.pk.startsWith("PAGED")) read += 1;
      return items;
    };
    const query = runtime.store.query.bind(runtime.store);
    runtime.store.query = async (pk, options) => counted(await query(pk, options));
    const getAll = runtime.store.getAll.bind(runtime.store);
    runtime.store.getAll = async (keys) => counted(await getAll(keys));
    const perDay: { ms: number; read: number }[] = [];
    for (let day = 0; day < days; day += 1) {
      const records = spray.records.slice(day * 80, day * 80 + 80).flatMap((record) => {
        const moved = {
          ...record,
          eventTime: isoSeconds(Date.parse(String(record.eventTime)) + day * dayMs),
        };
        const result = normalize(moved);
        return result.status === "audited" ? [result.record] : [];
      });
      read = 0;
      const start = performance.now();
      for (let offset = 0; offset < records.length; offset += 10)
        await runtime.pipeline.ingest(records.slice(offset, offset + 10));
      perDay.push({ ms: performance.now() - start, read });
    }
    const mean = (slice: { ms: number; read: number }[]) => ({
      ms: round(slice.reduce((sum, day) => sum + day.ms, 0) / slice.length, 1),
      read: round(slice.reduce((sum, day) => sum + day.read, 0) / slice.length, 1),
    });
    return {
      first: mean(perDay.slice(0, 10)),
      last: mean(perDay.slice(-10)),
      alerts: (await runtime.alerts()).length,
      expectedAlerts: 2 * days,
    };
  } finally {
    await close();
  }
}

async function dailyAttacks(days: number) {
  console.log(
    `an attack of a few seconds every day for ${days} days (40 failures 2 s apart from one address; batches of 10 records):`,
  );
  for (const [people, who] of [
    [25, "an address, half its failures for 25 people"],
    [1, "a person (and the address)"],
  ] as const) {
    const result = await child<Awaited<ReturnType<typeof phaseDaily>>>([
      "--phase",
      "daily",
      "--limit",
      String(days),
      "--people",
      String(people),
      "--store",
      join(benchDir, "store-daily"),
    ]);
    console.log(
      `  ${who}: first 10 days ${result.first.ms} ms and ${result.first.read} alert items read a day, last 10 days ` +
        `${result.last.ms} ms and ${result.last.read}; ${result.alerts} alerts of ${result.expectedAlerts}`,
    );
  }
  console.log("");
}

/** Synthetic records as one delivery: each is stored (a record the pipeline would not store is an error). */
function batchOf(records: readonly Record<string, unknown>[]): MixedBatch {
  const audited: NormalizedRecord[] = [];
  const roleEvents: RoleEvent[] = [];
  for (const record of records) {
    const classified = classifyItem({ kind: "record", record, location: "bench" });
    if (classified.kind === "audited") audited.push(classified.record);
    else if (classified.kind === "role") roleEvents.push(classified.event);
    else throw new Error(`a synthetic record was ${classified.kind}`);
  }
  return { records: audited, roleEvents };
}

/**
 * A role session whose credentials are used from an address its portal session never used (stolen, or copied to
 * a build host), a call every 2 s, delivered ten calls a batch as the ingest queue hands them over, its store in
 * a process of its own: the items read of the role session's partition, a batch, at growing call counts, and the
 * alert's count. Until 2026-12-04 each batch read the session whole, twice (docs/benchmarks.md).
 */
async function phaseRoleForeign(calls: number, store: string) {
  const session = foreignRoleSession({
    calls,
    everyMs: 2000,
    seed: 23,
    sourceIp: "192.0.2.77",
    start: "2026-11-20T08:00:00Z",
  });
  const { runtime, close } = await openBenchRuntime(store, ExportDirectory.fromJson(session.directory));
  try {
    let read = 0;
    const query = runtime.store.query.bind(runtime.store);
    runtime.store.query = async (pk, options) => {
      const items = await query(pk, options);
      if (pk.startsWith("ROLESESSION#")) read += items.length;
      return items;
    };
    await ingestBatch(runtime.pipeline, batchOf(session.signIn));
    const [issue, ...calls] = session.roleSession;
    await ingestBatch(runtime.pipeline, batchOf([issue as Record<string, unknown>]));
    const readAt: Record<string, number> = {};
    let total = 0;
    const start = performance.now();
    for (let offset = 0; offset < calls.length; offset += 10) {
      read = 0;
      await ingestBatch(runtime.pipeline, batchOf(calls.slice(offset, offset + 10)));
      total += read;
      const stored = Math.min(calls.length, offset + 10);
      if (stored % 500 === 0) readAt[stored] = read;
    }
    const seconds = (performance.now() - start) / 1000;
    const alerts = (await runtime.alerts()).map(({ rule, count }) => ({ rule, count }));
    return { calls: calls.length, seconds: round(seconds), readAt, total, alerts };
  } finally {
    await close();
  }
}

const REPORT_PAGE = 20;

/**
 * What a person's report costs once their role activity is stored: `idc-audit user` (every role session read
 * whole) and the API's pages of `REPORT_PAGE` (each reads the events of the role sessions it lists only).
 */
async function userReportCosts(runtime: Runtime, user: UserKey) {
  const { route } = await import("@idc-audit/core/api");
  const measured = async <T>(work: () => Promise<T>) => {
    const before = { ...runtime.store.stats };
    const start = performance.now();
    const result = await work();
    return {
      result,
      seconds: round((performance.now() - start) / 1000, 3),
      queries: runtime.store.stats.queries - before.queries,
      itemsRead: runtime.store.stats.itemsRead - before.itemsRead,
    };
  };
  const whole = await measured(() => runtime.roleQueries.userWithRoles(user));
  const pages: Awaited<ReturnType<typeof measured>>[] = [];
  let cursor: string | undefined;
  do {
    const page = await measured(() =>
      route(
        {
          method: "GET",
          path: `/users/${user.userId}`,
          query: {
            identityStoreId: user.identityStoreId,
            limit: String(REPORT_PAGE),
            ...(cursor ? { cursor } : {}),
          },
        },
        runtime,
      ),
    );
    if (page.result.status !== 200) throw new Error(`/users/${user.userId}: ${page.result.body}`);
    cursor = (JSON.parse(page.result.body) as { nextCursor: string | null }).nextCursor ?? undefined;
    pages.push(page);
  } while (cursor !== undefined);
  const report = whole.result;
  const events = (views: readonly { eventCount: number }[]) =>
    views.reduce((sum, view) => sum + view.eventCount, 0);
  return {
    sessions: report.sessions.length,
    roleSessions: report.roleSessionCount,
    roleSessionEvents:
      events(report.sessions.flatMap((session) => session.roleSessions)) +
      events(report.unlinkedRoleSessions),
    whole: { seconds: whole.seconds, queries: whole.queries, itemsRead: whole.itemsRead },
    pages: pages.map(({ seconds, queries, itemsRead }) => ({ seconds, queries, itemsRead })),
  };
}

/**
 * The busy person of `userReports`: `days` of role sessions of 200 calls, every fifth day's portal session left
 * out of the archive.
 */
async function phaseUserReport(days: number, store: string) {
  const person = busyPerson({ days, calls: 200, unlinkedEvery: 5, seed: 29, start: "2026-03-02T08:00:00Z" });
  const { runtime, close } = await openBenchRuntime(store, ExportDirectory.fromJson(person.directory));
  try {
    for (let offset = 0; offset < person.identityCenter.length; offset += 2000)
      await ingestBatch(runtime.pipeline, batchOf(person.identityCenter.slice(offset, offset + 2000)));
    for (let offset = 0; offset < person.roleSessions.length; offset += 2000)
      await ingestBatch(runtime.pipeline, batchOf(person.roleSessions.slice(offset, offset + 2000)));
    // Awaited here: the store closes in `finally`.
    return await userReportCosts(runtime, { identityStoreId: IDENTITY_STORE_ID, userId: person.userId });
  } finally {
    await close();
  }
}

async function userReports() {
  console.log(
    `a person's report (one person, a sign-in and a role session of 200 calls a day, every fifth day's portal session outside the archive; the API's pages of ${REPORT_PAGE} sessions):`,
  );
  for (const days of [30, 180]) {
    const result = await child<Awaited<ReturnType<typeof phaseUserReport>>>([
      "--phase",
      "user-report",
      "--limit",
      String(days),
      "--store",
      join(benchDir, "store-user-report"),
    ]);
    const sum = (key: "seconds" | "queries" | "itemsRead") =>
      round(
        result.pages.reduce((total, page) => total + page[key], 0),
        3,
      );
    const most = Math.max(...result.pages.map((page) => page.itemsRead));
    console.log(
      `  ${days} days (${result.sessions} portal sessions, ${result.roleSessions} role sessions, ${result.roleSessionEvents} role-session events): idc-audit user ${result.whole.itemsRead} items read in ${result.whole.queries} queries, ${result.whole.seconds} s; the API's ${result.pages.length} pages ${sum("itemsRead")} items in ${sum("queries")} queries, ${sum("seconds")} s; the most a page read ${most} items`,
    );
  }
  console.log("");
}

async function roleForeignSessions() {
  console.log(
    "a role session used from an address its portal session never used (a call every 2 s, batches of 10 calls):",
  );
  for (const calls of [2000, 10_000]) {
    const result = await child<Awaited<ReturnType<typeof phaseRoleForeign>>>([
      "--phase",
      "role-foreign",
      "--limit",
      String(calls),
      "--store",
      join(benchDir, "store-role-foreign"),
    ]);
    const at = Object.entries(result.readAt)
      .filter(([stored]) => Number(stored) % 2000 === 0 || Number(stored) === 500)
      .map(([stored, read]) => `${read} at ${stored}`)
      .join(", ");
    const counted = result.alerts.map((alert) => `${alert.rule} ${alert.count}`).join(", ") || "none";
    console.log(
      `  ${result.calls} calls: ${result.seconds} s; items of the session read by a batch: ${at}; ${result.total} in all; alerts: ${counted} of ${result.calls}`,
    );
  }
  console.log("");
}

/** `storeInProcess`: the store in a worker of the ingesting process, as `idc-audit ingest` runs it. */
async function hostile(storeInProcess = Boolean(values["store-in-process"])) {
  const folder = await ensureHostileFolder();
  const storePlacement = storeInProcess ? ["--store-in-process"] : [];
  const result = await child<Awaited<ReturnType<typeof phaseHostileIngest>>>([
    "--phase",
    "hostile-ingest",
    "--archive",
    folder,
    "--store",
    join(benchDir, "store-hostile"),
    ...storePlacement,
    ...batchArgs(),
  ]);
  const { counts, memory } = result;
  const accounted = counts.stored + counts.duplicates + counts.ignored + counts.rejected;
  const where = storeInProcess
    ? "the store in a worker of the same process"
    : "the store in a process of its own";
  console.log(`hostile folder (${folder}; ${where}): ingest in ${result.seconds} s`);
  console.log(
    `  ${counts.read} read = ${counts.stored} stored + ${counts.duplicates} duplicates + ${counts.ignored} ignored + ${counts.rejected} rejected${accounted === counts.read ? "" : ` (${accounted}: NOT ACCOUNTED)`}`,
  );
  for (const [reason, count] of Object.entries(result.reasons)) console.log(`  ${count} × ${reason}`);
  console.log(
    `  memory of the ingesting process: peak RSS ${memory.maxRssMiB} MiB (target < 512 MB = 488 MiB), peak heap ${memory.peakHeapMiB} MiB, anonymous RSS peak ${memory.peakAnonymousRssMiB} MiB`,
  );
  if (memory.store)
    console.log(`  memory of the embedded store's process: peak RSS ${memory.store.peakRssMiB} MiB`);
}

/**
 * A client of an embedded store at `endpoint`, set up as the product's client is (`storeClient`); it signs its
 * requests unless given the embedded store's `signer`.
 */
function localStoreClient(
  endpoint: string,
  signing: Pick<DynamoDBClientConfig, "signer"> = {},
): DynamoDBClient {
  return storeClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    ...signing,
  });
}

/**
 * What signing costs the store's client: CPU of the measuring process per `BatchWriteItem` of 25 items, sent
 * by the product's client to a server that answers at once (a process of its own, so that only the client is
 * measured), with SigV4 (the client of a table in AWS or at an endpoint) and with the embedded store's fixed
 * headers (`EMBEDDED_STORE_SIGNER`). Nine passes of 25,000 items each, alternating which goes first, the first
 * two left out (compiling); medians printed. Not part of `npm run bench`: `--phase request-signing`.
 */
async function phaseRequestSigning() {
  const server = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => { r.writeHead(200, { "content-type": "application/x-amz-json-1.0" }); r.end('{"UnprocessedItems":{}}'); }); });
s.listen(0, "127.0.0.1", () => process.send(s.address().port));
process.on("disconnect", () => process.exit(0));`,
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const [port] = (await Promise.race([once(server, "message"), once(server, "exit")])) as [unknown];
  if (typeof port !== "number") throw new Error(`the answering server exited (code ${String(port)})`);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients = {
    sigV4: localStoreClient(endpoint),
    embedded: localStoreClient(endpoint, { signer: EMBEDDED_STORE_SIGNER }),
  };
  // An event's item and a key-only one per event: about the mean size of the ingest's items (561 B, most of
  // them indexes and links without the event's JSON).
  const items: Item[] = [...synthEvents({ events: 12_500, users: USERS, seed: SEED })].flatMap((event, n) => [
    { ...Keys.event(`bench-${n}`), data: JSON.stringify(event) },
    { pk: `BENCH#${n % 200}`, sk: `${n}`, type: "bench-link" },
  ]);
  const passes = 9;
  const cpuMsPerRequest: Record<keyof typeof clients, number[]> = { sigV4: [], embedded: [] };
  for (let pass = 0; pass < passes; pass += 1) {
    // Each first in turn: what one leaves to collect is not always charged to the other.
    const order = pass % 2 === 0 ? (["sigV4", "embedded"] as const) : (["embedded", "sigV4"] as const);
    for (const name of order) {
      const store = new TableStore(clients[name], { tableName: "request-signing" });
      const cpu = process.cpuUsage();
      for (let offset = 0; offset < items.length; offset += 500)
        await store.putAll(items.slice(offset, offset + 500));
      const used = process.cpuUsage(cpu);
      if (pass >= 2) cpuMsPerRequest[name].push((used.user + used.system) / 1000 / store.stats.batchWrites);
    }
  }
  server.disconnect();
  for (const client of Object.values(clients)) client.destroy();
  return {
    itemsPerRound: items.length,
    meanItemBytes: round(items.reduce((sum, item) => sum + JSON.stringify(item).length, 0) / items.length, 0),
    passes: passes - 2,
    cpuMsPerRequest: {
      sigV4: cpuMsPerRequest.sigV4.map((value) => round(value, 3)),
      embedded: cpuMsPerRequest.embedded.map((value) => round(value, 3)),
    },
    medianCpuMsPerRequest: {
      sigV4: round(median(cpuMsPerRequest.sigV4), 3),
      embedded: round(median(cpuMsPerRequest.embedded), 3),
    },
  };
}

/**
 * Do reads of absent keys make the embedded store's LevelDB compact more? The same writes (`putAll`, chunks of
 * 500 items of about the ingest's size, keys in no order; 240,000 unless `--limit`) into a fresh store process,
 * with and without a `BatchGetItem` of 80 absent keys after each chunk, twice each; the compactions are read from
 * LevelDB's own `LOG`. Not part of `npm run bench`: `--phase seek-compaction --store <scratch dir>`.
 *
 * LevelDB charges a point read that looks in more than one table file to the first file it looked in, and
 * compacts a file once it has been charged about once per 16 KB of its size ("seek compaction"): a key that is
 * nowhere is looked for in every level. The ingest reads such keys (the detector's role-day marks, the
 * workflow heads' inserts); its floor reads none (docs/benchmarks.md, 2026-12-03).
 */
async function phaseSeekCompaction(scratch: string, limit: number) {
  const items = Number.isFinite(limit) ? limit : 240_000;
  const chunkSize = 500;
  const absentPerChunk = 80;
  const payload = "x".repeat(520);
  const key = (n: number, seed: number) => hashString(String(n), seed).toString(16).padStart(8, "0");
  const runs: {
    absentKeysRead: number;
    compactions: number;
    compactedMB: number;
    seconds: number;
    storeCpuSeconds: number;
  }[] = [];
  for (let pass = 0; pass < 2; pass += 1)
    for (const absent of [0, absentPerChunk]) {
      const dir = join(scratch, "seek-compaction");
      rmSync(dir, { recursive: true, force: true });
      const storeProcess = await startStoreProcess(dir);
      const client = localStoreClient(storeProcess.endpoint);
      try {
        const store = new TableStore(client, { tableName: "seek-compaction" });
        await store.ensureTable();
        const cpuBefore = processCpuSeconds(storeProcess.pid) ?? 0;
        const start = performance.now();
        let absentKeysRead = 0;
        for (let first = 0; first < items; first += chunkSize) {
          const chunk: Item[] = [];
          for (let n = first; n < first + chunkSize; n += 1)
            chunk.push({ pk: `P#${key(n, 1)}`, sk: `S#${key(n, 2)}`, type: "test", data: payload });
          await store.putAll(chunk);
          if (absent === 0) continue;
          const keys = Array.from({ length: absent }, (_, k) => ({
            pk: `P#${key(first + k, 3)}`,
            sk: "S#absent",
          }));
          const found = await store.getAll(keys);
          if (found.length > 0) throw new Error(`${found.length} keys read as absent were found`);
          absentKeysRead += keys.length;
        }
        const seconds = (performance.now() - start) / 1000;
        const storeCpuSeconds = (processCpuSeconds(storeProcess.pid) ?? 0) - cpuBefore;
        let compactions = 0;
        let bytes = 0;
        for (const line of readFileSync(join(dir, "dynamodb", "LOG"), "utf8").split("\n")) {
          const compacted = /Compacted .* => (\d+) bytes/.exec(line);
          if (!compacted) continue;
          compactions += 1;
          bytes += Number(compacted[1]);
        }
        runs.push({
          absentKeysRead,
          compactions,
          compactedMB: round(bytes / 1e6, 0),
          seconds: round(seconds),
          storeCpuSeconds: round(storeCpuSeconds),
        });
      } finally {
        client.destroy();
        await storeProcess.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  return { itemsWritten: items, runs };
}

/**
 * What the embedded store charges per item, whatever writes it: 50,000 items of the floor's kind, the same
 * number of small (key-only) items, and the floor's items in a table with three global secondary indexes
 * (the usual DynamoDB way to look one item up by session, user and address), each into a fresh store.
 */
async function phaseStoreCosts(scratch: string) {
  const count = 50_000;
  const payload = "x".repeat(700);
  const kinds = [
    {
      name: "item of the floor's size (700 B payload)",
      indexes: 0,
      item: (n: number) => ({ data: payload, n }),
    },
    { name: "key-only item", indexes: 0, item: (n: number) => ({ n }) },
    {
      name: "item of the floor's size in a table with 3 GSIs, indexed by all 3",
      indexes: 3,
      item: (n: number) => ({
        data: payload,
        g1pk: `SESSION#${n % 5000}`,
        g1sk: `${n}`,
        g2pk: `USER#${n % 200}`,
        g2sk: `${n}`,
        g3pk: `ADDRESS#${n % 250}`,
        g3sk: `${n}`,
      }),
    },
  ];
  const results: { kind: string; msPerItem: number }[] = [];
  let reads:
    | { msPerQuery: number; cpuMsPerQuery: number; msPerKeyRead: number; cpuMsPerConditionalPut: number }
    | undefined;
  for (const kind of kinds) {
    const dir = join(scratch, `store-costs-${kind.indexes}-${results.length}`);
    rmSync(dir, { recursive: true, force: true });
    const embedded = await startEmbeddedDynamo(dir);
    const client = localStoreClient(embedded.endpoint);
    const indexNames = ["g1", "g2", "g3"].slice(0, kind.indexes);
    await client.send(
      new CreateTableCommand({
        TableName: "store-costs",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          ...TABLE_KEYS.AttributeDefinitions,
          ...indexNames.flatMap((index) => [
            { AttributeName: `${index}pk`, AttributeType: "S" as const },
            { AttributeName: `${index}sk`, AttributeType: "S" as const },
          ]),
        ],
        KeySchema: [...TABLE_KEYS.KeySchema],
        ...(indexNames.length > 0
          ? {
              GlobalSecondaryIndexes: indexNames.map((index) => ({
                IndexName: `${index}-index`,
                KeySchema: [
                  { AttributeName: `${index}pk`, KeyType: "HASH" as const },
                  { AttributeName: `${index}sk`, KeyType: "RANGE" as const },
                ],
                Projection: { ProjectionType: "ALL" as const },
              })),
            }
          : {}),
      }),
    );
    const store = new TableStore(client, { tableName: "store-costs" });
    const items: Item[] = Array.from({ length: count }, (_, n) => ({
      pk: `EVENT#v1#${n}`,
      sk: "EVENT",
      ...kind.item(n),
    }));
    const start = performance.now();
    for (let offset = 0; offset < count; offset += 500) await store.putAll(items.slice(offset, offset + 500));
    results.push({ kind: kind.name, msPerItem: round((performance.now() - start) / count, 4) });
    if (reads === undefined) {
      // Reads in the first store, as the pipeline makes them: strongly consistent `Query`s of one partition,
      // eight at a time (its workflow joins), and `BatchGetItem` of known keys (its duplicate check).
      const queries = 5_000;
      const queryStart = performance.now();
      // CPU of this whole process: the client's work per request and the store's, which runs in its worker.
      const queryCpuStart = process.cpuUsage();
      await mapLimit(items.slice(0, queries), 8, (item) => store.query(item.pk));
      const msPerQuery = (performance.now() - queryStart) / queries;
      const queryCpu = process.cpuUsage(queryCpuStart);
      const cpuMsPerQuery = (queryCpu.user + queryCpu.system) / 1000 / queries;
      const getStart = performance.now();
      for (let offset = 0; offset < count; offset += 500)
        await store.getAll(items.slice(offset, offset + 500).map(({ pk, sk }) => ({ pk, sk })));
      const msPerKeyRead = (performance.now() - getStart) / count;
      // The cheapest request that can tell one writer from another on one key: a put that fails if the key
      // exists (each key put twice: new, then already there). Its price is what any join must pay per partition
      // that two batches may share, as long as the store charges per request (docs/benchmarks.md).
      const putCpuStart = process.cpuUsage();
      await mapLimit(items.slice(0, queries), 8, async (item) => {
        const conditional = { ...item, sk: "CONDITIONAL" };
        await store.putIfAbsent(conditional);
        await store.putIfAbsent(conditional);
      });
      const putCpu = process.cpuUsage(putCpuStart);
      reads = {
        msPerQuery: round(msPerQuery, 4),
        cpuMsPerQuery: round(cpuMsPerQuery, 4),
        msPerKeyRead: round(msPerKeyRead, 4),
        cpuMsPerConditionalPut: round((putCpu.user + putCpu.system) / 1000 / (2 * queries), 4),
      };
    }
    client.destroy();
    await embedded.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { writes: results, reads };
}

/** The credential id with the most events among the first `limit` records (what the ingest phase stored). */
async function busiestSession(archive: string, limit: number): Promise<string | undefined> {
  const sessions = new Map<string, number>();
  for await (const item of limited(readInputs([archive]), limit)) {
    const classified = classifyItem(item);
    const credentialId = classified.kind === "audited" ? classified.record.event.credentialId : undefined;
    if (credentialId) sessions.set(credentialId, (sessions.get(credentialId) ?? 0) + 1);
  }
  return [...sessions].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** A session timeline from the store against scanning the archive for the same credential id. */
async function phaseQuery(archive: string, store: string, limit: number) {
  // Found before anything is timed, and here rather than while ingesting, so that the ingest phase's memory
  // is idc-audit's alone.
  const credentialId = await busiestSession(archive, limit);
  if (credentialId === undefined) return undefined;
  const runtime = await openRuntime({ dataDir: store });
  const queryTimes: number[] = [];
  let events = 0;
  for (let run = 0; run < 7; run += 1) {
    const start = performance.now();
    const timeline = await runtime.queries.session(credentialId);
    queryTimes.push(performance.now() - start);
    events = timeline.events.length;
  }
  await runtime.close();
  const scanStart = performance.now();
  let matches = 0;
  let records = 0;
  for await (const file of walk(archive)) {
    const document = JSON.parse(gunzipSync(await readFile(file)).toString("utf8")) as {
      Records: Record<string, unknown>[];
    };
    for (const record of document.Records) {
      records += 1;
      if (credentialOf(record) === credentialId) matches += 1;
    }
  }
  const scanMs = performance.now() - scanStart;
  const median = [...queryTimes].sort((a, b) => a - b)[3] ?? 0;
  return {
    credentialId,
    timelineEvents: events,
    queryMedianMs: round(median),
    queryFirstMs: round(queryTimes[0] ?? 0),
    scanRecords: records,
    scanMatches: matches,
    scanMs: round(scanMs, 0),
  };
}

/** Cold import in a fresh plain `node` process (no loader), as Lambda starts: milliseconds. */
function coldImport(specifiers: string[]): Promise<number> {
  const code = `const t = performance.now(); ${specifiers.map((specifier) => `await import(${JSON.stringify(specifier)});`).join(" ")} console.log(performance.now() - t);`;
  return runNode(["--input-type=module", "-e", code]).then(({ code: exit, out }) => {
    if (exit !== 0) throw new Error(out);
    return round(Number(out.trim()));
  });
}

/** Runs `node` with these arguments in a fresh process and collects what it prints. */
function runNode(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    proc.on("error", reject);
    proc.on("close", (code) => resolvePromise({ code, out }));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------------------------

async function child<T>(args: string[], nodeArgs: string[] = process.execArgv): Promise<T> {
  const { code, out } = await runNode([...nodeArgs, fileURLToPath(import.meta.url), ...args]);
  if (code !== 0) throw new Error(`phase ${args.join(" ")} exited ${code}: ${out}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "") as T;
}

/**
 * Archive layouts, by most records per log file. Real trails write a file per account, region and 5 minutes,
 * most with a handful of records ("small": at most 28 a file, ~16 on average, as files close at the end of a
 * day); "large" is 1,000-record files, where per-file costs hardly show.
 */
const LAYOUTS = { large: 1000, small: 28 } as const;
type Layout = keyof typeof LAYOUTS;

function layoutOf(value: string | undefined): Layout {
  if (value === "large" || value === "small") return value;
  throw new Error(`unknown layout ${value}: large or small`);
}

async function ensureArchive(events: number, layout: Layout = "large"): Promise<string> {
  const name = layout === "large" ? `archive-${events}` : `archive-${events}-${layout}-${LAYOUTS[layout]}`;
  const archive = join(benchDir, name);
  const done = join(archive, "COMPLETE.txt");
  if (existsSync(done)) return archive;
  rmSync(archive, { recursive: true, force: true });
  await mkdir(archive, { recursive: true });
  const start = performance.now();
  process.stdout.write(`generating ${events} events into ${archive} … `);
  const result = await writeArchive(archive, {
    events,
    users: USERS,
    seed: SEED,
    recordsPerFile: LAYOUTS[layout],
  });
  writeFileSync(done, `${JSON.stringify(result)}\n`);
  process.stdout.write(`${result.files} files in ${round((performance.now() - start) / 1000, 1)} s\n`);
  return archive;
}

/** Files of an archive, as `ensureArchive` recorded them. */
function archiveFiles(archive: string): string | undefined {
  return [...readFileSync(join(archive, "COMPLETE.txt"), "utf8").matchAll(/"files":(\d+)/g)][0]?.[1];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The normalize phase against its floor on one archive, alternating rounds, medians printed. */
async function measureNormalize(archive: string, layout: Layout, rounds: number) {
  const floors: Awaited<ReturnType<typeof phaseParseFloor>>[] = [];
  const syncFloors: Awaited<ReturnType<typeof phaseParseFloor>>[] = [];
  const normalizes: Awaited<ReturnType<typeof phaseNormalize>>[] = [];
  for (let run = 0; run < rounds; run += 1) {
    floors.push(await child(["--phase", "parse-floor", "--archive", archive]));
    syncFloors.push(await child(["--phase", "parse-floor-sync", "--archive", archive]));
    normalizes.push(await child(["--phase", "normalize", "--archive", archive]));
  }
  // The run of median time stands for each side; its memory figures are that run's.
  const byTime = <T extends { seconds: number }>(runs: T[]) =>
    [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)] as T;
  const parseFloor = byTime(floors);
  const normalized = byTime(normalizes);
  console.log(
    `normalize, ${layout} files (${LAYOUTS[layout]} records a file at most, ${archiveFiles(archive)} files; ${rounds} alternating runs of each, the median run shown)`,
  );
  console.log(
    `  floor  read+gunzip+JSON.parse: ${parseFloor.records} records in ${parseFloor.seconds} s = ${parseFloor.perSecond}/s, peak RSS ${parseFloor.memory.maxRssMiB} MiB`,
  );
  console.log(
    `  idc-audit read+normalize:      ${normalized.records} records in ${normalized.seconds} s = ${normalized.perSecond}/s (${normalized.audited} audited, ${normalized.roleSession} role-session, ${normalized.ignored} ignored, ${normalized.rejected} rejected)`,
  );
  console.log(`  ratio: ${round(normalized.seconds / parseFloor.seconds)}x the floor (target <= 1.3x)`);
  if (rounds > 1) {
    const pairs = floors.map((floorRun, index) => {
      const ours = normalizes[index] as (typeof normalizes)[number];
      return `${ours.seconds}/${floorRun.seconds} s = ${round(ours.seconds / floorRun.seconds)}x`;
    });
    console.log(`  each round (idc-audit/floor): ${pairs.join("; ")}`);
  }
  // CPU time compares the work alone, whatever the machine's other tenants took.
  const floorCpu = median(floors.map((run) => run.cpuSeconds));
  const normalizeCpu = median(normalizes.map((run) => run.cpuSeconds));
  console.log(
    `  CPU time (median): floor ${floorCpu} s, idc-audit ${normalizeCpu} s: ${round(normalizeCpu / floorCpu)}x`,
  );
  const syncFloor = byTime(syncFloors);
  const syncFloorCpu = median(syncFloors.map((run) => run.cpuSeconds));
  console.log(
    `  floor with readFileSync (as idc-audit reads a folder's files): ${syncFloor.seconds} s, CPU ${syncFloorCpu} s; idc-audit: ${round(normalized.seconds / syncFloor.seconds)}x its time, ${round(normalizeCpu / syncFloorCpu)}x its CPU`,
  );
  const peakRss = Math.max(...normalizes.map((run) => run.memory.maxRssMiB));
  console.log(
    `  memory while normalizing: peak RSS ${peakRss} MiB over the ${rounds} runs; median run: peak heap ${normalized.memory.peakHeapMiB} MiB, RSS at 10/50/90% ${normalized.memory.rssAt10_50_90MiB.join("/")} MiB (target: flat, < 300 MB)\n`,
  );
}

async function orchestrate() {
  const events = Number(values.events);
  const ingestEvents = Number(values["ingest-events"] ?? Math.min(events, 100_000));
  const archives: Record<Layout, string> = {
    large: await ensureArchive(events, "large"),
    small: await ensureArchive(events, "small"),
  };
  const ingestLayout = layoutOf(values["ingest-layout"]);
  const archive = archives[ingestLayout];
  const store = join(benchDir, `store-${events}-${ingestLayout}-${ingestEvents}`);
  const floorStore = join(benchDir, `floor-store-${ingestEvents}`);
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(`machine: ${cpus().length} CPUs (${cpu}), ${round(totalmem() / 1024 ** 3, 1)} GiB`);
  // Every phase and the store's process are spawned with process.execPath: all figures below are on this Node.
  console.log(`node: ${process.version} (V8 ${process.versions.v8}), for every figure below`);
  console.log(
    `archives: ${events} events in ${archiveFiles(archives.large)} large files and in ${archiveFiles(archives.small)} small files; ingest measured on the first ${ingestEvents} records of the ${ingestLayout} files\n`,
  );

  const rounds = Number(values["normalize-rounds"]);
  // Odd, so that the median is one run's figure.
  if (!Number.isInteger(rounds) || rounds < 1 || rounds % 2 === 0)
    throw new Error("--normalize-rounds must be an odd positive whole number");
  for (const layout of Object.keys(LAYOUTS) as Layout[])
    await measureNormalize(archives[layout], layout, rounds);

  const storePlacement = values["store-in-process"] ? ["--store-in-process"] : [];
  const inFlight = values["batches-in-flight"];
  const floor = await child<Awaited<ReturnType<typeof phaseIngestFloor>>>([
    "--phase",
    "ingest-floor",
    "--archive",
    archive,
    "--limit",
    String(ingestEvents),
    "--store",
    floorStore,
    ...storePlacement,
  ]);
  // The ingest phase on the archive's first records, into a store of its own.
  const ingestPhase = (storeDir: string, ...options: string[]) =>
    child<Awaited<ReturnType<typeof phaseIngest>>>([
      "--phase",
      "ingest",
      "--archive",
      archive,
      "--limit",
      String(ingestEvents),
      "--store",
      storeDir,
      ...options,
      ...storePlacement,
      ...batchArgs(),
    ]);
  const ingest = await ingestPhase(store);
  // The embedded store (leveldown) has been seen to die of a segmentation fault in this phase, once a run of
  // it had been killed before: say so and go on, rather than lose the ingest figures measured above.
  const costs = await child<Awaited<ReturnType<typeof phaseStoreCosts>>>([
    "--phase",
    "store-costs",
    "--store",
    benchDir,
  ]).catch((error: unknown) => {
    console.log(`store-costs phase failed: ${error instanceof Error ? error.message : String(error)}`);
    return { writes: [], reads: undefined };
  });
  console.log("what the embedded store charges per item written (BatchWriteItem, 50,000 items each)");
  for (const cost of costs.writes) console.log(`  ${cost.kind}: ${cost.msPerItem} ms`);
  if (costs.reads)
    console.log(
      `  and per read: a strongly consistent Query of a one-item partition (8 at a time) ${costs.reads.msPerQuery} ms (CPU, client and store: ${costs.reads.cpuMsPerQuery} ms); a key read with BatchGetItem ${costs.reads.msPerKeyRead} ms; CPU per conditional PutItem (client and store) ${costs.reads.cpuMsPerConditionalPut} ms`,
    );
  console.log("");
  console.log(
    `ingest into the embedded store (first ${ingestEvents} records; batches of ${values["batch-size"] ?? "2,000 (the default)"} stored ${inFlight ?? "2 (the default)"} at a time)`,
  );
  console.log(
    `  floor  BatchWriteItem, 1 item/event (${floor.meanItemBytes} B mean): ${floor.items} items in ${floor.seconds} s = ${floor.perSecond}/s`,
  );
  console.log(
    `  idc-audit ingest: ${ingest.counts.read} read, ${ingest.counts.stored} stored in ${ingest.seconds} s = ${ingest.storedPerSecond} stored/s (${ingest.perSecond} read/s)`,
  );
  const same = ingest.sameItems;
  const sorted = ingest.sameItemsSorted;
  console.log(
    `  floor  BatchWriteItem, the same items in the ingest's write order (${same.items} items, ${same.meanItemBytes} B mean, ${same.itemsInIngestTable} distinct; same store process, fresh table, right after): ${same.seconds} s, CPU ${same.cpuSeconds} s + store ${same.storeCpuSeconds ?? "-"} s`,
  );
  console.log(
    `  floor  BatchWriteItem, the same items in the store's key order (the floor before 2026-12-01 19:00Z; ${sorted.items} items): ${sorted.seconds} s, CPU ${sorted.cpuSeconds} s + store ${sorted.storeCpuSeconds ?? "-"} s`,
  );
  console.log(
    `  ratio to the same-items floor: ${round(ingest.seconds / same.seconds)}x (target <= 1.5x); in key order ${round(ingest.seconds / sorted.seconds)}x; to the 1 item/event floor: ${round(ingest.seconds / floor.seconds)}x`,
  );
  // The archive's AssumeRoleWithSAML records are role-session events since issue 13: items and requests are
  // those of both kinds, divided by the Identity Center events (the role sessions' own cost is measured apart,
  // in the role-session part below).
  const identityCenterEvents = Math.max(1, ingest.identityCenterStored);
  const roleSessionEvents = ingest.counts.stored - ingest.identityCenterStored;
  console.log(
    `  per stored Identity Center event (${ingest.identityCenterStored}; with them ${roleSessionEvents} role-session events, whose writes and reads count here too): ${round(ingest.requests.itemsWritten / identityCenterEvents, 3)} items written, ${round(ingest.requests.queries / identityCenterEvents, 3)} Query requests (the targets, <= 2.6 and <= 0.15, are for the Identity Center records alone, below)`,
  );
  console.log(
    `  requests: ${JSON.stringify(ingest.requests)}; items written per stored event: ${round(ingest.requests.itemsWritten / Math.max(1, ingest.counts.stored))}`,
  );
  const where = values["store-in-process"]
    ? "the store in a worker thread of the same process"
    : "the store in a process of its own";
  console.log(
    `  CPU (${where}): floor ${floor.memory.cpuSeconds} s + store ${floor.memory.store?.cpuSeconds ?? "-"} s; idc-audit ${ingest.memory.cpuSeconds} s + store ${ingest.memory.store?.cpuSeconds ?? "-"} s`,
  );
  console.log(
    `  memory of the ingesting process: peak RSS ${ingest.memory.maxRssMiB} MiB, peak heap ${ingest.memory.peakHeapMiB} MiB, RSS at 10/50/90% ${ingest.memory.rssAt10_50_90MiB.join("/")} MiB; anonymous RSS peak ${ingest.memory.peakAnonymousRssMiB} MiB, at 10/50/90% ${ingest.memory.anonymousRssAt10_50_90MiB.join("/")} MiB (target: flat, < 300 MB)`,
  );
  const storeMemory = ingest.memory.store;
  if (storeMemory)
    console.log(
      `  memory of the embedded store's process (dynalite + LevelDB; DynamoDB in AWS): peak RSS ${storeMemory.peakRssMiB} MiB, RSS at 10/50/90% ${storeMemory.rssAt10_50_90MiB.join("/")} MiB; anonymous RSS peak ${storeMemory.peakAnonymousRssMiB} MiB, at 10/50/90% ${storeMemory.anonymousRssAt10_50_90MiB.join("/")} MiB`,
    );
  // The same measurement on the Identity Center records alone: the per-event targets were set before the
  // archive's role-session calls were stored, and are the sign-in join's.
  const ingestRounds = Number(values["ingest-rounds"]);
  if (!Number.isInteger(ingestRounds) || ingestRounds < 1 || ingestRounds % 2 === 0)
    throw new Error("--ingest-rounds must be an odd positive whole number");
  // Each round twice, alternately: after a warm-up (the figure judged against the target: the floor is always
  // measured after the ingest, in a process and a store the ingest warmed) and cold (the ingest the first thing its
  // process does, the figure printed before 2026-12-05; docs/benchmarks.md).
  const warmUp = Number(values["ingest-warm-up"]);
  const warmRounds: Awaited<ReturnType<typeof phaseIngest>>[] = [];
  const coldRounds: Awaited<ReturnType<typeof phaseIngest>>[] = [];
  for (let index = 0; index < ingestRounds; index += 1) {
    const aloneStore = `${store}-identity-center-only`;
    warmRounds.push(await ingestPhase(aloneStore, "--identity-center-only", "--warm-up", String(warmUp)));
    coldRounds.push(await ingestPhase(aloneStore, "--identity-center-only"));
  }
  const ratioOf = (phase: (typeof warmRounds)[number]) => phase.seconds / phase.sameItems.seconds;
  // The median round's figures, all of one run.
  const medianOf = (rounds: typeof warmRounds) =>
    [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[
      Math.floor(rounds.length / 2)
    ] as (typeof rounds)[number];
  const alone = medianOf(warmRounds);
  const cold = medianOf(coldRounds);
  const aloneEvents = Math.max(1, alone.identityCenterStored);
  const eachRound = (rounds: typeof warmRounds) =>
    rounds
      .map((phase) => `${phase.seconds}/${phase.sameItems.seconds} s = ${round(ratioOf(phase))}x`)
      .join("; ");
  console.log(
    `  the Identity Center records alone (role-session calls left out; first ${ingestEvents} of them), after a warm-up of ${alone.warmUp?.records ?? 0} of them into a table of its own (${alone.warmUp?.seconds ?? 0} s), the median of ${ingestRounds} rounds by ratio: ${alone.counts.stored} stored in ${alone.seconds} s; the same-items floor ${alone.sameItems.seconds} s: ratio ${round(ratioOf(alone))}x (target <= 1.5x; in key order ${alone.sameItemsSorted.seconds} s, ${round(alone.seconds / alone.sameItemsSorted.seconds)}x), CPU ${alone.memory.cpuSeconds} s + store ${alone.memory.store?.cpuSeconds ?? "-"} s against ${alone.sameItems.cpuSeconds} s + ${alone.sameItems.storeCpuSeconds ?? "-"} s`,
  );
  console.log(`    each round (ingest/floor): ${eachRound(warmRounds)}`);
  console.log(
    `    cold (the ingest the first thing its process does; the floor, after it, warm), alternating with the above: ${cold.seconds} s against ${cold.sameItems.seconds} s, ratio ${round(ratioOf(cold))}x, CPU ${cold.memory.cpuSeconds} s + store ${cold.memory.store?.cpuSeconds ?? "-"} s; each round ${eachRound(coldRounds)}`,
  );
  console.log(
    `    items written by type: ${Object.entries(alone.itemsByType)
      .map(([type, count]) => `${type} ${count}`)
      .join(", ")}`,
  );
  console.log(
    `    per stored Identity Center event: ${round(alone.requests.itemsWritten / aloneEvents, 4)} items written (${alone.requests.itemsWritten} items; target <= 2.6), ${round(alone.requests.queries / aloneEvents, 3)} Query requests (target <= 0.15), ${round(alone.requests.batchGets / aloneEvents, 3)} BatchGetItem`,
  );
  const identity = ingest.identityStore;
  console.log(
    `  Identity Store: ${identity.describeUserCalls} DescribeUser for ${identity.uniqueUsersDescribed} users = ${identity.describeCallsPerUser}/user (target 1); ${identity.getUserIdCalls} GetUserId for ${identity.uniqueNamesLookedUp} names; a second process on the same table: ${identity.describeCallsBySecondProcess} DescribeUser; ${identity.describeGroupCalls} DescribeGroup for ${identity.uniqueGroupsDescribed} groups (target 1/group)\n`,
  );

  const query = await child<Awaited<ReturnType<typeof phaseQuery>>>([
    "--phase",
    "query",
    "--archive",
    archive,
    "--store",
    store,
    "--limit",
    String(ingestEvents),
  ]);
  if (query) {
    console.log(
      `session timeline (busiest session, ${query.timelineEvents} events, store of ${ingest.counts.stored} events)`,
    );
    console.log(`  query: median ${query.queryMedianMs} ms of 7 (first ${query.queryFirstMs} ms)`);
    console.log(
      `  scan of the whole archive (${query.scanRecords} records, ${query.scanMatches} match): ${query.scanMs} ms`,
    );
    console.log(`  the scan takes ${round(query.scanMs / query.queryMedianMs, 0)}x the query\n`);
  }

  const bundle = join(root, "dist/functions/ingest.mjs");
  const bytes = statSync(bundle).size;
  const gzipped = gzipSync(readFileSync(bundle)).length;
  const handlerTimes: number[] = [];
  const sdkTimes: number[] = [];
  for (let run = 0; run < 7; run += 1) {
    handlerTimes.push(await coldImport([pathToFileURL(bundle).href]));
    sdkTimes.push(
      await coldImport([
        "@aws-sdk/client-dynamodb",
        "@aws-sdk/util-dynamodb",
        "@aws-sdk/client-identitystore",
      ]),
    );
  }
  console.log("ingest Lambda");
  console.log(
    `  bundle dist/functions/ingest.mjs: ${round(bytes / 1024, 1)} KiB minified, ${round(gzipped / 1024, 1)} KiB gzipped (target <= 400 KB)`,
  );
  console.log(
    `  cold import, median of 7 fresh processes: handler ${median(handlerTimes)} ms, bare SDK clients (client-dynamodb, util-dynamodb, client-identitystore) ${median(sdkTimes)} ms, ratio ${round(median(handlerTimes) / median(sdkTimes))}x`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Role sessions (issue 13): an organization archive where role activity outnumbers Identity Center events 10:1
// ---------------------------------------------------------------------------------------------------------------

const ROLE_RATIO = 10;
const ROLE_ORGANIZATION = "o-abc123example";
const IDENTITY_CENTER_ACCOUNT = "111122223333";

async function ensureRoleArchive(events: number): Promise<string> {
  const archive = join(benchDir, `archive-roles-${events}`);
  const done = join(archive, "COMPLETE.txt");
  if (existsSync(done)) return archive;
  rmSync(archive, { recursive: true, force: true });
  await mkdir(archive, { recursive: true });
  const start = performance.now();
  process.stdout.write(`generating ${events} records (role activity ${ROLE_RATIO}:1) into ${archive} … `);
  const result = await writeArchive(archive, {
    events,
    users: USERS,
    seed: SEED,
    recordsPerFile: 1000,
    roleRatio: ROLE_RATIO,
    organizationId: ROLE_ORGANIZATION,
  });
  writeFileSync(done, `${JSON.stringify(result)}\n`);
  process.stdout.write(`${result.files} files in ${round((performance.now() - start) / 1000, 1)} s\n`);
  return archive;
}

/** What one kind of event cost to store: wall time, CPU of both processes, and the store's request counters. */
interface KindCost {
  events: number;
  duplicates: number;
  wallSeconds: number;
  cpuSeconds: number;
  storeCpuSeconds: number;
  itemsWritten: number;
  itemsDeleted: number;
  batchWrites: number;
  batchGets: number;
  queries: number;
}

const emptyKindCost = (): KindCost => ({
  events: 0,
  duplicates: 0,
  wallSeconds: 0,
  cpuSeconds: 0,
  storeCpuSeconds: 0,
  itemsWritten: 0,
  itemsDeleted: 0,
  batchWrites: 0,
  batchGets: 0,
  queries: 0,
});

/**
 * Role-session events against Identity Center events, in one process and one store. The archive's Identity
 * Center account and its member accounts are read as two streams; rounds alternate between them (1,000
 * Identity Center records, then the 10,000 role records of about the same time, the order swapped every
 * round), so the store's growth and the machine's noise fall on both kinds alike. Only the storing is timed
 * (\`ingestBatch\`, batches of 2,000 as \`ingestStream\` makes them): reading and normalizing are the
 * normalize phase's.
 */
async function phaseRoles(archive: string, store: string) {
  const { classifyItem: classify, ingestBatch } = await import("@idc-audit/core/ingest");
  const { IdentityStoreDirectory: Directory } = await import("@idc-audit/core/identity");
  type Classified = ReturnType<typeof classify>;
  type AuditedRecord = Extract<Classified, { kind: "audited" }>["record"];
  type RoleRecord = Extract<Classified, { kind: "role" }>["event"];
  const identity = localIdentityStore(ROLE_RATIO);
  const directory = new Directory(identity.client, {
    identityStoreId: IDENTITY_STORE_ID,
    requestsPerSecond: 100_000,
  });
  const { runtime, storePid, close } = await openBenchRuntime(store, directory);
  const memory = memorySampler(storePid);
  const organization = join(archive, "AWSLogs", ROLE_ORGANIZATION);
  const members = readdirSync(organization)
    .filter((account) => account !== IDENTITY_CENTER_ACCOUNT)
    .sort()
    .map((account) => join(organization, account));
  const streams = {
    identityCenter: readInputs([join(organization, IDENTITY_CENTER_ACCOUNT)])[Symbol.asyncIterator](),
    role: readInputs(members)[Symbol.asyncIterator](),
  };
  const costs = { identityCenter: emptyKindCost(), role: emptyKindCost() };
  const roleSessions = new Set<string>();
  let ignored = 0;
  let rejected = 0;
  const BATCH = 2000;

  /** The next `count` records of one stream, classified; fewer at its end. */
  const take = async (stream: AsyncIterator<Parameters<typeof classify>[0]>, count: number) => {
    const records: AuditedRecord[] = [];
    const roleEvents: RoleRecord[] = [];
    let done = false;
    for (let read = 0; read < count; read += 1) {
      const next = await stream.next();
      if (next.done) {
        done = true;
        break;
      }
      const classified = classify(next.value);
      if (classified.kind === "audited") records.push(classified.record);
      else if (classified.kind === "role") {
        roleEvents.push(classified.event);
        roleSessions.add(classified.event.roleSessionId);
      } else if (classified.kind === "ignored") ignored += 1;
      else rejected += 1;
    }
    return { records, roleEvents, done };
  };
  const timed = async (cost: KindCost, batch: { records: AuditedRecord[]; roleEvents: RoleRecord[] }) => {
    const before = { ...runtime.store.stats };
    const cpu = process.cpuUsage();
    const storeCpu = storePid === undefined ? 0 : (processCpuSeconds(storePid) ?? 0);
    const start = performance.now();
    const result = await ingestBatch(runtime.pipeline, batch);
    cost.wallSeconds += (performance.now() - start) / 1000;
    cost.cpuSeconds += cpuSecondsSince(cpu);
    if (storePid !== undefined) cost.storeCpuSeconds += (processCpuSeconds(storePid) ?? 0) - storeCpu;
    cost.events += result.stored.length + result.storedRoleEvents.length;
    cost.duplicates += result.duplicates;
    const after = runtime.store.stats;
    cost.itemsWritten += after.itemsWritten - before.itemsWritten;
    cost.itemsDeleted += after.itemsDeleted - before.itemsDeleted;
    cost.batchWrites += after.batchWrites - before.batchWrites;
    cost.batchGets += after.batchGets - before.batchGets;
    cost.queries += after.queries - before.queries;
  };
  /** Reads and stores `count` records of one stream, a batch at a time (memory holds one batch, as in ingest). */
  const ingestKind = async (kind: "identityCenter" | "role", count: number): Promise<number> => {
    let taken = 0;
    for (let done = false; taken < count && !done; ) {
      const batch = await take(streams[kind], Math.min(BATCH, count - taken));
      // A record of the other kind in a stream still counts where it belongs.
      if (batch.records.length > 0)
        await timed(costs.identityCenter, { records: batch.records, roleEvents: [] });
      if (batch.roleEvents.length > 0) await timed(costs.role, { records: [], roleEvents: batch.roleEvents });
      taken += batch.records.length + batch.roleEvents.length;
      done = batch.done;
    }
    return taken;
  };
  let rounds = 0;
  for (let more = true; more; rounds += 1) {
    const order: ("identityCenter" | "role")[] =
      rounds % 2 === 0 ? ["identityCenter", "role"] : ["role", "identityCenter"];
    let taken = 0;
    for (const kind of order) taken += await ingestKind(kind, kind === "role" ? 1000 * ROLE_RATIO : 1000);
    more = taken > 0;
  }
  const mem = memory.stop();
  await close();
  const per = (cost: KindCost) => ({
    ...cost,
    wallSeconds: round(cost.wallSeconds),
    cpuSeconds: round(cost.cpuSeconds),
    storeCpuSeconds: round(cost.storeCpuSeconds),
    perSecond: round(cost.events / Math.max(cost.wallSeconds, 1e-9), 0),
    msPerEvent: round((cost.wallSeconds * 1000) / Math.max(1, cost.events), 3),
    cpuMsPerEvent: round(((cost.cpuSeconds + cost.storeCpuSeconds) * 1000) / Math.max(1, cost.events), 3),
    itemsPerEvent: round(cost.itemsWritten / Math.max(1, cost.events), 3),
    // A delete costs a write as an item written does: the target counts both.
    writesPerEvent: round((cost.itemsWritten + cost.itemsDeleted) / Math.max(1, cost.events), 3),
    queriesPerEvent: round(cost.queries / Math.max(1, cost.events), 3),
    keyReadBatchesPerEvent: round(cost.batchGets / Math.max(1, cost.events), 3),
  });
  return {
    rounds,
    roleSessions: roleSessions.size,
    ignored,
    rejected,
    identityCenter: per(costs.identityCenter),
    role: per(costs.role),
    identityStore: {
      describeUserCalls: [...identity.described.values()].reduce((sum, value) => sum + value, 0),
      getUserIdCalls: [...identity.looked.values()].reduce((sum, value) => sum + value, 0),
    },
    memory: mem,
  };
}

async function orchestrateRoles() {
  const events = Number(values["role-events"]);
  if (values["roles-only"])
    console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), node ${process.version}`);
  const archive = await ensureRoleArchive(events);
  const store = join(benchDir, `store-roles-${events}`);
  const storePlacement = values["store-in-process"] ? ["--store-in-process"] : [];
  const result = await child<Awaited<ReturnType<typeof phaseRoles>>>([
    "--phase",
    "roles",
    "--archive",
    archive,
    "--store",
    store,
    ...storePlacement,
    ...(values["live-heap"] ? ["--live-heap"] : []),
  ]);
  const { identityCenter: idc, role } = result;
  console.log(
    `role sessions: ${events} records, role activity ${ROLE_RATIO}:1 (${role.events} role-session events in ${result.roleSessions} role sessions, ${idc.events} Identity Center events, ${result.ignored} ignored, ${result.rejected} rejected); ${result.rounds} alternating rounds in one process and store, storing timed`,
  );
  const line = (name: string, cost: typeof role) =>
    `  ${name}: ${cost.events} in ${cost.wallSeconds} s = ${cost.perSecond}/s, ${cost.msPerEvent} ms/event; CPU ${cost.cpuSeconds} s + store ${cost.storeCpuSeconds} s = ${cost.cpuMsPerEvent} ms/event; per event: ${cost.itemsPerEvent} items written, ${cost.queriesPerEvent} queries, ${cost.keyReadBatchesPerEvent} BatchGetItem`;
  console.log(line("role-session events  ", role));
  console.log(line("Identity Center events", idc));
  console.log(
    `  per event, Identity Center / role session: wall ${round(idc.msPerEvent / role.msPerEvent)}x, CPU ${round(idc.cpuMsPerEvent / role.cpuMsPerEvent)}x (target: role sessions >= 2.5x faster)`,
  );
  console.log(
    `  items written per role-session event: ${role.itemsPerEvent}; with the ${role.itemsDeleted} deleted (judgements owed, made), ${role.writesPerEvent} (target <= 1.2)`,
  );
  console.log(
    `  Identity Store: ${result.identityStore.describeUserCalls} DescribeUser, ${result.identityStore.getUserIdCalls} GetUserId`,
  );
  console.log(
    `  memory of the ingesting process: peak RSS ${result.memory.maxRssMiB} MiB, peak heap ${result.memory.peakHeapMiB} MiB, RSS at 10/50/90% ${result.memory.rssAt10_50_90MiB.join("/")} MiB (target: flat, < 300 MB)`,
  );
  const live = result.memory.liveHeapAfterGcMiB;
  if (live && live.length > 0)
    console.log(
      `  live heap after a forced full GC every 10 s: ${live.join("/")} MiB (${live.length} samples)`,
    );
  const storeMemory = result.memory.store;
  if (storeMemory)
    console.log(
      `  memory of the embedded store's process: peak RSS ${storeMemory.peakRssMiB} MiB, RSS at 10/50/90% ${storeMemory.rssAt10_50_90MiB.join("/")} MiB`,
    );
  console.log(`  ${foreignAddressJudgements()}`);
  console.log("");
}

/**
 * A role session whose every call comes from one address its portal session never used (stolen credentials used
 * from one host: the case its rule is for), judged whole, as the detector judges a session each time a batch
 * touches it: milliseconds at growing call counts, in this process. Time growing with the square of the calls
 * is what a list copied at every call would cost (before `appendTo`, 40,000 calls took 53 s).
 */
function foreignAddressJudgements(): string {
  const figures = [10_000, 40_000].map((count) => {
    const start = Date.UTC(2026, 0, 1);
    const calls = Array.from({ length: count }, (_, index) => ({
      eventId: `call-${index}`,
      eventTime: new Date(start + index * 1000).toISOString(),
      sourceIp: "203.0.113.9",
    }));
    const began = performance.now();
    const findings = evaluateRoleSession(
      {
        roleSessionId: "role-session",
        accountId: "111122223333",
        credentialId: "portal-session",
        user: { identityStoreId: IDENTITY_STORE_ID, userId: "user" },
        portalSourceIps: new Set(["198.51.100.1"]),
        calls,
      },
      DEFAULT_DETECTION_CONFIG,
    );
    return `${count} calls ${round(performance.now() - began, 1)} ms (${findings.length} finding${findings.length === 1 ? "" : "s"})`;
  });
  return `a role session's calls from one foreign address, judged whole: ${figures.join(", ")}`;
}

async function main() {
  // As `idc-audit` does first thing: every phase (ingest and its floor alike) runs with the product's heap growth.
  boundHeapGrowth();
  const phase = values.phase;
  if (phase === undefined) {
    if (!values["roles-only"]) await orchestrate();
    if (!values["roles-only"]) {
      await steadySprays(
        25,
        "a steady password spray from one address (a failure every 2 s; half for 25 people, half for names that match nobody):",
        ["password-spray", "unknown-user-names"],
      );
      await steadySprays(
        1,
        "a steady brute force on one person from one address (a failure every 2 s; half for them, half for names that match nobody):",
        ["brute-force", "unknown-user-names"],
      );
      await dailyAttacks(100);
    }
    await orchestrateRoles();
    await roleForeignSessions();
    await userReports();
    // Issue 15's memory bound, in the arrangement it is for: `idc-audit ingest`, its store in a worker. It went
    // unnoticed over the bound for a session while it was measured only on request.
    if (!values["roles-only"]) await hostile(true);
    return;
  }
  // Orchestrated like the whole bench (it builds the folder, then measures in a child), on its own.
  if (phase === "hostile") return hostile();
  const archive = values.archive ?? "";
  const limit = Number(values.limit ?? Number.POSITIVE_INFINITY);
  const store = values.store ?? "";
  let result: unknown;
  if (phase === "parse-floor") result = await phaseParseFloor(archive);
  else if (phase === "parse-floor-sync") result = await phaseParseFloor(archive, true);
  else if (phase === "normalize") result = await phaseNormalize(archive);
  else if (phase === "ingest") result = await phaseIngest(archive, limit, store);
  else if (phase === "ingest-floor") result = await phaseIngestFloor(archive, limit, store);
  else if (phase === "query") result = await phaseQuery(archive, store, limit);
  else if (phase === "store-costs") result = await phaseStoreCosts(store);
  else if (phase === "seek-compaction") result = await phaseSeekCompaction(store, limit);
  else if (phase === "request-signing") result = await phaseRequestSigning();
  else if (phase === "roles") result = await phaseRoles(archive, store);
  else if (phase === "role-foreign") result = await phaseRoleForeign(limit, store);
  else if (phase === "user-report") result = await phaseUserReport(limit, store);
  else if (phase === "spray") result = await phaseSpray(limit, store, Number(values.people ?? 25));
  else if (phase === "daily") result = await phaseDaily(limit, store, Number(values.people ?? 25));
  else if (phase === "hostile-ingest") result = await phaseHostileIngest(archive, store);
  else throw new Error(`unknown phase ${phase}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // The embedded store's worker and SDK sockets must not keep a finished phase alive.
  process.exit(0);
}

await main();
