/**
 * Every published sample event (shared/reference/events: AWS documentation, real events from blog posts, an
 * open-source detection project's fixtures), file by file: what idc-audit makes of it. An Identity Center
 * event is kept with its category, whatever its name; a record with a placeholder time or no id is rejected
 * with the reason, and read again with those two fields made valid it is kept with its category too.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { type ClassifiedItem, classifyItem } from "@idc-audit/core/ingest";
import { describe, expect, it } from "vitest";
import { publishedEventsDir } from "../support/fixtures.ts";

/** What a file's record must become: an Identity Center category, a role-session event, or invalid JSON. */
type Expected =
  | { readonly category: string; readonly rejected?: RegExp }
  | { readonly role: true; readonly rejected?: RegExp; readonly repairedRejected?: RegExp }
  | { readonly invalidJson: true };

const NOT_ISO = /eventTime/;
const NO_ID = /missing eventID/;

const expected: Record<string, Expected> = {
  "awsdocs-scim__CreateGroup__1.json": { category: "directory-admin", rejected: NOT_ISO },
  "awsdocs-scim__CreateUser__1.json": { category: "directory-admin", rejected: NOT_ISO },
  "awsdocs-scim__PatchGroup__1.json": { category: "directory-admin", rejected: NOT_ISO },
  "awsdocs-scim__PatchUser__1.json": { category: "directory-admin", rejected: NOT_ISO },
  "awsdocs-ssoug-2025__CreateToken__1.json": { category: "token" },
  "awsdocs-ssoug-2025__CredentialChallenge__1.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialChallenge__2.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialChallenge__3.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialChallenge__4.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialChallenge__5.json": { invalidJson: true },
  "awsdocs-ssoug-2025__CredentialVerification__1.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialVerification__2.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialVerification__3.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialVerification__4.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__CredentialVerification__5.json": { invalidJson: true },
  "awsdocs-ssoug-2025__ListApplications__1.json": { category: "portal" },
  "awsdocs-ssoug-2025__UserAuthentication__1.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__UserAuthentication__2.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__UserAuthentication__3.json": { category: "sign-in" },
  "awsdocs-ssoug-2025__UserAuthentication__4.json": { category: "sign-in" },
  "awsdocs-ssoug__CreateToken__1.json": { category: "token" },
  "awsdocs-ssoug__CredentialChallenge__1.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialChallenge__2.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialChallenge__3.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialChallenge__4.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialChallenge__5.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialVerification__1.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialVerification__2.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialVerification__3.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialVerification__4.json": { category: "sign-in" },
  "awsdocs-ssoug__CredentialVerification__5.json": { category: "sign-in" },
  "awsdocs-ssoug__DescribePermissionsPolicies__1.json": { category: "directory-read" },
  "awsdocs-ssoug__UserAuthentication__1.json": { category: "sign-in" },
  "awsdocs-ssoug__UserAuthentication__2.json": { category: "sign-in" },
  "awsdocs-ssoug__UserAuthentication__3.json": { category: "sign-in" },
  "awsdocs-ssoug__UserAuthentication__4.json": { category: "sign-in" },
  // The 2017 portal event named by the URL it called: a name no catalogue lists.
  "awsdocs-ssoug__portal-appinstances-url__1.json": { category: "other" },
  "blog-aidansteele__AssumeRoleWithSAML__1.json": { role: true },
  "blog-aidansteele__CreateTokenWithIAM__1.json": { category: "token" },
  "blog-aidansteele__GetCallerIdentity__1.json": { role: true },
  "blog-aidansteele__GetRoleCredentials__1.json": { category: "portal" },
  "blog-aidansteele__ListAccountRoles__1.json": { category: "portal" },
  "blog-aidansteele__ListAccounts__1.json": { category: "portal" },
  "blog-drbarnz__ListAccountRoles__1.json": { category: "portal" },
  // Panther's test logs: normalized times (`2024-06-03 15:23:22.000000000`) and ids left out.
  "panther__Authenticate__1.json": { category: "portal", rejected: NOT_ISO },
  "panther__ConsoleLogin__1.json": { role: true, rejected: NOT_ISO },
  "panther__ConsoleLogin__2.json": { role: true, rejected: NOT_ISO },
  "panther__CreateToken__1.json": { category: "token", rejected: NO_ID },
  // A minimal synthetic log: an AWSReservedSSO_ role's console federation without the session's creation
  // date, which a role-session event cannot be placed without.
  "panther__GetSigninToken__1.json": { role: true, rejected: NO_ID, repairedRejected: /creationDate/ },
  "panther__ListApplications__1.json": { category: "portal", rejected: NO_ID },
};

