/**
 * The distributed backfill, run locally: the Map's S3 item reader (ListObjectsV2) and each item batch's
 * invocation are played from the state machine's own definition, with S3 mocked at the SDK boundary, through the
 * real backfill-map handler against the embedded store. It must leave the same table as `idc-audit ingest` of
 * the same archive. Then reconciliation: an archive of which 3% of events were never delivered.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { backfillDefinition, dayPrefixes, reconcile } from "@idc-audit/core/backfill";
import { readInputs, walk } from "@idc-audit/core/cloudtrail";
import { S3ObjectSource } from "@idc-audit/core/cloudtrail/s3-source";
import { ExportDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestStream } from "@idc-audit/core/ingest";
import {
  BackfillBatchError,
  createMapBackfillHandler,
  createReconcileScheduleHandler,
  type MapBatchResult,
  type MapItemBatch,
  type MapObjectItem,
} from "@idc-audit/core/lambda";
import type { Runtime } from "@idc-audit/core/runtime";
import { silentLogger } from "@idc-audit/core/shared";
import { synthDirectory, writeArchive } from "@idc-audit/core/synth";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dumpTable, memoryRuntime } from "../support/store.ts";

const SYNTH = { events: 2400, seed: 16, start: "2026-07-01T00:00:00Z", days: 3, roleRatio: 1 } as const;
const BUCKET = "org-trail";
let archive: string;
let keys: string[];
const runtimes: Runtime[] = [];

beforeAll(async () => {
  archive = mkdtempSync(join(tmpdir(), "idc-audit-distributed-"));
  await writeArchive(archive, { ...SYNTH, recordsPerFile: 60 });
  keys = [];
  for await (const file of walk(archive)) keys.push(relative(archive, file).split(sep).join("/"));
  keys.sort();
});
afterAll(() => rmSync(archive, { recursive: true, force: true }));
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
});

async function runtime(): Promise<Runtime> {
  const opened = await memoryRuntime(ExportDirectory.fromJson(synthDirectory(SYNTH)));
  runtimes.push(opened);
  return opened;
}

/** The archive folder as the trail bucket, behind the S3 SDK: ListObjectsV2 in pages of 25, GetObject streams. */
function mockBucket(options: { failing?: string } = {}) {
  const s3 = mockClient(S3Client);
  s3.on(ListObjectsV2Command).callsFake(
    (input: { Prefix?: string; ContinuationToken?: string; Delimiter?: string }) => {
      const prefix = input.Prefix ?? "";
      const under = keys.filter((key) => key.startsWith(prefix));
      if (input.Delimiter === "/") {
        const folders = [...new Set(under.map((key) => key.slice(0, key.indexOf("/", prefix.length) + 1)))];
        return { CommonPrefixes: folders.filter(Boolean).map((Prefix) => ({ Prefix })), IsTruncated: false };
      }
      const start = Number(input.ContinuationToken ?? 0);
      const page = under.slice(start, start + 25);
      const more = start + 25 < under.length;
      return {
        Contents: page.map((Key) => ({
          Key,
          Size: statSync(join(archive, Key)).size,
          ETag: `"${Key.length}"`,
        })),
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(start + 25) } : {}),
      };
    },
  );
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    if (input.Key === options.failing)
      throw Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
    return { Body: createReadStream(join(archive, input.Key)) };
  });
  return s3;
}

/**
 * Plays the Distributed Map of `definition`: its item reader lists the prefix through the S3 SDK (items shaped
 * as Step Functions gives them), its batcher cuts batches of MaxItemsPerBatch with BatchInput, and up to
 * MaxConcurrency batches run at once, each one invocation of the handler with the Task's payload (`$`).
 */
