import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IngestCounts } from "@idc-audit/core/ingest";
import { openRuntime } from "@idc-audit/core/runtime";
import { synthDirectory, writeArchive } from "@idc-audit/core/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.ts";
import { repoRoot } from "../support/fixtures.ts";
import { dumpTable } from "../support/store.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-crash-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SYNTH = { events: 3000, users: 30, seed: 17 } as const;
const archive = join(scratch, "archive");
const directoryFile = join(scratch, "directory.json");

type Counts = IngestCounts;

async function tableOf(dataDir: string): Promise<Record<string, unknown>[]> {
  const runtime = await openRuntime({ dataDir });
  try {
    return await dumpTable(runtime);
  } finally {
    await runtime.close();
  }
}

/** Bytes the embedded store has written under a data dir (its LevelDB log and tables). */
async function storeBytes(dataDir: string): Promise<number> {
  const dir = join(dataDir, "dynamodb");
  try {
    const names = await readdir(dir);
    return names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  } catch {
    return 0;
  }
}

/**
 * Starts `idc-audit ingest` and kills it with SIGKILL once the store has written `afterBytes`: mid-ingest, with
 * batches half written. Resolves with the signal that ended it.
 */
function ingestAndKill(dataDir: string, afterBytes: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, "bin/idc-audit.mjs"),
        "ingest",
        archive,
        "--data-dir",
        dataDir,
        "--directory",
        directoryFile,
        "--batch-size",
        "97",
        "--json",
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        stdio: "ignore",
      },
    );
    const timer = setInterval(() => {
      storeBytes(dataDir).then((bytes) => {
        if (bytes >= afterBytes) child.kill("SIGKILL");
      }, reject);
    }, 10);
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      clearInterval(timer);
      resolve(signal);
    });
  });
}

describe("crash safety of the CLI", () => {
  let clean: Record<string, unknown>[];
  let cleanCounts: Counts;

  beforeAll(async () => {
    await writeArchive(archive, { ...SYNTH, recordsPerFile: 200 });
    writeFileSync(directoryFile, JSON.stringify(synthDirectory(SYNTH)));
    const dataDir = join(scratch, "clean");
    cleanCounts = json<Counts>(
      await runCli(["ingest", archive, "--data-dir", dataDir, "--directory", directoryFile, "--json"]),
    );
    clean = await tableOf(dataDir);
  });

  it("ends with exactly the tables of a clean run after SIGKILL mid-ingest, twice, and a re-run", async () => {
    // Prepare
    const dataDir = join(scratch, "killed");
    // Act: killed early, then killed again later, then run to the end.
    const firstKill = await ingestAndKill(dataDir, 200_000);
    const afterFirst = await tableOf(dataDir);
    const secondKill = await ingestAndKill(dataDir, (await storeBytes(dataDir)) + 1_500_000);
    const afterSecond = await tableOf(dataDir);
    const rerun = json<Counts>(
      await runCli(["ingest", archive, "--data-dir", dataDir, "--directory", directoryFile, "--json"]),
    );
    // Assess: both kills landed mid-ingest, and the end state is the clean one.
    expect(firstKill).toBe("SIGKILL");
    expect(secondKill).toBe("SIGKILL");
    expect(afterFirst.length).toBeGreaterThan(0);
    expect(afterFirst.length).toBeLessThan(clean.length);
    expect(afterSecond.length).toBeGreaterThan(afterFirst.length);
    expect(afterSecond.length).toBeLessThan(clean.length);
    expect(rerun.read).toBe(cleanCounts.read);
    expect(rerun.read).toBe(rerun.stored + rerun.duplicates + rerun.ignored + rerun.rejected);
    expect(rerun.stored).toBeGreaterThan(0);
    expect(rerun.stored).toBeLessThan(cleanCounts.stored);
    expect(rerun.stored + rerun.duplicates).toBe(cleanCounts.stored + cleanCounts.duplicates);
    expect(await tableOf(dataDir)).toEqual(clean);
  });
});
