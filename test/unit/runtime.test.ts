import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  configFromEnvironment,
  HEAP_GROWING_PERCENT,
  heapGrowthFlag,
  openRuntime,
} from "@idc-audit/core/runtime";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";

const dynamo = mockClient(DynamoDBClient);
afterEach(() => dynamo.reset());

describe("runtime wiring", () => {
  it("never describes or creates a table in AWS: that belongs to the infrastructure", async () => {
    dynamo.on(DescribeTableCommand).rejects(new Error("should not be called"));
    dynamo.on(CreateTableCommand).rejects(new Error("should not be called"));
    const runtime = await openRuntime({ tableName: "idc-audit-prod-AuditTable", region: "us-east-1" });
    await runtime.close();
    expect(dynamo.commandCalls(DescribeTableCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(CreateTableCommand)).toHaveLength(0);
  });

  it("gives the table's client no logger step: items and query answers are never formatted for a log", async () => {
    const runtime = await openRuntime({ tableName: "idc-audit-prod-AuditTable", region: "us-east-1" });
    const steps = runtime.store.client.middlewareStack.identify();
    await runtime.close();
    expect(steps.some((step) => step.startsWith("loggerMiddleware"))).toBe(false);
    // The rest of the stack is intact: requests are still signed and retried.
    expect(steps.some((step) => step.startsWith("retryMiddleware"))).toBe(true);
  });

  it("reads a Lambda function's configuration from its environment, and says what is missing", () => {
    expect(
      configFromEnvironment({
        TABLE_NAME: "t",
        IDENTITY_STORE_ID: "d-1234567890",
        IDENTITY_STORE_REGION: "eu-west-1",
        ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:111122223333:alerts",
      }),
    ).toEqual({
      tableName: "t",
      identityStoreId: "d-1234567890",
      identityStoreRegion: "eu-west-1",
      alertTopicArn: "arn:aws:sns:eu-west-1:111122223333:alerts",
    });
    expect(() => configFromEnvironment({})).toThrow(/TABLE_NAME/);
  });
});

describe("heap growth of a local idc-audit process", () => {
  it("is fixed by default, whatever heap limit node was given", () => {
    const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
    expect(heapGrowthFlag([])).toBe(flag);
    expect(heapGrowthFlag(["--enable-source-maps", "--max-old-space-size=4096"])).toBe(flag);
  });

  it("is left as set when node was started with a growth of its own, in either spelling V8 reads", () => {
    expect(heapGrowthFlag(["--heap-growing-percent=200"])).toBeUndefined();
    expect(heapGrowthFlag(["--heap_growing-percent=20"])).toBeUndefined();
  });
});
