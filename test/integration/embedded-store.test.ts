import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { type EmbeddedDynamo, startEmbeddedDynamo } from "@idc-audit/core/runtime";
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
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
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
