import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IngestCounts } from "@idc-audit/core/ingest";
import { synthDirectory, writeArchive } from "@idc-audit/core/synth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, spawnCli } from "../support/cli.ts";
import { BOB, eventsDir, loadEvent, repoRoot } from "../support/fixtures.ts";

// Several idc-audit processes on one data dir, as an analyst uses them: `serve` kept open while queries and
// ingests run from a terminal. Every process here is a real one, started from the built CLI.

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-concurrency-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fixtureArchive = join(eventsDir, "archive");
const fixtureDirectory = join(eventsDir, "directory.json");
const bobSession = (
  loadEvent("new/GetRoleCredentials__success.json").userIdentity as { credentialId: string }
).credentialId;

const SYNTH = { events: 6000, users: 30, seed: 23 } as const;
const synthArchive = join(scratch, "synth-archive");
const synthDirectoryFile = join(scratch, "synth-directory.json");

let dirs = 0;
function newDataDir(): string {
  dirs += 1;
  return join(scratch, `data-${dirs}`);
}

interface EndpointFile {
  pid: number;
  port: number;
  token: string;
}
const endpointFile = (dataDir: string) => join(dataDir, "store-endpoint.json");
const readEndpoint = (dataDir: string) =>
  JSON.parse(readFileSync(endpointFile(dataDir), "utf8")) as EndpointFile;

/** Processes a test started, stopped after it whatever happened. */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill();
});

