/** The distributed backfill's pure parts and its Step Functions adapter (SDK mocked at its boundary). */
import { Writable } from "node:stream";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import {
  backfillDefinition,
  dayOfKey,
  dayPrefixes,
  dayRange,
  keyInRange,
  parseDay,
} from "@idc-audit/core/backfill";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DistributedBackfill } from "../../packages/core/src/backfill/sfn.ts";
import { reconcileCountsOf, runDistributedBackfill } from "../../packages/core/src/cli/backfill.ts";

const KEY =
  "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2026/07/01/111122223333_CloudTrail_us-east-1_x.json.gz";
const STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:idc-audit-production-backfill";
const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:idc-audit-production-backfill:run-1";
const MAP_RUN = "arn:aws:states:us-east-1:123456789012:mapRun:idc-audit-production-backfill/run-1:m";

describe("day ranges", () => {
  it("accepts calendar days only", () => {
    expect(parseDay("2026-07-01", "--since")).toBe("2026-07-01");
    expect(parseDay(undefined, "--since")).toBeUndefined();
    for (const bad of ["2026-02-30", "2026-13-01", "2026-07-01T00:00:00Z", "yesterday", "20260701"]) {
      expect(() => parseDay(bad, "--until"), bad).toThrow(
        `--until ${bad} is not a day of the form 2026-07-01`,
      );
    }
    expect(() => dayRange("2026-07-02", "2026-07-01")).toThrow(
      "--since 2026-07-02 is after --until 2026-07-01",
    );
    expect(dayRange(undefined, "2026-07-01")).toEqual({ until: "2026-07-01" });
  });

  it("reads CloudTrail's delivery day from a key and keeps keys of the range, both ends included", () => {
    expect(dayOfKey(KEY)).toBe("2026-07-01");
    expect(dayOfKey("AWSLogs/notes.json")).toBeUndefined();
    expect(keyInRange(KEY, { since: "2026-07-01", until: "2026-07-01" })).toBe(true);
    expect(keyInRange(KEY, { since: "2026-07-02" })).toBe(false);
    expect(keyInRange(KEY, { until: "2026-06-30" })).toBe(false);
    expect(keyInRange(KEY, {})).toBe(true);
    // A key without a day cannot be placed: it is read rather than possibly hiding events.
    expect(keyInRange("AWSLogs/notes.json", { since: "2026-07-02" })).toBe(true);
  });

  it("finds one day's prefixes by listing folders down to the regions, in plain and organization trails", async () => {
    const folders: Record<string, string[]> = {
      "AWSLogs/": ["AWSLogs/111122223333/", "AWSLogs/o-abc/"],
      "AWSLogs/111122223333/": [
        "AWSLogs/111122223333/CloudTrail/",
        "AWSLogs/111122223333/CloudTrail-Digest/",
      ],
      "AWSLogs/111122223333/CloudTrail/": ["AWSLogs/111122223333/CloudTrail/us-east-1/"],
      "AWSLogs/o-abc/": ["AWSLogs/o-abc/444455556666/"],
      "AWSLogs/o-abc/444455556666/": ["AWSLogs/o-abc/444455556666/CloudTrail/"],
      "AWSLogs/o-abc/444455556666/CloudTrail/": [
        "AWSLogs/o-abc/444455556666/CloudTrail/eu-west-1/",
        "AWSLogs/o-abc/444455556666/CloudTrail/us-east-1/",
      ],
    };
    const listed: string[] = [];
    async function* list(prefix: string) {
      listed.push(prefix);
      yield* folders[prefix] ?? [];
    }
    const prefixes: string[] = [];
    for await (const prefix of dayPrefixes(list, "AWSLogs/", "2026-07-01")) prefixes.push(prefix);
    expect(prefixes).toEqual([
      "AWSLogs/111122223333/CloudTrail/us-east-1/2026/07/01/",
      "AWSLogs/o-abc/444455556666/CloudTrail/eu-west-1/2026/07/01/",
      "AWSLogs/o-abc/444455556666/CloudTrail/us-east-1/2026/07/01/",
    ]);
    expect(listed).not.toContain("AWSLogs/111122223333/CloudTrail-Digest/");
  });
});

