import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OcsfEvent, OcsfSchema } from "@idc-audit/core/export";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { eventsDir, ocsfSchemaDir } from "../support/fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-ocsf-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let schema: OcsfSchema;
beforeAll(() => {
  schema = new OcsfSchema(ocsfSchemaDir());
});

function lines(text: string): OcsfEvent[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as OcsfEvent);
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesBelow(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe("idc-audit normalize --format ocsf and idc-audit export", () => {
  it("normalize --format ocsf prints one valid OCSF event per kept record, stateless", async () => {
    const result = await runCli([
      "normalize",
      "--format",
      "ocsf",
      join(eventsDir, "new"),
      join(eventsDir, "roles"),
    ]);
    expect(result.code).toBe(0);
    const events = lines(result.stdout);
    expect(events.length).toBeGreaterThan(20);
    expect(events.flatMap((event) => schema.validate(event))).toEqual([]);
    expect(result.stderr).toMatch(/\d+ ignored, 0 rejected/);
  });

  it("export writes the stored events as NDJSON to --out DIR and as Security Lake Parquet with ocsf-parquet", async () => {
    const dataDir = join(scratch, "store");
    const ingest = await runCli([
      "ingest",
      "--data-dir",
      dataDir,
      "--directory",
      join(eventsDir, "directory.json"),
      join(eventsDir, "archive"),
      "--json",
    ]);
    expect(ingest.code).toBe(0);
    const stored = (JSON.parse(ingest.stdout) as { stored: number }).stored;

    const ndjson = await runCli([
      "export",
      "--data-dir",
      dataDir,
      "--format",
      "ocsf",
      "--out",
      join(scratch, "ndjson"),
    ]);
    expect(ndjson.code).toBe(0);
    const events = lines(readFileSync(join(scratch, "ndjson", "idc-audit.ocsf.ndjson"), "utf8"));
    expect(events.length).toBe(stored);
    expect(events.flatMap((event) => schema.validate(event))).toEqual([]);

    const lake = join(scratch, "lake");
    const parquet = await runCli([
      "export",
      "--data-dir",
      dataDir,
      "--format",
      "ocsf-parquet",
      "--out",
      lake,
    ]);
    expect(parquet.code).toBe(0);
    let rows = 0;
    for (const file of filesBelow(lake)) {
      expect(file.slice(lake.length + 1)).toMatch(
        /^idc-audit-[a-z-]+\/region=[^/]+\/accountId=\d{12}\/eventDay=\d{8}\/[^/]+\.parquet$/,
      );
      const buffer = readFileSync(file);
      rows += (
        await parquetReadObjects({
          file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
        })
      ).length;
    }
    expect(rows).toBe(stored);
  });

  it("refuses a format it does not know, Parquet without --out, and export without an OCSF format", async () => {
    const unknown = await runCli(["normalize", "--format", "xml", join(eventsDir, "new")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--format must be one of json, ocsf, ocsf-parquet");
    const noOut = await runCli(["export", "--data-dir", join(scratch, "empty"), "--format", "ocsf-parquet"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--format ocsf-parquet needs --out DIR");
    const noFormat = await runCli(["export", "--data-dir", join(scratch, "empty")]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain("export needs --format ocsf or --format ocsf-parquet");
  });
});
