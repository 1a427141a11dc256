import { join } from "node:path";
import { type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DescribeResult, ExternalId, UserDirectory } from "@idc-audit/core/identity";
import { ExportDirectory } from "@idc-audit/core/identity";
import { type NormalizedRecord, normalize, type UserKey } from "@idc-audit/core/normalize";
import { openRuntime, type Runtime } from "@idc-audit/core/runtime";
import { eventOf, type Item, ItemType, itemKeyString, Keys, type TableStore } from "@idc-audit/core/timeline";
import { afterEach } from "vitest";
import { eventsDir } from "./fixtures.ts";

/**
 * Changes the steps of a client that may have sent requests already (to record what a runtime sends): its
 * cached middleware chains (`cacheMiddleware`) are dropped, to be built again with the change on the next
 * request.
 */
export function changeClientSteps(
  client: DynamoDBClient,
  change: (stack: DynamoDBClient["middlewareStack"]) => void,
): void {
  change(client.middlewareStack);
  // Where the SDK's client keeps them (`Client.send`); a test fails if that moves.
  delete (client as unknown as { handlers?: unknown }).handlers;
}

/** A fresh in-memory embedded store with the pipeline wired as the CLI wires it. */
export async function memoryRuntime(directory?: UserDirectory): Promise<Runtime> {
  return openRuntime({ inMemory: true, ...(directory ? { directory } : {}) });
}

/** `memoryRuntime` for the tests of a file: every runtime a test opens is closed after that test. */
export function memoryRuntimePerTest(): (directory?: UserDirectory) => Promise<Runtime> {
  const open: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((runtime) => runtime.close()));
  });
  return async (directory) => {
    const created = await memoryRuntime(directory);
    open.push(created);
    return created;
  };
}

export async function fixtureDirectory(): Promise<ExportDirectory> {
  return ExportDirectory.fromFile(join(eventsDir, "directory.json"));
}

/** Wraps a directory and counts the calls made to it. */
export class CountingDirectory implements UserDirectory {
  readonly kind: string;
  readonly identityStoreId: string | undefined;
  describes = 0;
  nameLookups = 0;
  constructor(private readonly inner: UserDirectory) {
    this.kind = inner.kind;
    this.identityStoreId = inner.identityStoreId;
  }
  describe(user: UserKey): Promise<DescribeResult> {
    this.describes += 1;
    return this.inner.describe(user);
  }
  findByUserName(userName: string): Promise<UserKey | undefined> {
    this.nameLookups += 1;
    return this.inner.findByUserName(userName);
  }
  findByExternalId(externalId: ExternalId): Promise<UserKey | undefined> {
    return this.inner.findByExternalId(externalId);
  }
  findByEmail(email: string): Promise<UserKey[]> {
    this.nameLookups += 1;
    return this.inner.findByEmail(email);
  }
}

/** A directory whose name lookups fail while `down`, as an unreachable or throttling Identity Store does. */
export class OutageDirectory extends CountingDirectory {
  down = false;
  override findByUserName(userName: string): Promise<UserKey | undefined> {
    if (this.down) return Promise.reject(new Error("directory unreachable"));
    return super.findByUserName(userName);
  }
}

export function normalized(raw: Record<string, unknown>): NormalizedRecord {
  const result = normalize(raw);
  if (result.status !== "audited") throw new Error(`fixture not audited: ${JSON.stringify(result)}`);
  return result.record;
}

/**
 * Every item of the table, sorted, without the time a profile was fetched: what "the same tables" means.
 * A test-only Scan: the product never scans.
 */
export async function dumpTable(runtime: Runtime): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await runtime.store.client.send(
      new ScanCommand({ TableName: runtime.store.tableName, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const plain = unmarshall(item);
      delete plain.fetchedAt;
      // Whether idc-audit created the table (and trusts workflow heads and presence marks in it), not what the
      // table holds: a table created without them reads every workflow and partition, and holds the same items.
      if (plain.pk === "META#v1") continue;
      // A presence mark says a partition may hold items: an alert raised and withdrawn in one order of
      // arrival, never raised in another, leaves one.
      if (plain.type === ItemType.PresenceMark) continue;
      // Likewise a subject's episode span: the longest alert ever written, one order's passing alert included.
      if (plain.type === ItemType.AlertSpan) continue;
      // And a role session indexed under its portal session: one order's passing alert leaves one too.
      if (plain.type === ItemType.PortalRoleAlert) continue;
      items.push(asMemberKey(plain));
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  // A member stored twice (at the head and at its own key, by a batch redone after its head was inserted) is
  // one member.
  const keyOf = (item: Record<string, unknown>) => itemKeyString(item as Item);
  const unique = new Map(items.map((item) => [keyOf(item), item]));
  return [...unique.values()].sort((a, b) => {
    const left = keyOf(a);
    const right = keyOf(b);
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/**
 * A workflow's head holds whichever member its first writer inserted, so the member found there depends on the
 * order of arrival; the member does not. The head is read as that member at its own key, as every reader of the
 * workflow takes it (`workflowJoin`).
 */
function asMemberKey(item: Record<string, unknown>): Record<string, unknown> {
  if (typeof item.pk !== "string" || !item.pk.startsWith("WORKFLOW#") || item.sk !== "HEAD") return item;
  const member = eventOf(item as Item);
  if (!member.authWorkflowId) return item;
  return {
    ...item,
    ...Keys.workflowEvent(
      member.authWorkflowId,
      member.eventTime,
      member.eventId,
      member.actor.directoryUser,
    ),
  };
}

/**
 * Counts, from now on, the items `store`'s queries and key reads return that `counted` picks: `take()` gives the
 * count so far and starts again from 0.
 */
export function countItemsRead(store: TableStore, counted: (item: Item) => boolean): { take(): number } {
  let read = 0;
  const query = store.query.bind(store);
  store.query = async (pk, options) => {
    const items = await query(pk, options);
    read += items.filter(counted).length;
    return items;
  };
  const getAll = store.getAll.bind(store);
  store.getAll = async (keys) => {
    const items = await getAll(keys);
    read += items.filter(counted).length;
    return items;
  };
  return {
    take() {
      const taken = read;
      read = 0;
      return taken;
    },
  };
}