describe("backfillDefinition", () => {
  const options = {
    functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
    resultBucket: "results",
    resultPrefix: "backfill-results",
    maxConcurrency: 10,
    toleratedFailurePercentage: 5,
    objectsPerBatch: 50,
  };

  it("refuses settings Step Functions would refuse at deploy time", () => {
    expect(() => backfillDefinition({ ...options, maxConcurrency: 0 })).toThrow("maxConcurrency");
    expect(() => backfillDefinition({ ...options, toleratedFailurePercentage: 101 })).toThrow(
      "toleratedFailurePercentage",
    );
    expect(() => backfillDefinition({ ...options, objectsPerBatch: 1.5 })).toThrow("objectsPerBatch");
  });

  it("hands each batch its objects and the bucket and days of the execution", () => {
    interface MapState {
      ItemBatcher: unknown;
      ItemProcessor: { States: { IngestObjects: { Parameters: unknown } } };
    }
    const definition = backfillDefinition(options) as { StartAt: string; States: Record<string, MapState> };
    const map = definition.States[definition.StartAt] as MapState;
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 50,
      BatchInput: { "bucket.$": "$.bucket", "since.$": "$.since", "until.$": "$.until" },
    });
    expect(map.ItemProcessor.States.IngestObjects.Parameters).toEqual({
      FunctionName: options.functionArn,
      "Payload.$": "$",
    });
  });
});

/** What the SDK's GetObject body offers the adapter: `transformToString`. */
function body(value: unknown) {
  return { transformToString: async () => JSON.stringify(value) };
}

function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += chunk;
      callback();
    },
  });
  return { stream, text: () => text };
}

