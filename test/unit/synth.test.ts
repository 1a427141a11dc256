import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { synthDirectory, synthEvents, writeArchive } from "../../packages/core/src/synth/index.ts";

type AnyRecord = Record<string, unknown>;

function take(options: Parameters<typeof synthEvents>[0]): AnyRecord[] {
  return [...synthEvents(options)];
}

function userIdentity(record: AnyRecord): AnyRecord {
  return (record.userIdentity ?? {}) as AnyRecord;
}

/** Every user id an event names: onBehalfOf, or the user fields of CreateTokenWithIAM. */
function namedUserIds(record: AnyRecord): string[] {
  const ids: string[] = [];
  const onBehalfOf = userIdentity(record).onBehalfOf as AnyRecord | undefined;
  if (typeof onBehalfOf?.userId === "string") ids.push(onBehalfOf.userId);
  const extra = record.additionalEventData as AnyRecord | undefined;
  if (typeof extra?.["identitystore:UserId"] === "string") ids.push(extra["identitystore:UserId"]);
  return ids;
}

describe("synthEvents", () => {
  it("gives the same records for the same seed and different ones for another seed", () => {
    // Prepare / Act
    const first = take({ events: 1500, seed: 42 });
    const second = take({ events: 1500, seed: 42 });
    const other = take({ events: 1500, seed: 43 });

    // Assess
    expect(second).toEqual(first);
    expect(other.map((r) => r.eventID)).not.toEqual(first.map((r) => r.eventID));
  });

  it("stops after exactly the requested number of records", () => {
    for (const events of [0, 1, 7, 1234]) {
      expect(take({ events, seed: 5 })).toHaveLength(events);
    }
  });

  it("gives every record a unique eventID", () => {
    const ids = take({ events: 30_000, seed: 11 }).map((r) => r.eventID);

    expect(new Set(ids).size).toBe(ids.length);
  });

  it("gives every record an eventID, an ISO eventTime, an eventSource and an eventName", () => {
    for (const record of synthEvents({ events: 5000, seed: 3 })) {
      expect(record.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(record.eventTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(record.eventSource).toMatch(/\.amazonaws\.com$/);
      expect(typeof record.eventName).toBe("string");
    }
  });

  it("writes each era's userIdentity shape, and new-era failed sign-ins without a user id", () => {
    const old = take({ events: 2000, seed: 8, eras: ["old"] });
    const fresh = take({ events: 4000, seed: 8, eras: ["new"], failureRate: 0.3 });

    const portalNames = ["Authenticate", "ListAccounts", "ListAccountRoles", "GetRoleCredentials", "Logout"];
    const oldPortal = old.filter(
      (r) => r.eventSource === "sso.amazonaws.com" && portalNames.includes(String(r.eventName)),
    );
    expect(oldPortal.length).toBeGreaterThan(0);
    for (const record of oldPortal) {
      expect(userIdentity(record)).toMatchObject({ type: "Unknown", userName: expect.any(String) });
      expect(userIdentity(record).onBehalfOf).toBeUndefined();
    }
    const failures = fresh.filter(
      (r) => (r.serviceEventDetails as AnyRecord | undefined)?.CredentialVerification === "Failure",
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const record of failures) {
      expect(userIdentity(record)).toEqual({
        type: "Unknown",
        arn: "",
        accountId: "111122223333",
        accessKeyId: "",
      });
      expect(Object.keys(record.additionalEventData as AnyRecord).sort()).toEqual([
        "AuthWorkflowID",
        "CredentialType",
      ]);
    }
    const portal = fresh.filter(
      (r) => r.eventSource === "sso.amazonaws.com" && r.eventName === "ListAccounts",
    );
    for (const record of portal) {
      expect(userIdentity(record).type).toBe("IdentityCenterUser");
      expect(userIdentity(record).userName).toBeUndefined();
    }
  });

  it("keeps records inside the window that starts at `start`", () => {
    const start = Date.parse("2026-03-01T00:00:00Z");
    for (const record of synthEvents({ events: 3000, seed: 2, start: "2026-03-01T00:00:00Z", days: 2 })) {
      const time = Date.parse(String(record.eventTime));
      expect(time).toBeGreaterThanOrEqual(start);
      expect(time).toBeLessThan(start + 3 * 86_400_000);
    }
  });
});

describe("synthDirectory", () => {
  it("lists every user id the events name, in the list-users format", () => {
    const options = { events: 8000, users: 12, seed: 21 };
    const directory = synthDirectory(options);
    const known = new Set(directory.Users.map((user) => user.UserId));

    const named = take(options).flatMap(namedUserIds);

    expect(directory.Users).toHaveLength(12);
    expect(named.length).toBeGreaterThan(0);
    for (const userId of named) expect(known).toContain(userId);
    for (const user of directory.Users) {
      expect(user).toMatchObject({
        UserName: expect.any(String),
        UserId: expect.stringMatching(
          /^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        ),
        IdentityStoreId: "d-1234567890",
      });
    }
  });
});

describe("writeArchive", () => {
  it("writes gzipped CloudTrail log files in the S3 layout, holding every record once", async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), "idc-audit-synth-"));
    try {
      // Act
      const result = await writeArchive(dir, { events: 3000, seed: 17, recordsPerFile: 200 });

      // Assess
      const files = (await readdir(dir, { recursive: true }))
        .filter((name) => name.endsWith(".json.gz"))
        .sort();
      expect(result).toEqual({ files: files.length, records: 3000 });
      const layout =
        /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_\d{8}T\d{4}Z_\d+\.json\.gz$/;
      const ids = new Set<unknown>();
      for (const file of files) {
        const path = file.split("\\").join("/");
        const match = layout.exec(path);
        expect(match, path).not.toBeNull();
        const [, account, region, year, month, day] = match ?? [];
        const { Records } = JSON.parse(gunzipSync(await readFile(join(dir, file))).toString("utf8")) as {
          Records: AnyRecord[];
        };
        expect(Records.length).toBeGreaterThan(0);
        expect(Records.length).toBeLessThanOrEqual(200);
        for (const record of Records) {
          expect(record.recipientAccountId).toBe(account);
          expect(record.awsRegion).toBe(region);
          expect(String(record.eventTime).slice(0, 10)).toBe(`${year}-${month}-${day}`);
          ids.add(record.eventID);
        }
      }
      expect(ids.size).toBe(3000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
