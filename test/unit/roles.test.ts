import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { classifyItem } from "@idc-audit/core/ingest";
import { parseCloudTrailRecord } from "@idc-audit/core/normalize";
import {
  Attribution,
  attribute,
  Link,
  linkOf,
  normalizeRoleRecord,
  permissionSetOf,
  type RoleEvent,
  RoleItems,
  roleSessionId,
} from "@idc-audit/core/roles";
import { describe, expect, it } from "vitest";
import { fixtureFiles, loadEvent, publishedEventsDir } from "../support/fixtures.ts";

const published = publishedEventsDir();
const loadPublished = (name: string) =>
  JSON.parse(readFileSync(join(published, name), "utf8")) as Record<string, unknown>;

function roleEvent(raw: Record<string, unknown>): RoleEvent {
  const parsed = parseCloudTrailRecord(raw);
  if (!parsed.success) throw new Error("not a CloudTrail record");
  const result = normalizeRoleRecord(parsed.data);
  if (result.status !== "role") throw new Error(`not a role-session event: ${JSON.stringify(result)}`);
  return result.event;
}

const item = (record: unknown): ReadItem => ({ kind: "record", record, location: "test" }) as ReadItem;

describe("role-session events", () => {
  it("reads the published AssumeRoleWithSAML as the issue of its role session, keeping only the issued key id", () => {
    // Act
    const event = roleEvent(loadPublished("blog-aidansteele__AssumeRoleWithSAML__1.json"));
    // Assess
    expect(event.kind).toBe("issue");
    expect(event.session).toEqual({
      accountId: "950363612855",
      roleName: "AWSReservedSSO_AdministratorAccess_7243976e43c75fc5",
      sessionName: "aidan.steele@glassechidna.com.au",
      creationDate: "2026-07-01T00:08:20Z",
    });
    expect(event.issuedAccessKeyId).toBe("ASIA52RQV423TWB3UWEE");
    expect(event.accessKeyId).toBeUndefined();
    const stored = JSON.stringify(RoleItems.event(event));
    for (const secret of ["IQoJb", "sAMLAssertionID", "_4bed2fda", "nameQualifier"])
      expect(stored).not.toContain(secret);
  });

  it("puts the published GetCallerIdentity in the same role session, with its key and its person", () => {
    const issue = roleEvent(loadPublished("blog-aidansteele__AssumeRoleWithSAML__1.json"));
    const call = roleEvent(loadPublished("blog-aidansteele__GetCallerIdentity__1.json"));
    expect(call.kind).toBe("call");
    expect(call.roleSessionId).toBe(issue.roleSessionId);
    expect(call.accessKeyId).toBe("ASIA52RQV4232GGDZ2HL");
    expect(call.user).toEqual({
      identityStoreId: "d-976710cc5d",
      userId: "976710cc5d-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa",
    });
    expect(call.readOnly).toBe(true);
  });

  it.each(fixtureFiles("roles"))("routes %s to role sessions", (path) => {
    expect(classifyItem(item(loadEvent(path))).kind).toBe("role");
  });

  it("ignores an IAM user's console sign-in, and takes a service role's call only as a chain candidate", () => {
    // A service role's call is stored only if an AssumeRole from an Identity Center session opened its session.
    expect(classifyItem(item(loadEvent("ignored/ConsoleLogin__success__iam-user.json"))).kind).toBe(
      "ignored",
    );
    expect(classifyItem(item(loadEvent("ignored/ReceiveMessage__success__service-role.json"))).kind).toBe(
      "chain-candidate",
    );
  });

  it("does not take a role named like Identity Center's outside the path IAM reserves for it as one", () => {
    // Anyone allowed to create roles can name one AWSReservedSSO_…, not put it under /aws-reserved/sso.amazonaws.com/;
    // its session name is its caller's choice.
    const call = loadPublished("blog-aidansteele__GetCallerIdentity__1.json");
    const identity = call.userIdentity as Record<string, unknown>;
    const context = identity.sessionContext as Record<string, unknown>;
    const issuer = context.sessionIssuer as Record<string, unknown>;
    const lookAlike = {
      ...call,
      userIdentity: {
        ...identity,
        sessionContext: {
          ...context,
          sessionIssuer: {
            ...issuer,
            arn: String(issuer.arn).replace(/aws-reserved\/sso\.amazonaws\.com\/[^/]+\//, ""),
          },
        },
      },
    };
    expect(classifyItem(item(call)).kind).toBe("role");
    expect(classifyItem(item(lookAlike)).kind).toBe("chain-candidate");
    const issue = loadPublished("blog-aidansteele__AssumeRoleWithSAML__1.json");
    const request = issue.requestParameters as Record<string, unknown>;
    const issuedLookAlike = {
      ...issue,
      requestParameters: {
        ...request,
        roleArn: String(request.roleArn).replace(/aws-reserved\/sso\.amazonaws\.com\/[^/]+\//, ""),
      },
    };
    expect(classifyItem(item(issue)).kind).toBe("role");
    expect(classifyItem(item(issuedLookAlike)).kind).not.toBe("role");
  });

  it("rejects, with the reason, a role-session event that cannot name its session (no creationDate)", () => {
    // Prepare: a call of an SSO role without sessionContext, as trimmed samples (Panther's GetSigninToken) have.
    const raw = structuredClone(loadPublished("blog-aidansteele__GetCallerIdentity__1.json"));
    delete (raw.userIdentity as Record<string, unknown>).sessionContext;
    // Act
    const result = classifyItem(item(raw));
    // Assess
    expect(result.kind).toBe("rejected");
    if (result.kind === "rejected") expect(result.rejection.reason).toMatch(/creationDate/);
  });

  it("reads a console sign-in of an SSO role, whose role name carries no permission-set hash", () => {
    // Prepare: Panther's sample, with CloudTrail's own time format (the sample has a space and no zone).
    const event = roleEvent({
      ...loadPublished("panther__ConsoleLogin__1.json"),
      eventTime: "2022-03-16T19:17:41Z",
    });
    expect(event.session.roleName).toBe("AWSReservedSSO_developer_admin_asdf");
    expect(event.session.sessionName).toBe("foo@bar.com");
    expect(permissionSetOf(event.session.roleName)).toBeUndefined();
  });

  it("follows sts:AssumeRole from a role session to the chained session it opened", () => {
    // Prepare: the published call, turned into an AssumeRole with the response STS writes.
    const raw = {
      ...loadPublished("blog-aidansteele__GetCallerIdentity__1.json"),
      eventName: "AssumeRole",
      eventTime: "2026-07-01T00:09:00Z",
      requestParameters: { roleArn: "arn:aws:iam::111111111111:role/deployer", roleSessionName: "chained" },
      responseElements: {
        credentials: { accessKeyId: "ASIACHAINEDKEY000001", sessionToken: "secret", expiration: "x" },
        assumedRoleUser: {
          assumedRoleId: "AROACHAINED:chained",
          arn: "arn:aws:sts::111111111111:assumed-role/deployer/chained",
        },
      },
    };
    // Act
    const event = roleEvent(raw);
    // Assess
    expect(event.chained).toEqual({
      session: {
        accountId: "111111111111",
        roleName: "deployer",
        sessionName: "chained",
        creationDate: "2026-07-01T00:09:00Z",
      },
      accessKeyId: "ASIACHAINEDKEY000001",
    });
    expect(JSON.stringify(RoleItems.event(event))).not.toContain("secret");
  });

  it("ignores AssumeRoleWithSAML into roles Identity Center did not provision", () => {
    const raw = structuredClone(loadPublished("blog-aidansteele__AssumeRoleWithSAML__1.json"));
    (raw.requestParameters as Record<string, unknown>).roleArn = "arn:aws:iam::950363612855:role/okta-admin";
    expect(classifyItem(item(raw)).kind).toBe("ignored");
  });

  it("names a role session by account, role, session name and creation date, nothing else", () => {
    const key = {
      accountId: "1",
      roleName: "AWSReservedSSO_A_0123456789abcdef",
      sessionName: "a",
      creationDate: "2026-07-01T00:00:00Z",
    };
    expect(roleSessionId(key)).toBe(roleSessionId({ ...key }));
    expect(roleSessionId(key)).not.toBe(roleSessionId({ ...key, creationDate: "2026-07-01T00:00:01Z" }));
    expect(permissionSetOf(key.roleName)).toBe("A");
    expect(permissionSetOf("AWSReservedSSO_Read_Only_Access_0123456789abcdef")).toBe("Read_Only_Access");
  });
});

describe("linking a role session to its portal session", () => {
  const grant = (eventId: string, eventTime: string) => ({
    eventId,
    eventTime,
    eventName: "GetRoleCredentials",
    credentialId: `cred-${eventId}`,
  });

  it("is exact for a grant within 2 s, even among others", () => {
    const result = linkOf("2026-07-01T00:08:20Z", [
      grant("far", "2026-07-01T00:07:30Z"),
      grant("near", "2026-07-01T00:08:21Z"),
    ]);
    expect(result).toEqual({ link: Link.Exact, grant: grant("near", "2026-07-01T00:08:21Z") });
  });

  it("is unlinked when grants of two portal sessions both lie within 2 s, whatever their ids", () => {
    // Two portal sessions of one person (two devices, or someone else signed in as them): time cannot tell.
    for (const [first, second] of [
      ["01", "02"],
      ["02", "01"],
    ] as const)
      expect(
        linkOf("2026-07-01T00:08:20Z", [
          grant(first, "2026-07-01T00:08:19Z"),
          grant(second, "2026-07-01T00:08:21Z"),
        ]),
      ).toEqual({ link: Link.Unlinked, grant: undefined });
    // Two grants of one portal session (a tool asking twice) still tell which it was.
    const again = { ...grant("b", "2026-07-01T00:08:21Z"), credentialId: "cred-a" };
    expect(linkOf("2026-07-01T00:08:20Z", [grant("a", "2026-07-01T00:08:20Z"), again])).toEqual({
      link: Link.Exact,
      grant: grant("a", "2026-07-01T00:08:20Z"),
    });
  });

  it("is probable for the only grant within 120 s", () => {
    expect(linkOf("2026-07-01T00:08:20Z", [grant("g", "2026-07-01T00:07:00Z")]).link).toBe(Link.Probable);
  });

  it("is unlinked for two grants within 120 s and none within 2 s, or none at all", () => {
    expect(
      linkOf("2026-07-01T00:08:20Z", [grant("a", "2026-07-01T00:07:00Z"), grant("b", "2026-07-01T00:09:00Z")])
        .link,
    ).toBe(Link.Unlinked);
    expect(linkOf("2026-07-01T00:08:20Z", [grant("a", "2026-07-01T00:05:00Z")]).link).toBe(Link.Unlinked);
    expect(linkOf("2026-07-01T00:08:20Z", []).link).toBe(Link.Unlinked);
  });
});

describe("attributing a role session", () => {
  const bob = { identityStoreId: "d-1", userId: "bob" };
  const rehired = { identityStoreId: "d-1", userId: "bob-2" };

  it("prefers the person its events name over its parent and its name", () => {
    const parent = { basis: Attribution.OnBehalfOf, user: rehired, candidates: [] };
    expect(attribute([bob], parent, [rehired])).toEqual({
      basis: Attribution.OnBehalfOf,
      user: bob,
      candidates: [],
    });
    expect(attribute([], parent, [bob]).basis).toBe(Attribution.Parent);
  });

  it("names the one user the session name matches, and nobody when it matches two (a re-hire)", () => {
    expect(attribute([], undefined, [bob])).toEqual({
      basis: Attribution.SessionName,
      user: bob,
      candidates: [bob],
    });
    expect(attribute([], undefined, [rehired, bob])).toEqual({
      basis: Attribution.Ambiguous,
      user: undefined,
      candidates: [bob, rehired],
    });
    expect(attribute([], undefined, []).basis).toBe(Attribution.Unattributed);
  });
});
