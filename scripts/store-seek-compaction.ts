/**
 * Do reads of absent keys make the embedded store's LevelDB compact more? The same writes (`putAll`, chunks of
 * 500 items of about the ingest's size, keys in no order) into a fresh store process, with and without a
 * `BatchGetItem` of absent keys after each chunk; the compactions are read from LevelDB's own `LOG`.
 *
 * LevelDB charges a point read that looks in more than one table file to the first file it looked in, and
 * compacts a file once it has been charged about once per 16 KB of its size ("seek compaction"): a read of a
 * key that is nowhere looks in every level. An ingest reads keys it has not stored yet (the duplicate check's
 * commit keys, the workflow heads' inserts); its floor reads nothing (docs/benchmarks.md, 2026-12-03).
 *
 * `node --import tsx scripts/store-seek-compaction.ts [items, default 240000] [rounds, default 2]`
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedStoreOptions, storeClient } from "@idc-audit/core/runtime";
import { hashString } from "@idc-audit/core/synth";
import { type Item, TableStore } from "@idc-audit/core/timeline";

const ABSENT_KEYS_PER_CHUNK = 80;
const CHUNK = 500;
const payload = "x".repeat(520);
const dynalitePath = createRequire(import.meta.url).resolve("dynalite");

/** User + system CPU of a process, in seconds (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A key in no order: the hash of the item's number. */
const key = (n: number, seed: number) => hashString(String(n), seed).toString(16).padStart(8, "0");

/** LevelDB's compactions over the store's life, as its `LOG` states them. */
function compactions(dir: string): { count: number; megabytesWritten: number } {
  let count = 0;
  let bytes = 0;
  for (const line of readFileSync(join(dir, "LOG"), "utf8").split("\n")) {
    const compacted = /Compacted .* => (\d+) bytes/.exec(line);
    if (compacted) {
      count += 1;
      bytes += Number(compacted[1]);
    }
  }
  return { count, megabytesWritten: Math.round(bytes / 1e6) };
}

async function run(items: number, absentKeysPerChunk: number) {
  const dir = join(tmpdir(), `idc-audit-seek-compaction-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The store in a process of its own, as the bench runs it, so that its CPU is its own.
  const source = `const dynalite = require(process.argv[1]); const server = dynalite(JSON.parse(process.argv[2])); server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port })); process.on("disconnect", () => server.close(() => process.exit(0)));`;
  const storeProcess = spawn(
    process.execPath,
    ["-e", source, dynalitePath, JSON.stringify(embeddedStoreOptions(dir))],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const [{ port }] = (await once(storeProcess, "message")) as [{ port: number }];
  const pid = storeProcess.pid ?? 0;
  const client = storeClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "local",
    credentials: { accessKeyId: "embedded", secretAccessKey: "embedded" },
  });
  try {
    const store = new TableStore(client, { tableName: "seek-compaction" });
    await store.ensureTable();
    const cpuBefore = cpuSeconds(pid);
    const start = performance.now();
    let absentRead = 0;
    for (let first = 0; first < items; first += CHUNK) {
      const chunk: Item[] = [];
      for (let n = first; n < first + CHUNK; n += 1)
        chunk.push({ pk: `P#${key(n, 1)}`, sk: `S#${key(n, 2)}`, type: "test", data: payload });
      await store.putAll(chunk);
      if (absentKeysPerChunk === 0) continue;
      const absent: Item[] = [];
      for (let n = first; n < first + absentKeysPerChunk; n += 1)
        absent.push({ pk: `P#${key(n, 3)}`, sk: "S#absent" });
      const found = await store.getAll(absent);
      if (found.length > 0) throw new Error(`${found.length} keys read as absent were found`);
      absentRead += absent.length;
    }
    return {
      seconds: (performance.now() - start) / 1000,
      storeCpuSeconds: cpuSeconds(pid) - cpuBefore,
      absentRead,
      ...compactions(dir),
    };
  } finally {
    client.destroy();
    storeProcess.disconnect();
    await once(storeProcess, "exit");
    rmSync(dir, { recursive: true, force: true });
  }
}

const items = Number(process.argv[2] ?? 240_000);
const rounds = Number(process.argv[3] ?? 2);
for (let round = 0; round < rounds; round += 1)
  for (const absentKeysPerChunk of [0, ABSENT_KEYS_PER_CHUNK]) {
    const result = await run(items, absentKeysPerChunk);
    console.log(
      `${items} items written, ${result.absentRead} absent keys read: ${result.count} compactions writing ${result.megabytesWritten} MB; ${result.seconds.toFixed(2)} s, the store's CPU ${result.storeCpuSeconds.toFixed(2)} s`,
    );
  }