const dir = publishedEventsDir();
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".json") && !name.endsWith(".expected.json"))
  .sort();

/** The records of a published file: a CloudTrail log file's `Records`, or the record itself. */
function recordsOf(name: string): Record<string, unknown>[] {
  const parsed = JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, unknown>;
  return Array.isArray(parsed.Records) ? (parsed.Records as Record<string, unknown>[]) : [parsed];
}

const classify = (record: unknown): ClassifiedItem =>
  classifyItem({ kind: "record", record, location: "published" } as ReadItem);

/** The same record with a valid time and an id, for samples published with placeholders there. */
function repaired(record: Record<string, unknown>): Record<string, unknown> {
  const time = String(record.eventTime ?? "");
  const iso = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(time);
  return {
    ...record,
    eventTime: iso ? `${iso[1]}T${iso[2]}Z` : "2025-01-01T00:00:00Z",
    eventID: typeof record.eventID === "string" ? record.eventID : "00000000-0000-4000-8000-000000000000",
  };
}

function outcome(classified: ClassifiedItem): string {
  if (classified.kind === "audited") return classified.record.event.category;
  return classified.kind;
}

describe("published sample events", () => {
  it("are all listed here (a new sample needs a decision)", () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files).toEqual(Object.keys(expected).sort());
  });

  it.each(files)("%s: kept with the right category, or rejected with its reason", (name) => {
    const want = expected[name];
    if (!want) throw new Error(`${name} is not in the table`);
    if ("invalidJson" in want) {
      expect(() => recordsOf(name)).toThrow(SyntaxError);
      return;
    }
    const records = recordsOf(name);
    expect(records.length).toBeGreaterThan(0);
    const kind = "role" in want ? "role" : want.category;
    for (const record of records) {
      const classified = classify(record);
      if (want.rejected) {
        expect(classified.kind).toBe("rejected");
        if (classified.kind === "rejected") expect(classified.rejection.reason).toMatch(want.rejected);
        const again = classify(repaired(record));
        if ("repairedRejected" in want && want.repairedRejected) {
          expect(again.kind === "rejected" && again.rejection.reason).toMatch(want.repairedRejected);
        } else {
          expect(outcome(again)).toBe(kind);
        }
      } else {
        expect(outcome(classified)).toBe(kind);
      }
    }
  });

  it("keeps the admin call DescribePermissionsPolicies with its admin principal, address and target", () => {
    const [record] = recordsOf("awsdocs-ssoug__DescribePermissionsPolicies__1.json");
    const classified = classify(record);
    if (classified.kind !== "audited") throw new Error(`not kept: ${classified.kind}`);
    const { event } = classified.record;
    expect(event).toMatchObject({
      eventName: "DescribePermissionsPolicies",
      category: "directory-read",
      outcome: "success",
      shape: "admin",
      sourceIp: "203.0.113.0",
      actor: { kind: "admin", principal: "arn:aws:iam::08966example:user/samadams" },
    });
  });

  it("keeps the portal event named by a URL as `other`, with the user's name, address and agent", () => {
    const [record] = recordsOf("awsdocs-ssoug__portal-appinstances-url__1.json");
    const classified = classify(record);
    if (classified.kind !== "audited") throw new Error(`not kept: ${classified.kind}`);
    const { event } = classified.record;
    expect(event).toMatchObject({
      eventSource: "sso.amazonaws.com",
      eventName: "https://portal.sso.us-east-1.amazonaws.com/instance/appinstances",
      category: "other",
      shape: "old",
      sourceIp: "203.0.113.0",
      actor: { kind: "user", userName: "bobsmith@example.com" },
    });
    expect(event.userAgent).toMatch(/^Mozilla/);
  });
});
