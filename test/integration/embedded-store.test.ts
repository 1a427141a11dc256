import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { type EmbeddedDynamo, embeddedStoreOptions, startEmbeddedDynamo } from "@idc-audit/core/runtime";
import { TABLE_KEYS } from "@idc-audit/core/timeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// idc-audit patches dynalite (patches/dynalite+4.0.0.patch) so that item operations reuse the table's
// definition instead of reading it from LevelDB each time, and a put reads the item it replaces only when
// something needs it. These tests pin what the patches must not change.

let embedded: EmbeddedDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  embedded = await startEmbeddedDynamo();
  client = new DynamoDBClient({
    endpoint: embedded.endpoint,
    region: "local",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(async () => {
  client.destroy();
  await embedded.close();
});

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: "A" } });

async function createTable(name: string, withIndex: boolean): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [...TABLE_KEYS.KeySchema],
      AttributeDefinitions: [
        ...TABLE_KEYS.AttributeDefinitions,
        ...(withIndex ? [{ AttributeName: "g", AttributeType: "S" as const }] : []),
      ],
      ...(withIndex
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: "byG",
                KeySchema: [{ AttributeName: "g", KeyType: "HASH" }],
                Projection: { ProjectionType: "ALL" },
              },
            ],
          }
        : {}),
    }),
  );
  // As in DynamoDB, a new table takes item operations once it is ACTIVE.
  while ((await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== "ACTIVE") {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function indexed(table: string, g: string): Promise<string[]> {
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      IndexName: "byG",
      KeyConditionExpression: "g = :g",
      ExpressionAttributeValues: { ":g": { S: g } },
    }),
  );
  return (page.Items ?? []).map((item) => String(item.pk?.S)).sort();
}

