/**
 * `idc-audit finding` end to end: the fixture archive (organization trail, Identity Center and member account
 * 444455556666) ingested by the CLI, then the GuardDuty findings of events/guardduty answered from it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.ts";
import { BOB, eventsDir } from "../support/fixtures.ts";

const dataDir = mkdtempSync(join(tmpdir(), "idc-audit-finding-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ROLE_KEY = "ASIA3EXAMPLEROLEKEY1";
const PORTAL_SESSION = /^AAAAAGQZMrf8/;
const OKTA = { issuer: "https://example.okta.com", id: "00u1abcdEFGHijkl2345" };

interface Answer {
  finding: { findingId: string; accessKeyId: string | null; identityCenterRole: boolean };
  roleSession?: { accountId: string; permissionSet: string | null; accessKeyIds: string[]; link: string };
  user?: { identityStoreId: string; userId: string; userName: string | null; externalIds: unknown[] } | null;
  credentialId?: string | null;
  signIn?: { eventTime: string; sourceIp: string | null; credentialTypes: string[] } | null;
  unanswered?: string;
}

beforeAll(async () => {
  const ingest = await runCli([
    "ingest",
    join(eventsDir, "archive"),
    "--data-dir",
    dataDir,
    "--directory",
    join(eventsDir, "directory.json"),
  ]);
  expect(ingest.code, ingest.stderr).toBe(0);
});

const finding = (file: string) =>
  runCli(["finding", join(eventsDir, "guardduty", file), "--data-dir", dataDir, "--json"]);

describe("idc-audit finding on the fixture archive", () => {
  it.each([
    ["get-findings__sso-role-session.json", "the CLI's get-findings output"],
    ["eventbridge__sso-role-session.json", "the EventBridge event"],
  ])(
    "answers the role-session finding in %s (%s) with Bob, his Okta id, his portal session and sign-in",
    async (file) => {
      const answer = json<Answer>(await finding(file));
      expect(answer.finding).toMatchObject({
        findingId: "9e4f5a6b7c8d9e0f1a2b3c4d5example",
        accessKeyId: ROLE_KEY,
        identityCenterRole: true,
      });
      expect(answer.unanswered).toBeUndefined();
      expect(answer.roleSession).toMatchObject({
        accountId: "444455556666",
        permissionSet: "AdministratorAccess",
        link: "exact",
      });
      expect(answer.roleSession?.accessKeyIds).toContain(ROLE_KEY);
      expect(answer.user).toMatchObject({
        identityStoreId: BOB.identityStoreId,
        userId: BOB.userId,
        userName: BOB.userName,
      });
      expect(answer.user?.externalIds).toEqual([OKTA]);
      expect(answer.credentialId).toMatch(PORTAL_SESSION);
      expect(answer.signIn).toEqual({
        eventTime: "2026-07-01T00:02:19Z",
        sourceIp: "203.0.113.24",
        credentialTypes: ["PASSWORD"],
      });
    },
  );

  it("answers the published AWS CLI sample (a key no stored role session has) as unanswered, exit code 1", async () => {
    const result = await finding("awscli__get-findings__1.json");
    expect(result.code, result.stderr).toBe(1);
    const answer = JSON.parse(result.stdout) as Answer;
    expect(answer.finding).toMatchObject({
      findingId: "1ab92989eaf0e742df4a014d5example",
      accessKeyId: "ASIASZ4SI7REEEXAMPLE",
      identityCenterRole: false,
    });
    expect(answer.unanswered).toMatch(/no role session .* ASIASZ4SI7REEEXAMPLE/);
    expect(answer.user).toBeUndefined();
    expect(answer.credentialId).toBeUndefined();
  });
});
