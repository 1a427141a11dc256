import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExportDirectory } from "@idc-audit/core/identity";
import { createSqsIngestHandler } from "@idc-audit/core/lambda";
import type { Runtime } from "@idc-audit/core/runtime";
import type { AuditLogger } from "@idc-audit/core/shared";
import { synthDirectory, synthEvents } from "@idc-audit/core/synth";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { eventsDir, fixtureFiles } from "../support/fixtures.ts";
import { dumpTable, fixtureDirectory, memoryRuntime } from "../support/store.ts";

function message(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "1751328000000",
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: "1751328000000",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:idc-audit-ingest",
    awsRegion: "us-east-1",
  };
}

function recordingLogger() {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const logger: AuditLogger = {
    debug: (message, data) => lines.push({ level: "debug", message, ...(data ? { data } : {}) }),
    info: (message, data) => lines.push({ level: "info", message, ...(data ? { data } : {}) }),
    warn: (message, data) => lines.push({ level: "warn", message, ...(data ? { data } : {}) }),
    error: (message, data) => lines.push({ level: "error", message, ...(data ? { data } : {}) }),
  };
  return { logger, lines };
}

const envelopes = fixtureFiles("envelopes", /^eventbridge__.*\.json$/).map((path) =>
  readFileSync(join(eventsDir, path), "utf8"),
);

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("SQS ingest handler", () => {
  it("stores every envelope and fails only the poison message", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const { logger, lines } = recordingLogger();
    const handler = createSqsIngestHandler({ logger, openRuntime: async () => opened });
    const event: SQSEvent = {
      Records: [
        ...envelopes.map((body, index) => message(`m-${index}`, body)),
        message("poison-json", '{"detail-type": "AWS API Call via CloudTrail", "detail": {'),
        message(
          "poison-record",
          JSON.stringify({ "detail-type": "x", detail: { eventName: "ListAccounts" } }),
        ),
      ],
    };
    const response = await handler(event);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      "poison-json",
      "poison-record",
    ]);
    expect(response.counts.stored + response.counts.ignored).toBe(envelopes.length);
    expect(response.counts.stored).toBeGreaterThan(3);
    // The rejected record is named with its reason, and no log line carries an event.
    const rejected = lines.filter((line) => line.message === "message rejected");
    expect(rejected.map((line) => line.data?.messageId)).toEqual(["poison-json", "poison-record"]);
    expect(String(rejected[1]?.data?.reason)).toMatch(/eventID/);
    for (const line of lines)
      expect(JSON.stringify(line)).not.toMatch(/userIdentity|additionalEventData|LoginTo/);
  });

  it("gives the same tables when SQS delivers a batch twice", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const handler = createSqsIngestHandler({
      logger: recordingLogger().logger,
      openRuntime: async () => opened,
    });
    const event: SQSEvent = { Records: envelopes.map((body, index) => message(`m-${index}`, body)) };
    const first = await handler(event);
    const second = await handler(event);
    expect(second.batchItemFailures).toEqual([]);
    expect(second.counts.stored).toBe(0);
    expect(second.counts.duplicates).toBe(first.counts.stored);
  });

  it("fails the whole batch for retry when the store is unreachable, counting nothing as stored", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const handler = createSqsIngestHandler({
      logger: recordingLogger().logger,
      openRuntime: async () => opened,
    });
    await opened.close();
    const event: SQSEvent = {
      Records: envelopes.slice(0, 2).map((body, index) => message(`m-${index}`, body)),
    };
    const response = await handler(event);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(["m-0", "m-1"]);
    expect(response.counts.stored).toBe(0);
    runtime = undefined;
  });
});

describe("SQS ingest handler on a generated archive", () => {
  it("gives the tables of one ordered delivery for thousands of envelopes, shuffled and re-delivered", async () => {
    // Prepare: 2,000 events as EventBridge envelopes; a reference store fed in order through the same core.
    const options = { events: 2000, users: 30, seed: 5 };
    const records = [...synthEvents(options)];
    const directory = ExportDirectory.fromJson(synthDirectory(options));
    const envelope = (record: Record<string, unknown>) =>
      JSON.stringify({
        version: "0",
        id: `eb-${String(record.eventID)}`,
        "detail-type": "AWS API Call via CloudTrail",
        source: "aws.sso",
        account: "111122223333",
        time: record.eventTime,
        region: "us-east-1",
        resources: [],
        detail: record,
      });
    const reference = await memoryRuntime(directory);
    const ordered = createSqsIngestHandler({
      logger: recordingLogger().logger,
      openRuntime: async () => reference,
    });
    for (let start = 0; start < records.length; start += 10) {
      const batch = records.slice(start, start + 10);
      await ordered({
        Records: batch.map((record, index) => message(`o-${start + index}`, envelope(record))),
      });
    }
    const expected = await dumpTable(reference);
    await reference.close();

    // Act: the same envelopes shuffled, a fifth delivered twice, in SQS batches of 10.
    let seed = 17;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const deliveries = [...records, ...records.filter((_, index) => index % 5 === 0)]
      .map((record) => ({ record, key: random() }))
      .sort((a, b) => a.key - b.key)
      .map((entry) => entry.record);
    runtime = await memoryRuntime(directory);
    const opened = runtime;
    const handler = createSqsIngestHandler({
      logger: recordingLogger().logger,
      openRuntime: async () => opened,
    });
    let failures = 0;
    for (let start = 0; start < deliveries.length; start += 10) {
      const batch = deliveries.slice(start, start + 10);
      const response = await handler({
        Records: batch.map((record, index) => message(`m-${start + index}`, envelope(record))),
      });
      failures += response.batchItemFailures.length;
    }

    // Assess: no message failed, and the tables are the ordered delivery's.
    expect(failures).toBe(0);
    expect(await dumpTable(opened)).toEqual(expected);
  });
});