describe("the embedded store (patched dynalite)", () => {
  it("still checks a put's condition against the item it would replace", async () => {
    await createTable("conditions", false);
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: "conditions",
          Item: { ...key("p"), v: { S: "1" } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    await put();
    await expect(put()).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    // The legacy form of a condition reads the existing item too.
    await expect(
      client.send(
        new PutItemCommand({
          TableName: "conditions",
          Item: { ...key("p"), v: { S: "2" } },
          Expected: { v: { Value: { S: "0" } } },
        }),
      ),
    ).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
  });

  it("charges a put the capacity of the larger of the item it writes and the item it replaces", async () => {
    await createTable("capacity", false);
    await client.send(
      new PutItemCommand({ TableName: "capacity", Item: { ...key("p"), v: { S: "x".repeat(3000) } } }),
    );
    const small = await client.send(
      new BatchWriteItemCommand({
        RequestItems: { capacity: [{ PutRequest: { Item: { ...key("p"), v: { S: "x" } } } }] },
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    // 3,000 bytes are three 1 KB write units; the small item alone would be one.
    expect(small.ConsumedCapacity?.[0]?.CapacityUnits).toBe(3);
  });

  it("returns the replaced item when asked, and replaces it either way", async () => {
    await createTable("replace", false);
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { replace: [{ PutRequest: { Item: { ...key("p"), v: { S: "old" } } } }] },
      }),
    );
    const replaced = await client.send(
      new PutItemCommand({
        TableName: "replace",
        Item: { ...key("p"), v: { S: "new" } },
        ReturnValues: "ALL_OLD",
      }),
    );
    expect(replaced.Attributes?.v).toEqual({ S: "old" });
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { replace: [{ PutRequest: { Item: { ...key("p"), v: { S: "newest" } } } }] },
      }),
    );
    const read = await client.send(
      new GetItemCommand({ TableName: "replace", Key: key("p"), ConsistentRead: true }),
    );
    expect(read.Item?.v).toEqual({ S: "newest" });
  });

  it("moves an item's index entry when the item is replaced", async () => {
    await createTable("moves", true);
    await client.send(new PutItemCommand({ TableName: "moves", Item: { ...key("p"), g: { S: "first" } } }));
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { moves: [{ PutRequest: { Item: { ...key("p"), g: { S: "second" } } } }] },
      }),
    );
    expect(await indexed("moves", "first")).toEqual([]);
    expect(await indexed("moves", "second")).toEqual(["p"]);
  });

  it("answers BatchGetItem as DynamoDB does: the items found, projected, and a capacity for every key", async () => {
    await createTable("batch-get", false);
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          "batch-get": [
            { PutRequest: { Item: { ...key("one"), v: { S: "first" }, w: { N: "1" } } } },
            { PutRequest: { Item: { ...key("two"), v: { S: "second" }, w: { N: "2" } } } },
          ],
        },
      }),
    );
    const answer = await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          "batch-get": {
            Keys: [key("one"), key("missing"), key("two")],
            ConsistentRead: true,
            ProjectionExpression: "pk, v",
          },
        },
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    const found = (answer.Responses?.["batch-get"] ?? []).sort((a, b) =>
      (a.pk?.S ?? "").localeCompare(b.pk?.S ?? ""),
    );
    expect(found).toEqual([
      { pk: { S: "one" }, v: { S: "first" } },
      { pk: { S: "two" }, v: { S: "second" } },
    ]);
    expect(answer.UnprocessedKeys ?? {}).toEqual({});
    expect(answer.ConsumedCapacity).toEqual([{ TableName: "batch-get", CapacityUnits: 3 }]);
  });

  it("forgets a deleted table's definition: no item operation on it, and its successor's index is used", async () => {
    await createTable("recreated", false);
    await client.send(
      new PutItemCommand({ TableName: "recreated", Item: { ...key("before"), g: { S: "x" } } }),
    );
    await client.send(new DeleteTableCommand({ TableName: "recreated" }));
    await expect(
      client.send(new PutItemCommand({ TableName: "recreated", Item: { ...key("gone"), g: { S: "x" } } })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });

    await createTable("recreated", true);
    await client.send(
      new PutItemCommand({ TableName: "recreated", Item: { ...key("after"), g: { S: "x" } } }),
    );
    expect(await indexed("recreated", "x")).toEqual(["after"]);
  });
});

// dynalite's own store object, below its HTTP API: how often a table's definition is read from LevelDB.
interface TableDefinition {
  TableStatus: string;
}
type Callback<T> = (error: Error | null, value?: T) => void;
interface DynaliteStore {
  db: { open(): Promise<void>; close(): Promise<void> };
  tableDb: {
    get(key: string, callback: Callback<TableDefinition>): void;
    put(key: string, value: TableDefinition, callback: Callback<void>): void;
  };
  getTable(name: string, callback: Callback<TableDefinition>): void;
  getItemDb(name: string): {
    get(key: string, callback: Callback<object>): void;
    getMany(keys: string[], callback: Callback<(object | undefined)[]>): void;
  };
}
const dynaliteRequire = createRequire(createRequire(import.meta.url).resolve("dynalite"));
const dynaliteDb = dynaliteRequire("./db") as { create(options: object): DynaliteStore };
const dynaliteCreateTable = dynaliteRequire("./actions/createTable") as (
  store: DynaliteStore,
  data: object,
  callback: Callback<unknown>,
) => void;

const dynalitePutItem = dynaliteRequire("./actions/putItem") as (
  store: DynaliteStore,
  data: object,
  callback: Callback<unknown>,
) => void;
const dynaliteBatchGetItem = dynaliteRequire("./actions/batchGetItem") as (
  store: DynaliteStore,
  data: object,
  callback: Callback<unknown>,
) => void;