async function playMap(
  definition: Record<string, unknown>,
  execution: { bucket: string; prefix: string; since: string | null; until: string | null },
  invoke: (batch: MapItemBatch) => Promise<MapBatchResult>,
): Promise<{ succeeded: MapBatchResult[]; failed: unknown[] }> {
  interface MapState {
    ItemReader: { Resource: string };
    ItemBatcher: { MaxItemsPerBatch: number };
    MaxConcurrency: number;
  }
  const map = (definition.States as Record<string, MapState>)[definition.StartAt as string] as MapState;
  expect(map.ItemReader.Resource).toBe("arn:aws:states:::s3:listObjectsV2");
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const items: MapObjectItem[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: execution.bucket,
        Prefix: execution.prefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? [])
      items.push({ Key: object.Key as string, Size: object.Size as number, Etag: object.ETag as string });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const size = map.ItemBatcher.MaxItemsPerBatch;
  const batches: MapItemBatch[] = [];
  for (let start = 0; start < items.length; start += size) {
    batches.push({
      Items: items.slice(start, start + size),
      BatchInput: { bucket: execution.bucket, since: execution.since, until: execution.until },
    });
  }
  const succeeded: MapBatchResult[] = [];
  const failed: unknown[] = [];
  const queue = [...batches];
  await Promise.all(
    Array.from({ length: map.MaxConcurrency }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        try {
          succeeded.push(await invoke(batch));
        } catch (error) {
          failed.push(error);
        }
      }
    }),
  );
  return { succeeded, failed };
}

const DEFINITION = backfillDefinition({
  functionArn: "arn:aws:lambda:us-east-1:123456789012:function:backfill-map",
  resultBucket: "results",
  resultPrefix: "backfill-results",
  maxConcurrency: 4,
  toleratedFailurePercentage: 5,
  objectsPerBatch: 7,
});

function sum(results: readonly MapBatchResult[], field: keyof MapBatchResult): number {
  return results.reduce((total, result) => total + result[field], 0);
}

describe("distributed backfill, played locally", () => {
  it("leaves the same table as `idc-audit ingest` of the same archive, and a re-run stores nothing twice", async () => {
    const reference = await runtime();
    const ingested = await ingestStream(readInputs([archive]), reference.pipeline);
    expect(ingested.stored).toBeGreaterThan(1000);

    const s3 = mockBucket();
    try {
      const target = await runtime();
      const handler = createMapBackfillHandler({
        logger: silentLogger,
        objects: new S3ObjectSource(
          new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
        ),
        openRuntime: async () => target,
      });
      const execution = { bucket: BUCKET, prefix: "AWSLogs/", since: null, until: null };
      const run = await playMap(DEFINITION, execution, handler);
      expect(run.failed).toEqual([]);
      expect(sum(run.succeeded, "objects")).toBe(keys.length);
      expect(run.succeeded.length).toBe(Math.ceil(keys.length / 7));
      expect(sum(run.succeeded, "read")).toBe(ingested.read);
      expect(sum(run.succeeded, "stored")).toBe(ingested.stored);
      expect(await dumpTable(target)).toEqual(await dumpTable(reference));

      const again = await playMap(DEFINITION, execution, handler);
      expect(sum(again.succeeded, "stored")).toBe(0);
      expect(sum(again.succeeded, "duplicates")).toBe(ingested.stored + ingested.duplicates);
      expect(await dumpTable(target)).toEqual(await dumpTable(reference));
    } finally {
      s3.restore();
    }
  });

  it("skips objects outside the day range, reading only the days asked for", async () => {
    const s3 = mockBucket();
    try {
      const target = await runtime();
      const handler = createMapBackfillHandler({
        logger: silentLogger,
        objects: new S3ObjectSource(
          new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
        ),
        openRuntime: async () => target,
      });
      const run = await playMap(
        DEFINITION,
        { bucket: BUCKET, prefix: "AWSLogs/", since: "2026-07-02", until: "2026-07-02" },
        handler,
      );
      const inDay = keys.filter((key) => key.includes("/2026/07/02/")).length;
      expect(inDay).toBeGreaterThan(0);
      expect(sum(run.succeeded, "objects") - sum(run.succeeded, "skipped")).toBe(inDay);
      const gets = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key as string);
      expect(gets.every((key) => key.includes("/2026/07/02/"))).toBe(true);
    } finally {
      s3.restore();
    }
  });

  it("fails an item batch that has an unreadable object, naming it, after storing the batch's other objects", async () => {
    const failing = keys[3] as string;
    const s3 = mockBucket({ failing });
    try {
      const target = await runtime();
      const handler = createMapBackfillHandler({
        logger: silentLogger,
        objects: new S3ObjectSource(
          new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
        ),
        openRuntime: async () => target,
      });
      const run = await playMap(
        DEFINITION,
        { bucket: BUCKET, prefix: "AWSLogs/", since: null, until: null },
        handler,
      );
      expect(run.failed).toHaveLength(1);
      const error = run.failed[0] as BackfillBatchError;
      expect(error).toBeInstanceOf(BackfillBatchError);
      expect(error.failed.map(({ key }) => key)).toEqual([failing]);
      expect(error.message).toContain(failing);
      expect(error.message).toContain("Access Denied");
      expect(error.counts.failures).toBe(1);
      expect(error.counts.stored).toBeGreaterThan(0); // the other six objects of the batch were stored
    } finally {
      s3.restore();
    }
  });
});

