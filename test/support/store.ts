import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DescribeResult, ExternalId, UserDirectory } from "@idc-audit/core/identity";
import { ExportDirectory } from "@idc-audit/core/identity";
import { type NormalizedRecord, normalize, type UserKey } from "@idc-audit/core/normalize";
import { openRuntime, type Runtime } from "@idc-audit/core/runtime";
import { afterEach } from "vitest";
import { eventsDir } from "./fixtures.ts";

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
      items.push(plain);
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items.sort((a, b) => {
    const left = `${a.pk}\u0000${a.sk}`;
    const right = `${b.pk}\u0000${b.sk}`;
    return left < right ? -1 : left > right ? 1 : 0;
  });
}