async function storeWithTable(
  options: object = { createTableMs: 0 },
): Promise<{ store: DynaliteStore; definitionReads: () => number }> {
  const store = dynaliteDb.create(options);
  await promisify(dynaliteCreateTable)(store, {
    TableName: "t",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
  });
  // createTable marks the table ACTIVE on a timer of createTableMs: wait for it, before reads are counted.
  const get = store.tableDb.get.bind(store.tableDb);
  while ((await promisify(get)("t"))?.TableStatus !== "ACTIVE")
    await new Promise((resolve) => setTimeout(resolve, 5));
  let reads = 0;
  store.tableDb.get = (key, callback) => {
    reads += 1;
    get(key, callback);
  };
  return { store, definitionReads: () => reads };
}

describe("the embedded store's BatchGetItem", () => {
  it("reads all of a request's keys from LevelDB at once, not one read per key", async () => {
    const { store } = await storeWithTable();
    const items = store.getItemDb("t");
    await promisify(dynalitePutItem)(store, { TableName: "t", Item: { pk: { S: "a" } } });
    let singleReads = 0;
    let manyReads = 0;
    const get = items.get.bind(items);
    const getMany = items.getMany.bind(items);
    items.get = (itemKey, callback) => {
      singleReads += 1;
      get(itemKey, callback);
    };
    items.getMany = (itemKeys, callback) => {
      manyReads += 1;
      getMany(itemKeys, callback);
    };
    const answer = (await promisify(dynaliteBatchGetItem)(store, {
      RequestItems: { t: { Keys: [{ pk: { S: "a" } }, { pk: { S: "b" } }, { pk: { S: "c" } }] } },
    })) as { Responses: Record<string, unknown[]> };
    expect(answer.Responses.t).toEqual([{ pk: { S: "a" } }]);
    expect({ singleReads, manyReads }).toEqual({ singleReads: 0, manyReads: 1 });
  });
});

describe("the embedded store's table definitions", () => {
  it("are read from LevelDB once, not once per item operation", async () => {
    const { store, definitionReads } = await storeWithTable();
    const getTable = promisify(store.getTable.bind(store));
    for (let i = 0; i < 5; i += 1) expect((await getTable("t"))?.TableStatus).toBe("ACTIVE");
    expect(definitionReads()).toBe(1);
  });

  it("are not cached from a read that overlapped a change: the next operation sees the change", async () => {
    const { store } = await storeWithTable();
    const getTable = promisify(store.getTable.bind(store));
    // A read taken before the definition changes, answered after the change started.
    const overlapping = getTable("t");
    const changed = promisify(store.tableDb.put.bind(store.tableDb))("t", { TableStatus: "DELETING" });
    await Promise.all([overlapping, changed]);
    await expect(getTable("t")).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe("the embedded store's LevelDB", () => {
  // 10 MB of items: past LevelDB's default 4 MB write buffer, within the embedded store's 16 MB.
  async function tableFilesAfterWriting(options: (path: string) => object): Promise<string[]> {
    const path = await mkdtemp(join(tmpdir(), "idc-audit-leveldb-"));
    let store: DynaliteStore | undefined;
    try {
      ({ store } = await storeWithTable({ ...options(path), createTableMs: 0 }));
      const payload = "x".repeat(200_000);
      for (let index = 0; index < 50; index += 1)
        await promisify(dynalitePutItem)(store, {
          TableName: "t",
          Item: { pk: { S: `item-${index}` }, payload: { S: payload } },
        });
      // No wait needed: with 4 MB, LevelDB fills a second write buffer by the 43rd item and holds the put until
      // the first is written to a table file (.ldb).
      return (await readdir(path)).filter((name) => name.endsWith(".ldb"));
    } finally {
      await store?.db.close();
      await rm(path, { recursive: true, force: true });
    }
  }

  it("is given the embedded store's write buffer: 10 MB of writes stay in its log, where the default flushes them", async () => {
    expect(await tableFilesAfterWriting((path) => ({ path }))).not.toEqual([]);
    expect(await tableFilesAfterWriting((path) => embeddedStoreOptions(path))).toEqual([]);
  });
});
