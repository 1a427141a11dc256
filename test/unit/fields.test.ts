import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_NEW_FIELDS_PER_EVENT, newIdentityFields, normalize } from "@idc-audit/core/normalize";
import { describe, expect, it } from "vitest";
import { identityCenterFixtures, loadEvent, publishedEventsDir } from "../support/fixtures.ts";

/** The published files that are one JSON record (two are documentation with comments, not JSON). */
function publishedRecords(): [string, Record<string, unknown>][] {
  const dir = publishedEventsDir();
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json") && !name.endsWith(".expected.json"))
    .flatMap((name): [string, Record<string, unknown>][] => {
      try {
        return [[name, JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, unknown>]];
      } catch {
        return [];
      }
    });
}

describe("userIdentity fields the canary knows", () => {
  it("knows every field of every published event and fixture, in its shape", () => {
    const records = [
      ...publishedRecords(),
      ...identityCenterFixtures().map((path): [string, Record<string, unknown>] => [path, loadEvent(path)]),
    ];
    expect(records.length).toBeGreaterThan(150);
    const reported: Record<string, readonly string[]> = {};
    let audited = 0;
    for (const [name, raw] of records) {
      // Placeholder times and ids in documentation samples: made valid, as the published-events test does.
      const result = normalize({ eventID: name, ...raw, eventTime: "2026-07-01T00:00:00Z" });
      if (result.status !== "audited") continue;
      audited += 1;
      if (result.record.newFields) reported[name] = result.record.newFields;
    }
    expect(audited).toBeGreaterThan(140);
    expect(reported).toEqual({});
  });

  it("reports a path the shape has never carried, nested or not, and only field names", () => {
    const raw = loadEvent("new/ListAccounts__success.json");
    const identity = raw.userIdentity as Record<string, unknown>;
    identity.onBehalfOf = { ...(identity.onBehalfOf as object), tenantId: "secret-value" };
    identity.userName = "bob";
    const result = normalize(raw);
    if (result.status !== "audited") throw new Error("fixture not audited");
    expect(result.record.event.shape).toBe("new");
    // userName is an old-shape field: back in an IdentityCenterUser event it is news.
    expect(result.record.newFields).toEqual(["onBehalfOf.tenantId", "userName"]);
    expect(JSON.stringify(result.record.newFields)).not.toContain("secret-value");
  });

  it("bounds what one record can report, however many fields it carries", () => {
    const identity: Record<string, unknown> = { type: "IdentityCenterUser" };
    for (let index = 0; index < 1000; index += 1) identity[`field${index}`] = index;
    identity.deep = { a: { b: { c: { d: { e: 1 } } } } };
    identity[`x${"y".repeat(500)}`] = 1;
    const fields = newIdentityFields(identity, "new") ?? [];
    expect(fields).toHaveLength(MAX_NEW_FIELDS_PER_EVENT);
    expect(Math.max(...fields.map((field) => field.length))).toBeLessThanOrEqual(128);
    expect(newIdentityFields({ deep: { a: { b: { c: { d: 1 } } } } }, "new")).toEqual(["deep.a.b.c"]);
  });

  it("treats web identity federation attributes as data, not as fields", () => {
    const identity = {
      type: "AssumedRole",
      sessionContext: { webIdFederationData: { federatedProvider: "x", attributes: { "aud:claim": "y" } } },
    };
    expect(newIdentityFields(identity, "admin")).toBeUndefined();
  });
});
