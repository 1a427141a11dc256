import { createReadStream } from "node:fs";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { type ObjectSource, readInputs, type S3Location } from "@idc-audit/core/cloudtrail";
import { S3ObjectSource } from "@idc-audit/core/cloudtrail/s3-source";
import { createS3BackfillHandler, decodeS3Key } from "@idc-audit/core/lambda";
import type { Runtime } from "@idc-audit/core/runtime";
import { silentLogger } from "@idc-audit/core/shared";
import type { S3Event } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { eventsDir, fixtureFiles } from "../support/fixtures.ts";
import { fixtureDirectory, memoryRuntime } from "../support/store.ts";

/** The fixture archive folder served as if it were a trail bucket. */
class FolderBucket implements ObjectSource {
  readonly opened: string[] = [];
  async *list(location: S3Location): AsyncGenerator<string> {
    for (const path of fixtureFiles("archive", /\.json\.gz$/)) {
      const key = relative("archive", path);
      if (key.startsWith(location.prefix)) yield key;
    }
  }
  async open(_bucket: string, key: string): Promise<Readable> {
    this.opened.push(key);
    return createReadStream(join(eventsDir, "archive", key));
  }
}

function s3Event(keys: string[]): S3Event {
  return {
    Records: keys.map((key) => ({
      s3: { bucket: { name: "trail-bucket" }, object: { key: encodeURIComponent(key).replace(/%2F/g, "/") } },
    })) as S3Event["Records"],
  };
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("backfill from a trail bucket", () => {
  it("ingests each new log object through the same stream as the CLI", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const bucket = new FolderBucket();
    const handler = createS3BackfillHandler({
      logger: silentLogger,
      objects: bucket,
      openRuntime: async () => opened,
    });
    const keys: string[] = [];
    for await (const key of bucket.list({ bucket: "trail-bucket", prefix: "AWSLogs/" })) keys.push(key);
    const result = await handler(s3Event(keys));
    const total = result.counts.reduce(
      (sum, counts) => ({
        read: sum.read + counts.read,
        stored: sum.stored + counts.stored,
        dup: sum.dup + counts.duplicates,
      }),
      { read: 0, stored: 0, dup: 0 },
    );
    expect(result.objects).toBe(keys.length);
    expect(total.read).toBe(54);
    expect(total.dup).toBe(1);
    const again = await handler(s3Event(keys.slice(0, 1)));
    expect(again.counts[0]?.stored).toBe(0);
    // A digest notification is skipped, not rejected record by record.
    const digest = await handler(
      s3Event(["AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/07/01/x.json.gz"]),
    );
    expect(digest.counts).toEqual([]);
    expect(bucket.opened.filter((key) => key.includes("Digest"))).toEqual([]);
  });

  it("reads s3:// prefixes as archives, object by object", async () => {
    const bucket = new FolderBucket();
    let records = 0;
    for await (const item of readInputs(["s3://trail-bucket/AWSLogs/111122223333/"], { objects: bucket })) {
      if (item.kind === "record") records += 1;
      expect(item.location.startsWith("s3://trail-bucket/AWSLogs/111122223333/")).toBe(true);
    }
    expect(bucket.opened.length).toBe(2);
    expect(records).toBeGreaterThan(10);
  });

  it("decodes S3 event keys", () => {
    expect(decodeS3Key("AWSLogs/a+b%3Dc.json.gz")).toBe("AWSLogs/a b=c.json.gz");
  });

  it("lists log objects page by page, skipping digests, and streams an object", async () => {
    const s3 = mockClient(S3Client);
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      IsTruncated: true,
      NextContinuationToken: "page-2",
      Contents: [
        { Key: "AWSLogs/1/CloudTrail/us-east-1/a.json.gz" },
        { Key: "AWSLogs/1/CloudTrail-Digest/d.json.gz" },
      ],
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: "page-2" }).resolves({
      IsTruncated: false,
      Contents: [{ Key: "AWSLogs/1/CloudTrail/us-east-1/b.json.gz" }, { Key: "AWSLogs/1/notes.txt" }],
    });
    s3.on(GetObjectCommand).resolves({ Body: Readable.from(["{}"]) as never });
    const source = new S3ObjectSource(new S3Client({ region: "us-east-1" }));
    const keys: string[] = [];
    for await (const key of source.list({ bucket: "b", prefix: "AWSLogs/" })) keys.push(key);
    expect(keys).toEqual([
      "AWSLogs/1/CloudTrail/us-east-1/a.json.gz",
      "AWSLogs/1/CloudTrail/us-east-1/b.json.gz",
    ]);
    const body = await source.open("b", keys[0] ?? "");
    expect(body).toBeInstanceOf(Readable);
    s3.restore();
  });
});
