import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  type ScanCommandOutput,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { convertToAttr, marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { LRUCache } from "lru-cache";
import { StoreError } from "../shared/errors.ts";
import { type ItemKey, itemKeyString, Keys } from "./keys.ts";

/** A stored item: its key, its attributes. Payloads are JSON strings (`data`), cheaper to marshal than maps. */
export type Item = ItemKey & Record<string, unknown>;

export interface TableStoreOptions {
  readonly tableName: string;
  /** Retries of `UnprocessedItems`/`UnprocessedKeys` before giving up with an error (nothing is dropped). */
  readonly maxUnprocessedRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Parallel requests at most, per call. */
  readonly concurrency?: number;
}

const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
/** `BatchStatementError` codes worth sending the statement again for. */
const RETRYABLE_STATEMENT_ERRORS: ReadonlySet<string> = new Set([
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
  "ThrottlingError",
  "InternalServerError",
  "TransactionConflict",
]);
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Throttling and server-side failures are worth retrying; validation and access errors are not. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const metadata = (error as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown }).$metadata;
  if (/Throughput|Throttl|RequestLimit|InternalServer|ServiceUnavailable/.test(error.name)) return true;
  if (metadata?.httpStatusCode !== undefined && metadata.httpStatusCode >= 500) return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up/.test(error.message);
}

function storeError(operation: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreError(`${operation} failed: ${detail}`, { cause: error, retryable: isRetryable(error) });
}

/**
 * Runs `work` over `inputs` with at most `limit` in flight. After a failure nothing new is started, and the
 * first failure is raised once the work already started has ended: nothing is still writing when the caller
 * hears of it.
 */
