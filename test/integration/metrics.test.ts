import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { createSqsIngestHandler } from "@idc-audit/core/lambda";
import type { Runtime } from "@idc-audit/core/runtime";
import { INGEST_SERVICE, METRICS_NAMESPACE, silentLogger } from "@idc-audit/core/shared";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { eventsDir } from "../support/fixtures.ts";
import { fixtureDirectory, memoryRuntime } from "../support/store.ts";

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

const envelope = (name: string) =>
  JSON.parse(readFileSync(join(eventsDir, "envelopes", `eventbridge__${name}.json`), "utf8")) as {
    detail: Record<string, unknown>;
  };

/** An envelope of a fixture with its own event id, changed as the test says. */
function variant(name: string, id: string, change: (detail: Record<string, unknown>) => void): string {
  const copy = envelope(name);
  copy.detail.eventID = id;
  change(copy.detail);
  return JSON.stringify(copy);
}

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [metric: string]: unknown;
}

/** What Powertools wrote on stdout during `work`: its embedded-metric records, parsed. */
async function capturedMetrics(work: () => Promise<unknown>): Promise<EmfRecord[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfRecord);
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("ingest metrics (Powertools, embedded metric format)", () => {
  it("publishes one record per batch: events, attribution, unknown names, new fields, rejected", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: INGEST_SERVICE });
    const handler = createSqsIngestHandler({
      logger: silentLogger,
      metrics,
      openRuntime: async () => opened,
    });
    const event: SQSEvent = {
      Records: [
        message("known", JSON.stringify(envelope("GetRoleCredentials"))),
        message(
          "unknown-name",
          variant("GetRoleCredentials", "e0000000-0000-4000-8000-000000000001", (detail) => {
            detail.eventName = "GetRoleCredentialsV2";
          }),
        ),
        message(
          "new-field",
          variant("GetRoleCredentials", "e0000000-0000-4000-8000-000000000002", (detail) => {
            (detail.userIdentity as Record<string, unknown>).sessionScope = "portal";
          }),
        ),
        message("poison", '{"detail": {'),
      ],
    };

    const first = await capturedMetrics(() => handler(event));
    expect(first).toHaveLength(1);
    const [record] = first;
    expect(record?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(record?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
    expect(record?.service).toBe(INGEST_SERVICE);
    expect(record).toMatchObject({
      Events: 3,
      Attributed: 3,
      Unattributed: 0,
      UnknownNames: 1,
      NewFields: 1,
      Rejected: 1,
      Failed: 0,
      Duplicates: 0,
    });

    // Delivered again: a second record, of nothing new (the canary's counts do not grow with duplicates).
    const second = await capturedMetrics(() => handler(event));
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ Events: 0, UnknownNames: 0, NewFields: 0, Duplicates: 3, Rejected: 1 });
  });

  it("counts a batch the store could not take as failed, with nothing stored", async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const opened = runtime;
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: INGEST_SERVICE });
    const handler = createSqsIngestHandler({
      logger: silentLogger,
      metrics,
      openRuntime: async () => opened,
    });
    await opened.close();
    const records = await capturedMetrics(() =>
      handler({ Records: [message("m-1", JSON.stringify(envelope("GetRoleCredentials")))] }),
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ Events: 0, Failed: 1, Rejected: 0 });
  });
});