interface Serving {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>`, and the key it printed with it, which every request carries. */
  readonly url: string;
  readonly key: string;
  output(): string;
  /** Ctrl-C, and the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `idc-audit serve` on a data dir and waits for the line that says where it serves. */
async function startServe(dataDir: string): Promise<Serving> {
  const child = spawnCli(["serve", "--data-dir", dataDir, "--port", "0"]);
  started.push(child);
  let output = "";
  const { url, key } = await new Promise<{ url: string; key: string }>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      const served = /serving .* on (http:\/\/127\.0\.0\.1:\d+)\/\?key=([\w-]+) /.exec(output);
      if (served?.[1] && served[2]) resolve({ url: served[1], key: served[2] });
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("exit", (code) => reject(new Error(`serve exited with ${code} before serving: ${output}`)));
  });
  return {
    child,
    url,
    key,
    output: () => output,
    stop: async () => {
      const exited = once(child, "exit");
      child.kill("SIGINT");
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

async function getJson(
  serving: Serving,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${serving.url}${path}`, {
    headers: { authorization: `Bearer ${serving.key}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Bytes the embedded store has written under a data dir (its LevelDB log and tables). */
async function storeBytes(dataDir: string): Promise<number> {
  const dir = join(dataDir, "dynamodb");
  const names = await readdir(dir).catch(() => []);
  return names.reduce((sum, name) => {
    try {
      return sum + statSync(join(dir, name)).size;
    } catch {
      return sum;
    }
  }, 0);
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  await writeArchive(synthArchive, { ...SYNTH, recordsPerFile: 200 });
  writeFileSync(synthDirectoryFile, JSON.stringify(synthDirectory(SYNTH)));
});

describe("several idc-audit processes on one data dir", () => {
  it("answers timeline and user from a terminal while serve runs on the same data dir", async () => {
    // Prepare
    const dataDir = newDataDir();
    const ingested = await runCli([
      "ingest",
      fixtureArchive,
      "--directory",
      fixtureDirectory,
      "--data-dir",
      dataDir,
    ]);
    expect(ingested.code).toBe(0);
    const serving = await startServe(dataDir);
    // Act
    const timeline = await runCli(["timeline", bobSession, "--data-dir", dataDir, "--json"]);
    const user = await runCli(["user", BOB.userName, "--data-dir", dataDir, "--json"]);
    // Assess: both answered from the store serve holds, and serve still answers.
    expect(timeline.stderr).toBe("");
    expect(timeline.code).toBe(0);
    const events = json<{ events: { eventName: string }[] }>(timeline).events;
    expect(events.map((event) => event.eventName)).toContain("GetRoleCredentials");
    expect(user.code).toBe(0);
    const report = json<{ user: { userId: string }; sessions: { credentialId: string }[] }>(user);
    expect(report.user.userId).toBe(BOB.userId);
    expect(report.sessions.map((session) => session.credentialId)).toContain(bobSession);
    const page = await getJson(serving, `/api/sessions/${bobSession}`);
    expect(page.status).toBe(200);
    // Loopback is every local user's: without the key it printed, serve answers nothing.
    expect((await fetch(`${serving.url}/api/sessions/${bobSession}`)).status).toBe(401);
    expect((page.body.summary as { eventCount: number }).eventCount).toBe(events.length);
    expect(await serving.stop()).toBe(0);
  });

  it("shows on serve's page the events an ingest from another process just stored", async () => {
    // Prepare: serve on an empty data dir knows no session yet.
    const dataDir = newDataDir();
    const serving = await startServe(dataDir);
    expect((await getJson(serving, `/api/sessions/${bobSession}`)).status).toBe(404);
    // Act
    const ingested = await runCli([
      "ingest",
      fixtureArchive,
      "--directory",
      fixtureDirectory,
      "--data-dir",
      dataDir,
      "--json",
    ]);
    // Assess: the ingest stored through serve's store, and serve's next answer (a reload) has the session.
    expect(ingested.stderr).toBe("");
    expect(json<IngestCounts>(ingested).stored).toBeGreaterThan(0);
    const reloaded = await getJson(serving, `/api/sessions/${bobSession}`);
    expect(reloaded.status).toBe(200);
    expect((reloaded.body.user as { userName: string }).userName).toBe(BOB.userName);
    expect(readEndpoint(dataDir).pid).toBe(serving.child.pid);
    expect(await serving.stop()).toBe(0);
    // The owner withdrew its address when it stopped.
    expect(() => statSync(endpointFile(dataDir))).toThrow(/ENOENT/);
  });

  it("keeps serving when the ingest that owned the store ends: serve takes it over", async () => {
    // Prepare: an ingest owns the store; serve starts while it runs and uses it as a client.
    const dataDir = newDataDir();
    const ingest = spawnCli([
      "ingest",
      synthArchive,
      "--directory",
      synthDirectoryFile,
      "--data-dir",
      dataDir,
      "--batch-size",
      "200",
      "--json",
    ]);
    started.push(ingest);
    let ingestOutput = "";
    ingest.stdout.on("data", (chunk) => {
      ingestOutput += chunk;
    });
    ingest.stderr.on("data", (chunk) => {
      ingestOutput += chunk;
    });
    ingest.stdin.end();
    const ingestExit = once(ingest, "exit");
    await until(async () => (await storeBytes(dataDir)) > 50_000, "the ingest to write");
    const serving = await startServe(dataDir);
    const ownerWhileIngesting = readEndpoint(dataDir).pid;
    const duringIngest = await getJson(serving, `/api/alerts`);
    // Act: the ingest finishes and ends its process.
    const [ingestCode] = (await ingestExit) as [number | null];
    const afterIngest = await getJson(serving, `/api/failed-signins`);
    // Assess
    expect(ownerWhileIngesting).toBe(ingest.pid);
    expect(duringIngest.status).toBe(200);
    expect(ingestCode, ingestOutput).toBe(0);
    expect(JSON.parse(ingestOutput).read).toBe(SYNTH.events);
    expect(afterIngest.status).toBe(200);
    expect((afterIngest.body.failures as unknown[]).length).toBeGreaterThan(0);
    expect(readEndpoint(dataDir).pid).toBe(serving.child.pid);
    expect(await serving.stop()).toBe(0);
  });

  it("finishes an ingest whose owner, serve, stops half-way, with the counts and table of a run alone", async () => {
    // Prepare: the same archive ingested alone, for reference.
    const alone = newDataDir();
    const reference = json<IngestCounts>(
      await runCli([
        "ingest",
        synthArchive,
        "--directory",
        synthDirectoryFile,
        "--data-dir",
        alone,
        "--json",
      ]),
    );
    const referenceAnswer = json(await runCli(["failed-signins", "--data-dir", alone, "--json"]));
    const dataDir = newDataDir();
    const serving = await startServe(dataDir);
    const before = await storeBytes(dataDir);
    // Act: an ingest starts as serve's client; serve is stopped while the ingest writes.
    const ingest = runCli([
      "ingest",
      synthArchive,
      "--directory",
      synthDirectoryFile,
      "--data-dir",
      dataDir,
      "--batch-size",
      "200",
      "--json",
    ]);
    await until(async () => (await storeBytes(dataDir)) > before + 200_000, "the ingest to write");
    const serveCode = await serving.stop();
    const result = await ingest;
    // Assess: the ingest carried on as the new owner and stored what a run alone stores.
    expect(serveCode).toBe(0);
    // At most a notice that it waited for serve to close the store; no error.
    expect(result.stderr).not.toMatch(/error/i);
    const counts = json<IngestCounts>(result);
    expect(counts.read).toBe(reference.read);
    expect(counts.stored + counts.duplicates).toBe(reference.stored + reference.duplicates);
    expect(counts.rejected).toBe(0);
    expect(json(await runCli(["failed-signins", "--data-dir", dataDir, "--json"]))).toEqual(referenceAnswer);
  });

  it("opens the store of an owner killed with SIGKILL, whose endpoint file is left behind", async () => {
    // Prepare
    const dataDir = newDataDir();
    expect((await runCli(["ingest", fixtureArchive, "--data-dir", dataDir])).code).toBe(0);
    const serving = await startServe(dataDir);
    const left = readEndpoint(dataDir);
    const killed = once(serving.child, "exit");
    serving.child.kill("SIGKILL");
    await killed;
    // Act
    const timeline = await runCli(["timeline", bobSession, "--data-dir", dataDir, "--json"]);
    // Assess
    expect(left.pid).toBe(serving.child.pid);
    expect(timeline.code).toBe(0);
    expect(json<{ events: unknown[] }>(timeline).events.length).toBeGreaterThan(0);
  });

  it("refuses requests to the store's loopback port that do not carry the data dir's token", async () => {
    // Prepare
    const dataDir = newDataDir();
    const serving = await startServe(dataDir);
    const { port, token } = readEndpoint(dataDir);
    const listTables = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          authorization:
            "AWS4-HMAC-SHA256 Credential=someone/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
          "x-amz-date": "20200101T000000Z",
          ...headers,
        },
        body: "{}",
      });
    // Act
    const without = await listTables({});
    const wrong = await listTables({ "x-idc-audit-token": "0".repeat(64) });
    const right = await listTables({ "x-idc-audit-token": token });
    // Assess
    expect(without.status).toBe(403);
    expect(await without.text()).toContain("UnrecognizedClientException");
    expect(wrong.status).toBe(403);
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ TableNames: ["idc-audit"] });
    expect(statSync(endpointFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(await serving.stop()).toBe(0);
  });
});

describe("a data dir whose store cannot be opened", () => {
  it("says which data dir, why and what to do when another program holds its lock", async () => {
    // Prepare: a process that is not today's idc-audit holds LevelDB's lock and serves nothing, and the
    // endpoint file is not one idc-audit wrote.
    const dataDir = newDataDir();
    const dynalitePath = createRequire(join(repoRoot, "package.json")).resolve("dynalite");
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `require(process.argv[1])({ path: process.argv[2] }).store.db.open().then(() => { console.log("holding"); setInterval(() => {}, 1000); })`,
        dynalitePath,
        join(dataDir, "dynamodb"),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    started.push(holder);
    await once(holder.stdout, "data");
    writeFileSync(endpointFile(dataDir), "not json");
    // Act
    const result = await runCli(["timeline", bobSession, "--data-dir", dataDir]);
    // Assess: a message on stderr, never silence, and the failure exit code.
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`data dir ${dataDir}`);
    expect(result.stderr).toContain("another process holds its lock");
    expect(result.stderr).toContain("is not an idc-audit endpoint file");
    expect(result.stderr).toContain("Wait for that process to finish, or stop it");
    // While it waited, it said so.
    expect(result.stderr).toContain(`idc-audit: waiting for the process that holds the store of ${dataDir}`);
  });

  it("says which data dir, why and what to do when the data dir is not a folder", async () => {
    // Prepare
    const dataDir = join(scratch, "a-file");
    writeFileSync(dataDir, "not a folder");
    // Act
    const result = await runCli(["ingest", fixtureArchive, "--data-dir", dataDir]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot open the embedded store in the data dir ${dataDir}`);
    expect(result.stderr).toMatch(/EEXIST|ENOTDIR/);
    expect(result.stderr).toContain("or pass another --data-dir");
  });
});

describe("the end of a process that used the embedded store", () => {
  it("exits 0 after printing its counts, every time, in five ingests in a row", async () => {
    // LevelDB's addon, loaded by the store's worker alone, was unloaded when the worker ended while LevelDB's
    // background thread still ran its code: the process died of SIGSEGV after its output, without a word.
    const ends: (number | null)[] = [];
    for (let run = 0; run < 5; run += 1) {
      // Act
      const result = await runCli([
        "ingest",
        synthArchive,
        "--directory",
        synthDirectoryFile,
        "--data-dir",
        newDataDir(),
        "--json",
      ]);
      ends.push(result.code);
      // Assess: the counts were printed either way; the exit code says whether the process ended cleanly.
      expect(JSON.parse(result.stdout).read).toBe(SYNTH.events);
    }
    expect(ends).toEqual([0, 0, 0, 0, 0]);
  });
});