export async function mapLimit<T, R>(
  inputs: readonly T[],
  limit: number,
  work: (input: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(inputs.length);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, inputs.length) }, async () => {
    while (!failed && next < inputs.length) {
      const index = next++;
      try {
        results[index] = await work(inputs[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await allOrFirstFailure(workers);
  return results;
}

/** Waits for every promise to settle, then raises the first failure, if any (`Promise.all` raises at once). */
export async function allOrFirstFailure<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** The table's keys: string `pk` and `sk`, as infra/storage.ts declares them. No secondary index. */
export const TABLE_KEYS = {
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
} as const satisfies Pick<CreateTableCommandInput, "AttributeDefinitions" | "KeySchema">;

/**
 * Keys of items this process has written that never change (a function of their key, never deleted), so that
 * it does not write them again batch after batch. Bounded: the least recently used is forgotten first, and a
 * forgotten one is written again.
 */
export class WrittenOnce {
  private readonly keys: LRUCache<string, true>;
  /**
   * Keys another batch of this process is writing right now, with whether that write succeeded: batches run
   * side by side (`ingestStream`), and one that finds an item in flight waits for that write instead of
   * repeating it.
   */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(max: number) {
    this.keys = new LRUCache({ max });
  }

  /** Whether this process wrote the item at `key` (a lookup counts as a use: the most used stay). */
  has(key: ItemKey): boolean {
    return this.keys.get(itemKeyString(key)) !== undefined;
  }

  /** Remembers items once their write has succeeded. */
  written(items: Iterable<ItemKey>): void {
    for (const item of items) this.keys.set(itemKeyString(item), true);
  }

  /**
   * Writes, in one `put`, `alongside` and those of `once` this process has neither written nor is writing, then
   * waits for the writes of the others in flight: when it returns, every item of `once` is stored. One whose
   * write in another batch failed is written here.
   */
  async write(
    once: readonly Item[],
    put: (items: Item[]) => Promise<void>,
    alongside: readonly Item[] = [],
  ): Promise<void> {
    const mine = new Map<string, Item>();
    const elsewhere: { item: Item; write: Promise<boolean> }[] = [];
    for (const item of once) {
      const key = itemKeyString(item);
      if (mine.has(key) || this.keys.get(key) !== undefined) continue;
      const write = this.inFlight.get(key);
      if (write) elsewhere.push({ item, write });
      else mine.set(key, item);
    }
    let settle: (stored: boolean) => void = () => {};
    const write = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    for (const key of mine.keys()) this.inFlight.set(key, write);
    let stored = false;
    try {
      await put([...alongside, ...mine.values()]);
      stored = true;
      for (const key of mine.keys()) this.keys.set(key, true);
    } finally {
      for (const key of mine.keys()) if (this.inFlight.get(key) === write) this.inFlight.delete(key);
      settle(stored);
    }
    const failed: Item[] = [];
    for (const { item, write: other } of elsewhere) if (!(await other)) failed.push(item);
    if (failed.length > 0) await this.write(failed, put);
  }
}

/** An item or key as the wire carries it (`AttributeValue`s). */
type Marshalled = Record<string, AttributeValue>;

/** Items are plain objects of strings, numbers, lists and maps; an attribute left undefined is not stored. */
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

/**
 * An item or key as the wire carries it. One that cannot be (a value DynamoDB has no type for) is a store error
 * naming its key, which no retry can fix, raised before anything of its call is sent.
 */
function toWire(item: Record<string, unknown>): Marshalled {
  try {
    return marshall(item, MARSHALL_OPTIONS);
  } catch (error) {
    throw new StoreError(
      `cannot write the item pk=${String(item.pk)} sk=${String(item.sk)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retryable: false },
    );
  }
}

// What runs per item in `putAll`, `deleteAll`, `getAll` and `insertAll` is a function of this module, not an
// arrow made per call: V8 keeps a closure's optimized code only while a closure holding it is alive, so an
// arrow made per call is compiled again after every full garbage collection, some twenty times in a
// 100,000-record ingest (`--trace-opt`, docs/benchmarks.md).
function putRequestOf(item: Item): WriteRequest {
  return { PutRequest: { Item: toWire(item) } };
}
function deleteRequestOf(key: ItemKey): WriteRequest {
  return { DeleteRequest: { Key: toWire({ pk: key.pk, sk: key.sk }) } };
}
/** Only the key of an item or key (a request may carry nothing else). */
function keyOf(key: ItemKey): ItemKey {
  return { pk: key.pk, sk: key.sk };
}
function wireKeyOf(key: ItemKey): Marshalled {
  return toWire({ pk: key.pk, sk: key.sk });
}
function itemFromWire(item: Marshalled): Item {
  return unmarshall(item) as Item;
}
const fromWire = (items: readonly Marshalled[] | undefined): Item[] => (items ?? []).map(itemFromWire);

type InsertStatement = { Statement: string; Parameters: AttributeValue[] };

/** A PartiQL `INSERT` of an item's defined attributes (one `?` per attribute, marshalled as `toWire` does). */
function insertStatementOf(tableName: string, item: Item): InsertStatement {
  const names: string[] = [];
  const parameters: AttributeValue[] = [];
  for (const name of Object.keys(item)) {
    if (item[name] === undefined) continue;
    names.push(`'${name}' : ?`);
    parameters.push(convertToAttr(item[name], MARSHALL_OPTIONS));
  }
  return { Statement: `INSERT INTO "${tableName}" VALUE {${names.join(", ")}}`, Parameters: parameters };
}

/** One of each key (the last given): a batch request may name a key only once. */
function uniqueByKey<T extends ItemKey>(entries: readonly T[]): T[] {
  const unique = new Map<string, T>();
  for (const entry of entries) unique.set(itemKeyString(entry), entry);
  return [...unique.values()];
}

/**
 * The DynamoDB adapter of the timeline store: one table, `pk`/`sk`, no secondary index.
 *
 * It speaks the low-level client and marshals items itself (`@aws-sdk/util-dynamodb`, as the document client
 * does inside): the document client walks every request and answer once more to find what to marshal, and it
 * cannot run on a client that caches its resolved middleware (`cacheMiddleware`), which spares each request the
 * building of its middleware chain (`openRuntime`). Both were measurable shares of the ingesting process's CPU
 * (docs/benchmarks.md).
 */
export class TableStore {
  readonly tableName: string;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly concurrency: number;
  /** Request counters, for benchmarks and tests. */
  readonly stats = {
    batchWrites: 0,
    itemsWritten: 0,
    /** Items removed with `BatchWriteItem` (bookkeeping): each costs a write, as an item written does. */
    itemsDeleted: 0,
    batchGets: 0,
    /** `BatchExecuteStatement` requests of inserts (`insertAll`); the items inserted count as items written. */
    batchInserts: 0,
    /** Inserts refused because the key existed (`DuplicateItem`): nothing written. */
    insertsRefused: 0,
    queries: 0,
    /** Items `Query` and `BatchGetItem` answered (a scan's are not counted). */
    itemsRead: 0,
    scans: 0,
    puts: 0,
    unprocessedRetries: 0,
  };

  constructor(
    readonly client: DynamoDBClient,
    options: TableStoreOptions,
  ) {
    this.tableName = options.tableName;
    this.maxRetries = options.maxUnprocessedRetries ?? 8;
    this.sleep = options.sleep ?? defaultSleep;
    this.concurrency = options.concurrency ?? 8;
  }

  /** Creates the table when it does not exist (the embedded store and first local runs): true if it did. */
  async ensureTable(): Promise<boolean> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      return false;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw storeError("DescribeTable", error);
    }
    let created = true;
    try {
      await this.client.send(
        new CreateTableCommand({ TableName: this.tableName, BillingMode: "PAY_PER_REQUEST", ...TABLE_KEYS }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw storeError("CreateTable", error);
      created = false;
    }
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const table = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (table.Table?.TableStatus === "ACTIVE") break;
      await this.sleep(100);
    }
    return created;
  }

  /** The table's markers (`META#v1`) found, once read. */
  private markers: Promise<Set<string>> | undefined;

  /**
   * Whether the table carries a marker written when idc-audit created it (`Keys.workflowHeadsMarker`,
   * `Keys.presenceMarksMarker`, `Keys.coverageDaysMarker`): what every writer of the table has done since. Read
   * once, for all markers.
   */
  async hasMarker(marker: ItemKey): Promise<boolean> {
    this.markers ??= this.getAll([
      Keys.workflowHeadsMarker,
      Keys.presenceMarksMarker,
      Keys.coverageDaysMarker,
    ]).then(
      (found) => new Set(found.map(itemKeyString)),
      (error: unknown) => {
        this.markers = undefined;
        throw error;
      },
    );
    return (await this.markers).has(itemKeyString(marker));
  }

  /**
   * Of these partitions, those with a presence mark (`Keys.presence`), read with `BatchGetItem`; undefined when
   * the table does not say that every writer marks them (`Keys.presenceMarksMarker`): any may then hold items.
   */
  async markedPartitions(partitions: readonly string[]): Promise<Set<string> | undefined> {
    if (!(await this.hasMarker(Keys.presenceMarksMarker))) return undefined;
    if (partitions.length === 0) return new Set();
    const marks = await this.getAll(partitions.map((partition) => Keys.presence(partition)));
    return new Set(marks.map((mark) => mark.pk));
  }

  /** Writes items with `BatchWriteItem`, retrying `UnprocessedItems` with backoff until all are written. */
  async putAll(items: readonly Item[]): Promise<void> {
    // Two writes to one key in one batch is an error in DynamoDB; the later copy is identical, keep one.
    const all = uniqueByKey(items);
    this.stats.itemsWritten += all.length;
    await this.writeAll(all.map(putRequestOf));
  }

  /** Removes items by key with `BatchWriteItem` (bookkeeping only: timeline items are never deleted). */
  async deleteAll(keys: readonly ItemKey[]): Promise<void> {
    const all = uniqueByKey(keys.map(keyOf));
    this.stats.itemsDeleted += all.length;
    await this.writeAll(all.map(deleteRequestOf));
  }

  /** Sends write requests (each to a distinct key) in `BatchWriteItem`s of at most 25, several at once. */
  private async writeAll(requests: readonly WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      chunks.push(requests.slice(start, start + BATCH_WRITE_LIMIT));
    }
    await mapLimit(chunks, this.concurrency, (chunk) => this.writeChunk(chunk));
  }

  private async writeChunk(chunk: readonly WriteRequest[]): Promise<void> {
    let requests = [...chunk];
    // Only attempts that make no progress count against the budget: a throttled table that keeps taking part
    // of each batch is slow, not failing.
    let stalled = 0;
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt > 0) {
        this.stats.unprocessedRetries += 1;
        await this.sleep(backoff(stalled + 1));
      }
      const before = requests.length;
      try {
        this.stats.batchWrites += 1;
        const output = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        // Left as the wire carries them: sent again as they are, with no marshalling.
        requests = output.UnprocessedItems?.[this.tableName] ?? [];
      } catch (error) {
        const failure = storeError("BatchWriteItem", error);
        if (!failure.retryable) throw failure;
      }
      stalled = requests.length < before ? 0 : stalled + 1;
      if (requests.length > 0 && stalled > this.maxRetries) {
        throw new StoreError(
          `BatchWriteItem left ${requests.length} items unprocessed after ${attempt + 1} attempts`,
          {
            retryable: true,
          },
        );
      }
    }
  }

  /**
   * Writes each item only if its key is new: PartiQL `INSERT`s, 25 to a `BatchExecuteStatement`, each of which
   * fails alone when its key exists (`DuplicateItem`). Returns the keys (`itemKeyString`) that existed: nothing
   * was written for them. Statements throttled or failed on the server are sent again; any other failure is
   * raised.
   */
  async insertAll(items: readonly Item[]): Promise<Set<string>> {
    const existed = new Set<string>();
    const all = uniqueByKey(items);
    const chunks: Item[][] = [];
    for (let start = 0; start < all.length; start += BATCH_WRITE_LIMIT) {
      chunks.push(all.slice(start, start + BATCH_WRITE_LIMIT));
    }
    await mapLimit(chunks, this.concurrency, (chunk) => this.insertChunk(chunk, existed));
    this.stats.itemsWritten += all.length - existed.size;
    this.stats.insertsRefused += existed.size;
    return existed;
  }

  /**
   * One chunk of `insertAll`, sent in `BatchExecuteStatement`s until each insert is made or refused: the
   * statements throttled or failed on the server, and a whole request that failed and may be retried, go again.
   * Adds the keys that existed to `existed`.
   */
  private async insertChunk(chunk: readonly Item[], existed: Set<string>): Promise<void> {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        if (attempt > this.maxRetries)
          throw new StoreError(
            `BatchExecuteStatement left ${pending.length} inserts undone after ${attempt} attempts`,
            {
              retryable: true,
            },
          );
        this.stats.unprocessedRetries += 1;
        await this.sleep(backoff(attempt));
      }
      let responses: readonly { Error?: { Code?: string; Message?: string } }[];
      try {
        this.stats.batchInserts += 1;
        const statements: InsertStatement[] = [];
        for (const item of pending) statements.push(insertStatementOf(this.tableName, item));
        const output = await this.client.send(new BatchExecuteStatementCommand({ Statements: statements }));
        responses = output.Responses ?? [];
      } catch (error) {
        const failure = storeError("BatchExecuteStatement", error);
        if (!failure.retryable) throw failure;
        continue;
      }
      if (responses.length !== pending.length)
        throw new StoreError(
          `BatchExecuteStatement answered ${responses.length} of ${pending.length} inserts: whether the others were made is unknown`,
          { retryable: true },
        );
      const again: Item[] = [];
      for (const [index, item] of pending.entries()) {
        const code = responses[index]?.Error?.Code;
        if (code === undefined) continue;
        if (code === "DuplicateItem") existed.add(itemKeyString(item));
        else if (RETRYABLE_STATEMENT_ERRORS.has(code)) again.push(item);
        else
          throw new StoreError(
            `BatchExecuteStatement INSERT of item pk=${item.pk} sk=${item.sk} failed: ${code}: ${responses[index]?.Error?.Message ?? ""}`,
            { retryable: false },
          );
      }
      pending = again;
    }
  }

  /** Reads items by key with `BatchGetItem` (strongly consistent), retrying `UnprocessedKeys`. */
  async getAll(keys: readonly ItemKey[]): Promise<Item[]> {
    const all = uniqueByKey(keys.map(keyOf));
    const chunks: ItemKey[][] = [];
    for (let start = 0; start < all.length; start += BATCH_GET_LIMIT) {
      chunks.push(all.slice(start, start + BATCH_GET_LIMIT));
    }
    const results = await mapLimit(chunks, this.concurrency, (chunk) => this.getChunk(chunk));
    return results.flat();
  }

  private async getChunk(chunk: ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    let keys: Marshalled[] = chunk.map(wireKeyOf);
    let stalled = 0;
    for (let attempt = 0; keys.length > 0; attempt += 1) {
      if (attempt > 0) {
        this.stats.unprocessedRetries += 1;
        await this.sleep(backoff(stalled + 1));
      }
      const before = keys.length;
      try {
        this.stats.batchGets += 1;
        const output = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        const answered = fromWire(output.Responses?.[this.tableName]);
        this.stats.itemsRead += answered.length;
        found.push(...answered);
        keys = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      } catch (error) {
        const failure = storeError("BatchGetItem", error);
        if (!failure.retryable) throw failure;
      }
      stalled = keys.length < before ? 0 : stalled + 1;
      if (keys.length > 0 && stalled > this.maxRetries) {
        throw new StoreError(
          `BatchGetItem left ${keys.length} keys unprocessed after ${attempt + 1} attempts`,
          {
            retryable: true,
          },
        );
      }
    }
    return found;
  }

  /**
   * Writes an item only if its key is new. Returns false when it already existed: the caller counts a
   * duplicate delivery.
   */
  async putIfAbsent(item: Item): Promise<boolean> {
    return this.sendIf("PutItem", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toWire(item),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  /**
   * Writes `item` at its key, or without one deletes the item at `key`, only if the stored item's attributes
   * named in `expected` hold those values (`undefined`: the attribute is absent). Returns false when they did
   * not: another writer changed the item since it was read.
   */
  async replaceIf(
    key: ItemKey,
    item: Item | undefined,
    expected: Readonly<Record<string, string | undefined>>,
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, string> = {};
    const conditions: string[] = [];
    for (const [index, [attribute, value]] of Object.entries(expected).entries()) {
      names[`#a${index}`] = attribute;
      if (value === undefined) conditions.push(`attribute_not_exists(#a${index})`);
      else {
        values[`:v${index}`] = value;
        conditions.push(`#a${index} = :v${index}`);
      }
    }
    const condition = {
      ConditionExpression: conditions.join(" AND "),
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: toWire(values) } : {}),
    };
    if (!item)
      return this.sendIf("DeleteItem", () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: toWire({ pk: key.pk, sk: key.sk }),
            ...condition,
          }),
        ),
      );
    const written = await this.sendIf("PutItem", () =>
      this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toWire(item), ...condition })),
    );
    if (written) this.stats.itemsWritten += 1;
    return written;
  }

  /**
   * Writes `item`, whose `attribute` is a number, unless the stored item's is as large already: a value that
   * only ever grows, whichever of several writers writes last. Returns false when it was.
   */
  async raiseTo(item: Item, attribute: string): Promise<boolean> {
    const written = await this.sendIf("PutItem", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toWire(item),
          ConditionExpression: "attribute_not_exists(#a) OR #a < :v",
          ExpressionAttributeNames: { "#a": attribute },
          ExpressionAttributeValues: toWire({ ":v": item[attribute] }),
        }),
      ),
    );
    if (written) this.stats.itemsWritten += 1;
    return written;
  }

  /**
   * Sends one conditional request, retrying as `retrying` does. Returns false when its condition failed. Each
   * attempt counts as a `PutItem` in `stats.puts` when it is one.
   */
  private async sendIf(operation: "PutItem" | "DeleteItem", send: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (operation === "PutItem") this.stats.puts += 1;
        await send();
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        const failure = storeError(operation, error);
        if (!failure.retryable || attempt >= this.maxRetries) throw failure;
        await this.sleep(backoff(attempt + 1));
      }
    }
  }

  /** Removes one item (bookkeeping only: timeline items are never deleted). */
  async deleteItem(key: ItemKey): Promise<void> {
    await this.retrying("DeleteItem", () =>
      this.client.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: toWire({ pk: key.pk, sk: key.sk }) }),
      ),
    );
  }

  /** Sends one request, retrying throttling and transient failures as the batch operations do. */
  private async retrying<T>(operation: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        const failure = storeError(operation, error);
        if (!failure.retryable || attempt >= this.maxRetries) throw failure;
        await this.sleep(backoff(attempt + 1));
      }
    }
  }

  /** Every item of one partition (optionally a sort-key range or prefix), all pages, in sort-key order. */
  async query(
    pk: string,
    range?: {
      readonly between?: readonly [string, string];
      readonly prefix?: string;
      readonly limit?: number;
      /** Only these attributes (besides the keys) of each item: summaries that need no payload. */
      readonly attributes?: readonly string[];
    },
  ): Promise<Item[]> {
    const names: Record<string, string> = { "#pk": "pk" };
    let projection: string | undefined;
    if (range?.attributes) {
      const placeholders: string[] = [];
      for (const [index, attribute] of ["pk", "sk", ...range.attributes].entries()) {
        names[`#p${index}`] = attribute;
        placeholders.push(`#p${index}`);
      }
      projection = placeholders.join(", ");
    }
    const values: Record<string, unknown> = { ":pk": pk };
    let condition = "#pk = :pk";
    if (range?.between) {
      names["#sk"] = "sk";
      values[":from"] = range.between[0];
      values[":to"] = range.between[1];
      condition += " AND #sk BETWEEN :from AND :to";
    } else if (range?.prefix) {
      names["#sk"] = "sk";
      values[":prefix"] = range.prefix;
      condition += " AND begins_with(#sk, :prefix)";
    }
    const items: Item[] = [];
    const wireValues = toWire(values);
    let startKey: Marshalled | undefined;
    do {
      const output: QueryCommandOutput = await this.retrying("Query", () => {
        this.stats.queries += 1;
        return this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: wireValues,
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            ...(projection ? { ProjectionExpression: projection } : {}),
            ...(range?.limit ? { Limit: range.limit - items.length } : {}),
          }),
        );
      });
      const page = fromWire(output.Items);
      this.stats.itemsRead += page.length;
      items.push(...page);
      startKey = output.LastEvaluatedKey;
      if (range?.limit !== undefined && items.length >= range.limit) break;
    } while (startKey);
    return items;
  }

  /**
   * Every item of the table, a page at a time. Only for whole-table work a person starts (an export): no
   * request path of the pipeline or the API scans.
   */
  async *scan(): AsyncGenerator<Item[]> {
    let startKey: Marshalled | undefined;
    do {
      const output: ScanCommandOutput = await this.retrying("Scan", () => {
        this.stats.scans += 1;
        return this.client.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }),
        );
      });
      yield fromWire(output.Items);
      startKey = output.LastEvaluatedKey;
    } while (startKey);
  }
}

function backoff(attempt: number): number {
  // Full jitter, capped: retries spread out instead of hammering a throttled partition together.
  return Math.random() * Math.min(2000, 25 * 2 ** attempt);
}