describe("reconcile", () => {
  it("finds exactly the 3% of events that were never delivered, ingests them, and ends with the full table", async () => {
    // Prepare: the table as if 3% of Identity Center and role-session events had never been delivered.
    const dropped = new Set<string>();
    let seen = 0;
    async function* delivered() {
      for await (const item of readInputs([archive])) {
        const classified = classifyItem(item);
        const event =
          classified.kind === "audited"
            ? classified.record.event
            : classified.kind === "role"
              ? classified.event
              : undefined;
        // Every 33rd event; not an AssumeRole that opens a chained session (its chained calls would go too).
        if (event && !(classified.kind === "role" && classified.event.chained) && ++seen % 33 === 0) {
          dropped.add(event.eventId);
          continue;
        }
        yield item;
      }
    }
    const full = await runtime();
    await ingestStream(readInputs([archive]), full.pipeline);
    const partial = await runtime();
    await ingestStream(delivered(), partial.pipeline);
    expect(dropped.size).toBeGreaterThan(30);
    expect(dropped.size / seen).toBeCloseTo(0.03, 2);

    // Act
    const found = new Set<string>();
    const counts = await reconcile(
      { path: archive, range: { since: "2026-07-01", until: "2026-07-31" } },
      partial,
      {
        onMissing: ({ eventId }) => found.add(eventId),
      },
    );

    // Assess
    expect(found).toEqual(dropped);
    expect(counts.missing).toBe(dropped.size);
    expect(counts.ingested).toBe(dropped.size);
    expect(counts.present).toBe(counts.events - dropped.size);
    expect(counts.objects).toBe(keys.length);
    expect(await dumpTable(partial)).toEqual(await dumpTable(full));

    const again = await reconcile(
      { path: archive, range: { since: "2026-07-01", until: "2026-07-31" } },
      partial,
    );
    expect(again).toEqual({ ...counts, present: counts.events, missing: 0, ingested: 0 });
  });

  it("runs daily on yesterday's objects only, found by listing folders down to each region", async () => {
    const s3 = mockBucket();
    try {
      const target = await runtime();
      const client = new S3Client({
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
      });
      const objects = new S3ObjectSource(client);
      const published: { day: string; missing: number }[] = [];
      const handler = createReconcileScheduleHandler({
        logger: silentLogger,
        objects,
        listFolders: (location) => objects.listFolders(location),
        trail: { bucket: BUCKET, prefix: "AWSLogs/" },
        publish: (day, counts) => published.push({ day, missing: counts.missing }),
        now: () => new Date("2026-07-03T01:30:00Z"),
        openRuntime: async () => target,
      });
      const result = await handler();
      const yesterday = keys.filter((key) => key.includes("/2026/07/02/"));
      expect(result.day).toBe("2026-07-02");
      expect(result.objects).toBe(yesterday.length);
      expect(result.missing).toBeGreaterThan(0);
      expect(published).toEqual([{ day: "2026-07-02", missing: result.missing }]);
      // Listing never walked the whole bucket: every full listing was of one region's day.
      const listings = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
      for (const input of listings.filter((input) => input.Delimiter === undefined)) {
        expect(input.Prefix).toMatch(/\/CloudTrail\/[a-z0-9-]+\/2026\/07\/02\/$/);
      }
      const prefixes: string[] = [];
      for await (const prefix of dayPrefixes(
        (p) => objects.listFolders({ bucket: BUCKET, prefix: p }),
        "AWSLogs/",
        "2026-07-02",
      ))
        prefixes.push(prefix);
      expect(prefixes.length).toBeGreaterThan(0);
    } finally {
      s3.restore();
    }
  });
});