describe("DistributedBackfill and `backfill --distributed`", () => {
  const sfn = mockClient(SFNClient);
  const s3 = mockClient(S3Client);
  afterEach(() => {
    sfn.reset();
    s3.reset();
  });

  function finishedRun() {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn: MAP_RUN } as never] });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: "RUNNING" } as never)
      .resolves({
        status: "SUCCEEDED",
        output: JSON.stringify({
          MapRunArn: MAP_RUN,
          ResultWriterDetails: { Bucket: "results", Key: "r/m/manifest.json" },
        }),
      } as never);
    sfn
      .on(DescribeMapRunCommand)
      .resolvesOnce({
        itemCounts: {
          total: 120,
          succeeded: 40,
          failed: 0,
          pending: 70,
          running: 10,
          timedOut: 0,
          aborted: 0,
        },
      } as never)
      .resolves({
        itemCounts: {
          total: 120,
          succeeded: 100,
          failed: 20,
          pending: 0,
          running: 0,
          timedOut: 0,
          aborted: 0,
        },
      } as never);
    s3.on(GetObjectCommand, { Key: "r/m/manifest.json" }).resolves({
      Body: body({
        DestinationBucket: "results",
        ResultFiles: {
          SUCCEEDED: [{ Key: "r/m/SUCCEEDED_0.json" }],
          FAILED: [{ Key: "r/m/FAILED_0.json" }],
          PENDING: [],
        },
      }),
    } as never);
    s3.on(GetObjectCommand, { Key: "r/m/SUCCEEDED_0.json" }).resolves({
      Body: body([
        {
          Output: JSON.stringify({
            objects: 50,
            skipped: 2,
            read: 900,
            stored: 800,
            duplicates: 90,
            ignored: 5,
            rejected: 5,
            failures: 0,
          }),
        },
        {
          Output: JSON.stringify({
            objects: 50,
            skipped: 0,
            read: 1000,
            stored: 1000,
            duplicates: 0,
            ignored: 0,
            rejected: 0,
            failures: 0,
          }),
        },
      ]),
    } as never);
    s3.on(GetObjectCommand, { Key: "r/m/FAILED_0.json" }).resolves({
      Body: body([
        {
          Input: JSON.stringify({
            Items: Array.from({ length: 20 }, (_, i) => ({ Key: `k${i}` })),
            BatchInput: { bucket: "b" },
          }),
          Error: "BackfillBatchError",
          Cause: "1 of 20 objects failed: k3 (AccessDenied: Access Denied)",
        },
      ]),
    } as never);
  }

  it("starts with every input field, follows the map run's counters, and sums the result writer's files", async () => {
    finishedRun();
    const runner = new DistributedBackfill(
      new SFNClient({ region: "us-east-1" }),
      new S3Client({ region: "us-east-1" }),
    );
    expect(
      await runner.start(STATE_MACHINE, { bucket: "org-trail", prefix: "AWSLogs/", since: "2024-01-01" }),
    ).toBe(EXECUTION);
    expect(JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input))).toEqual({
      bucket: "org-trail",
      prefix: "AWSLogs/",
      since: "2024-01-01",
      until: null,
    });
    const seen: number[] = [];
    const final = await runner.follow(EXECUTION, {
      pollMs: 1,
      onProgress: (p) => seen.push(p.objects.succeeded),
    });
    expect(seen).toEqual([40, 100]);
    expect(final).toEqual({
      status: "SUCCEEDED",
      objects: { total: 120, succeeded: 100, failed: 20, pending: 0, running: 0 },
    });
    const summary = await runner.summary(EXECUTION);
    expect(summary).toEqual({
      objects: 120,
      skipped: 2,
      stored: 1800,
      duplicates: 90,
      rejected: 5,
      failures: 20,
      failed: [
        {
          keys: Array.from({ length: 20 }, (_, i) => `k${i}`),
          error: "BackfillBatchError",
          cause: "1 of 20 objects failed: k3 (AccessDenied: Access Denied)",
        },
      ],
    });
    expect(reconcileCountsOf(summary as never)).toEqual({
      objects: 118,
      events: 1890,
      present: 90,
      missing: 1800,
      ingested: 1800,
      failedObjects: 20,
    });
  });

  it("prints progress and the totals, exiting 1 when objects failed within the run's tolerance", async () => {
    finishedRun();
    const out = sink();
    const err = sink();
    const code = await runDistributedBackfill({
      uri: "s3://org-trail/AWSLogs/",
      range: { since: "2024-01-01", until: "2024-12-31" },
      stateMachineArn: STATE_MACHINE,
      region: undefined,
      json: false,
      stdout: out.stream,
      stderr: err.stream,
      signal: new AbortController().signal,
      pollMs: 1,
    });
    // The run SUCCEEDED (20 of 120 objects is within its tolerance), yet those objects were not ingested.
    expect(code).toBe(1);
    expect(err.text()).toContain(`started ${EXECUTION}`);
    expect(err.text()).toContain("running: 40/120 objects done, 0 failed, 10 running");
    expect(err.text()).toContain("succeeded: 120/120 objects done, 20 failed, 0 running");
    expect(out.text()).toContain(
      "120 objects (2 skipped): 1800 events stored, 90 duplicates, 5 rejected, 20 objects failed",
    );
    expect(out.text()).toContain("failed: 20 objects, BackfillBatchError: 1 of 20 objects failed: k3");
  });

  it("stops following on Ctrl-C, leaving the run going, and says how to watch it", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: "RUNNING" } as never);
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const controller = new AbortController();
    const err = sink();
    const pending = runDistributedBackfill({
      uri: "s3://org-trail/AWSLogs/",
      range: {},
      stateMachineArn: STATE_MACHINE,
      region: undefined,
      json: false,
      stdout: sink().stream,
      stderr: err.stream,
      signal: controller.signal,
      pollMs: 60_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await pending).toBe(0);
    expect(err.text()).toContain(`aws stepfunctions describe-execution --execution-arn ${EXECUTION}`);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("exits 1 when the run failed", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: "FAILED" } as never);
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const out = sink();
    const code = await runDistributedBackfill({
      uri: "s3://org-trail/AWSLogs/",
      range: {},
      stateMachineArn: STATE_MACHINE,
      region: undefined,
      json: false,
      stdout: out.stream,
      stderr: sink().stream,
      signal: new AbortController().signal,
      pollMs: 1,
    });
    expect(code).toBe(1);
    expect(out.text()).toContain("failed: no results were written");
  });
});
