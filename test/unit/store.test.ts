import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { itemKeyString, Keys, mapLimit, TableStore } from "@idc-audit/core/timeline";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";

const dynamo = mockClient(DynamoDBClient);
afterEach(() => dynamo.reset());

const noWait = async () => {};
const item = (n: number) => ({ pk: `P#${n}`, sk: "S", data: "x" });

describe("table store", () => {
  it("builds versioned keys exactly", () => {
    expect(Keys.event("e1")).toEqual({ pk: "EVENT#v1#e1", sk: "EVENT" });
    expect(Keys.sessionEvent("c1", "2026-07-01T00:00:00Z", "e1")).toEqual({
      pk: "SESSION#v1#c1",
      sk: "EVENT#2026-07-01T00:00:00Z#e1",
    });
    expect(Keys.userEvent({ identityStoreId: "d-1", userId: "u1" }, "2026-07-01T00:00:00Z", "e1")).toEqual({
      pk: "USER#v1#d-1#u1",
      sk: "EVENT#2026-07-01T00:00:00Z#e1",
    });
    expect(Keys.alias("EXT", "00uAbC", { identityStoreId: "d-1", userId: "u1" }, "https://okta")).toEqual({
      pk: "ALIAS#v1#00uabc",
      sk: "EXT#https://okta#d-1#u1",
    });
    expect(Keys.failedSignInUser("T", "e1", { identityStoreId: "d-1", userId: "u1" })).toEqual({
      pk: "FAILED#v1",
      sk: "T#e1#USER#d-1#u1",
    });
  });

  it("writes in batches of 25 and retries UnprocessedItems until every item is written", async () => {
    const requests: number[] = [];
    let failedOnce = false;
    dynamo.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      const batch = input.RequestItems.table ?? [];
      requests.push(batch.length);
      if (!failedOnce) {
        failedOnce = true;
        return { UnprocessedItems: { table: batch.slice(0, 5) } };
      }
      return { UnprocessedItems: {} };
    });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
      concurrency: 1,
    });
    await store.putAll(Array.from({ length: 60 }, (_, n) => item(n)));
    expect(requests).toEqual([25, 5, 25, 10]);
    expect(store.stats.unprocessedRetries).toBe(1);
  });

  it("writes one copy of an item given twice in one call (DynamoDB rejects duplicate keys in a batch)", async () => {
    const written: unknown[] = [];
    dynamo.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      written.push(...(input.RequestItems.table ?? []));
      return {};
    });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
    });
    await store.putAll([item(1), item(1), item(2)]);
    // As DynamoDB takes them: attribute values, marshalled by the store itself.
    expect(written).toEqual([
      { PutRequest: { Item: { pk: { S: "P#1" }, sk: { S: "S" }, data: { S: "x" } } } },
      { PutRequest: { Item: { pk: { S: "P#2" }, sk: { S: "S" }, data: { S: "x" } } } },
    ]);
  });

  it("gives up with a retryable store error rather than dropping items that stay unprocessed", async () => {
    dynamo.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
      maxUnprocessedRetries: 3,
    });
    await expect(store.putAll([item(1)])).rejects.toMatchObject({ name: "StoreError", retryable: true });
  });

  it("inserts 25 statements a request, reports the keys that existed and sends again only throttled statements", async () => {
    const sent: string[][] = [];
    let throttledOnce = false;
    dynamo
      .on(BatchExecuteStatementCommand)
      .callsFake((input: { Statements: { Statement: string; Parameters: AttributeValue[] }[] }) => {
        sent.push(input.Statements.map(({ Parameters }) => String(Parameters[0]?.S)));
        return {
          Responses: input.Statements.map(({ Statement, Parameters }) => {
            expect(Statement).toBe(`INSERT INTO "table" VALUE {'pk' : ?, 'sk' : ?, 'data' : ?}`);
            expect(Parameters).toEqual([{ S: Parameters[0]?.S }, { S: "S" }, { S: "x" }]);
            if (Parameters[0]?.S === "P#3") return { Error: { Code: "DuplicateItem", Message: "exists" } };
            if (Parameters[0]?.S === "P#27" && !throttledOnce) {
              throttledOnce = true;
              return { Error: { Code: "ThrottlingError", Message: "slow down" } };
            }
            return {};
          }),
        };
      });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
      concurrency: 1,
    });
    const existed = await store.insertAll(Array.from({ length: 30 }, (_, n) => item(n)));
    expect([...existed]).toEqual([itemKeyString(item(3))]);
    expect(sent.map((statements) => statements.length)).toEqual([25, 5, 1]);
    expect(sent[2]).toEqual(["P#27"]);
    expect(store.stats).toMatchObject({
      batchInserts: 3,
      itemsWritten: 29,
      insertsRefused: 1,
      unprocessedRetries: 1,
    });
  });

  it("inserts an item's attributes that have a value, and no parameter for one left undefined", async () => {
    const statements: { Statement: string; Parameters: AttributeValue[] }[] = [];
    dynamo
      .on(BatchExecuteStatementCommand)
      .callsFake((input: { Statements: { Statement: string; Parameters: AttributeValue[] }[] }) => {
        statements.push(...input.Statements);
        return { Responses: input.Statements.map(() => ({})) };
      });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), { tableName: "table" });
    await store.insertAll([{ pk: "P#1", sk: "S", left: undefined, count: 2, tags: ["a"] }]);
    expect(statements).toEqual([
      {
        Statement: `INSERT INTO "table" VALUE {'pk' : ?, 'sk' : ?, 'count' : ?, 'tags' : ?}`,
        Parameters: [{ S: "P#1" }, { S: "S" }, { N: "2" }, { L: [{ S: "a" }] }],
      },
    ]);
  });

  it("raises an answer that leaves inserts unanswered, rather than count them as made", async () => {
    dynamo.on(BatchExecuteStatementCommand).resolves({ Responses: [{}] });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
    });
    await expect(store.insertAll([item(1), item(2)])).rejects.toThrow("answered 1 of 2 inserts");
  });

  it("raises an insert the table refuses, naming its key and the reason", async () => {
    dynamo.on(BatchExecuteStatementCommand).resolves({
      Responses: [
        {},
        { Error: { Code: "ValidationError", Message: "One or more parameter values were invalid" } },
      ],
    });
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
    });
    await expect(store.insertAll([item(1), item(2)])).rejects.toThrow(
      "INSERT of item pk=P#2 sk=S failed: ValidationError: One or more parameter values were invalid",
    );
  });

  it("raises an item DynamoDB has no type for, naming its key, before any of the call's items is sent", async () => {
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), { tableName: "table" });
    const unstorable = { pk: "P#2", sk: "S", data: new Date(0) };
    await expect(store.putAll([item(1), unstorable])).rejects.toMatchObject({
      name: "StoreError",
      retryable: false,
      message: expect.stringContaining("cannot write the item pk=P#2 sk=S"),
    });
    expect(dynamo.commandCalls(BatchWriteItemCommand)).toHaveLength(0);
  });

  it("fails fast on errors that retrying cannot fix", async () => {
    dynamo
      .on(BatchWriteItemCommand)
      .rejects(Object.assign(new Error("bad key"), { name: "ValidationException" }));
    const store = new TableStore(new DynamoDBClient({ region: "us-east-1" }), {
      tableName: "table",
      sleep: noWait,
    });
    await expect(store.putAll([item(1)])).rejects.toMatchObject({ name: "StoreError", retryable: false });
    expect(dynamo.commandCalls(BatchWriteItemCommand)).toHaveLength(1);
  });
});

describe("mapLimit", () => {
  it("starts nothing after a failure, and raises it once the work already started has ended", async () => {
    // Prepare: 10 inputs, 3 at a time; the second fails at once, the others take a while.
    const started: number[] = [];
    const ended: number[] = [];
    // Act
    const raised = await mapLimit([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, async (input) => {
      started.push(input);
      if (input === 1) throw new Error("input 1 failed");
      await new Promise((resolve) => setTimeout(resolve, 20));
      ended.push(input);
      return input;
    }).catch((error: unknown) => ({ error, endedWhenRaised: [...ended] }));
    // Assess
    expect(raised).toMatchObject({ error: new Error("input 1 failed"), endedWhenRaised: [0, 2] });
    expect(started).toEqual([0, 1, 2]);
  });

  it("returns every result in the order of the inputs", async () => {
    const results = await mapLimit([30, 10, 20], 2, async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms * 2;
    });
    expect(results).toEqual([60, 20, 40]);
  });
});
