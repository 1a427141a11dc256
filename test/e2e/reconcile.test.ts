/** `idc-audit reconcile` and `idc-audit backfill` as a user runs them: the built CLI on the bundled archive. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReconcileCounts } from "@idc-audit/core/backfill";
import type { IngestCounts } from "@idc-audit/core/ingest";
import { afterAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.ts";
import { eventsDir } from "../support/fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-reconcile-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const archive = join(eventsDir, "archive");
const directory = join(eventsDir, "directory.json");
const ALL_DAYS = ["--since", "2020-01-01", "--until", "2030-12-31"];

describe("idc-audit reconcile", () => {
  it("ingests everything into an empty table, as ingest would, then finds nothing missing", async () => {
    const reconciled = join(scratch, "reconciled");
    const first = json<ReconcileCounts>(
      await runCli([
        "reconcile",
        archive,
        ...ALL_DAYS,
        "--json",
        "--data-dir",
        reconciled,
        "--directory",
        directory,
      ]),
    );
    expect(Object.keys(first).sort()).toEqual(["events", "ingested", "missing", "objects", "present"]);
    expect(first.objects).toBe(5);
    expect(first.ingested).toBe(first.missing);

    const ingested = json<IngestCounts>(
      await runCli([
        "ingest",
        archive,
        "--json",
        "--data-dir",
        join(scratch, "ingested"),
        "--directory",
        directory,
      ]),
    );
    expect(first.ingested).toBe(ingested.stored);
    // The archive delivers one event twice: its second copy is present once the first is ingested.
    expect(ingested.duplicates).toBe(1);
    expect(first.present).toBe(1);
    expect(first.present + first.missing).toBe(first.events);

    const second = json<ReconcileCounts>(
      await runCli(["reconcile", archive, ...ALL_DAYS, "--json", "--data-dir", reconciled]),
    );
    expect(second).toEqual({ ...first, present: first.events, missing: 0, ingested: 0 });
  });

  it("reads only the objects of the days asked for", async () => {
    const oneDay = json<ReconcileCounts>(
      await runCli([
        "reconcile",
        archive,
        "--since",
        "2026-07-01",
        "--until",
        "2026-07-01",
        "--json",
        "--data-dir",
        join(scratch, "one-day"),
      ]),
    );
    expect(oneDay.objects).toBe(3);
  });

  it("exits 2 naming the problem for a missing or malformed day, or a backfill that is not s3://", async () => {
    const noRange = await runCli(["reconcile", archive, "--json", "--data-dir", join(scratch, "x")]);
    expect(noRange.code).toBe(2);
    expect(noRange.stderr).toContain("reconcile needs --since and --until");
    const badDay = await runCli(["reconcile", archive, "--since", "2026-13-01", "--until", "2026-12-31"]);
    expect(badDay.code).toBe(2);
    expect(badDay.stderr).toContain("--since 2026-13-01 is not a day");
    const reversed = await runCli(["reconcile", archive, "--since", "2026-07-02", "--until", "2026-07-01"]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain("is after --until");
    const local = await runCli(["backfill", archive]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("backfill needs one s3://bucket/prefix");
  });

  it("asks for the state machine before starting a distributed backfill", async () => {
    const result = await runCli(["backfill", "s3://org-trail/AWSLogs/", "--distributed"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--state-machine ARN or IDC_AUDIT_BACKFILL_STATE_MACHINE");
    const wrong = await runCli([
      "backfill",
      "s3://org-trail/AWSLogs/",
      "--distributed",
      "--state-machine",
      "arn:aws:lambda:us-east-1:123456789012:function:x",
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("is not a Step Functions state machine ARN");
  });
});
