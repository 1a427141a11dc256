import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import {
  type ApiResponse,
  createFunctionUrlHandler,
  encodeCursor,
  MAX_LIMIT,
  type RunningServer,
  route,
  startServer,
} from "@idc-audit/core/api";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { ExportDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import { normalize } from "@idc-audit/core/normalize";
import type { Runtime } from "@idc-audit/core/runtime";
import { silentLogger } from "@idc-audit/core/shared";
import { plantAttacks, synthDirectory } from "@idc-audit/core/synth";
import { AliasKind, Items } from "@idc-audit/core/timeline";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, eventsDir, loadEvent, publishedEventsDir } from "../support/fixtures.ts";
import { dumpTable, memoryRuntime } from "../support/store.ts";

const ATTACKS = { users: 60, seed: 21 } as const;
const OKTA = { id: "00u1abcdEFGHijkl2345", issuer: "https://example.okta.com" } as const;

let runtime: Runtime;

/** Ingests the fixture archive and the planted attacks of the detection tests, so every route has answers. */
beforeAll(async () => {
  const fixtures = JSON.parse(readFileSync(join(eventsDir, "directory.json"), "utf8")) as {
    Users: unknown[];
  };
  const synthetic = synthDirectory({ events: 0, ...ATTACKS });
  runtime = await memoryRuntime(ExportDirectory.fromJson({ Users: [...fixtures.Users, ...synthetic.Users] }));
  await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
  await runtime.pipeline.ingest(
    plantAttacks(ATTACKS).records.flatMap((raw) => {
      const result = normalize(raw);
      return result.status === "audited" ? [result.record] : [];
    }),
  );
});
afterAll(async () => {
  await runtime?.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON documents are checked field by field below.
  readonly body: any;
}

const parse = (response: ApiResponse): Answer => ({
  status: response.status,
  headers: response.headers,
  body: JSON.parse(response.body),
});

async function get(
  path: string,
  query: Record<string, string | string[]> = {},
  method = "GET",
): Promise<Answer> {
  return parse(await route({ method, path, query }, runtime));
}

/** Every item of a paginated list, following `nextCursor` with small pages. */
async function all(path: string, field: string, query: Record<string, string> = {}, limit = 2) {
  const items: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await get(path, { ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(page.status).toBe(200);
    expect(page.body[field].length).toBeLessThanOrEqual(limit);
    items.push(...page.body[field]);
    cursor = page.body.nextCursor ?? undefined;
    pages += 1;
  } while (cursor);
  return { items, pages };
}

const bobSession = () =>
  (loadEvent("new/GetRoleCredentials__success.json").userIdentity as { credentialId: string }).credentialId;

describe("analyst API: sessions", () => {
  it("answers a session with the CLI's timeline, a summary of where it went, and pages of events", async () => {
    const credentialId = bobSession();
    const expected = await runtime.queries.session(credentialId);

    const answer = await get(`/sessions/${credentialId}`);

    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.body.credentialId).toBe(credentialId);
    expect(answer.body.user).toEqual(expected.user);
    expect(answer.body.events).toEqual(expected.events);
    expect(answer.body.nextCursor).toBeNull();
    expect(answer.body.summary).toMatchObject({
      firstSeen: expected.events[0]?.eventTime,
      lastSeen: expected.events.at(-1)?.eventTime,
      eventCount: expected.events.length,
      sourceIps: ["203.0.113.24"],
      accounts: ["444455556666"],
      roles: [{ accountId: "444455556666", roleName: "AdministratorAccess" }],
      factors: ["PASSWORD"],
      failures: 0,
      signedOut: true,
    });
    const paged = await all(`/sessions/${credentialId}`, "events", {}, 4);
    expect(paged.items).toEqual(expected.events);
    expect(paged.pages).toBe(Math.ceil(expected.events.length / 4));
  });

  it("answers an inferred session by its percent-encoded id, and 404 for a session never seen", async () => {
    const report = await runtime.queries.user(ALICE);
    const inferred = report.sessions.find((session) => session.inferred);
    expect(inferred).toBeDefined();
    const answer = await get(`/sessions/${encodeURIComponent(inferred?.credentialId ?? "")}`);
    expect(answer.status).toBe(200);
    expect(answer.body.events).toHaveLength(inferred?.eventCount ?? -1);
    expect(answer.body.summary.failures).toBe(1);

    const missing = await get("/sessions/AAAAAnosuchsession");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "no events for session AAAAAnosuchsession" });
  });
});

describe("analyst API: users", () => {
  it("answers a user by email with the CLI's report, each session with accounts, roles and factors", async () => {
    const expected = await runtime.queries.user(BOB);

    const answer = await get(`/users/${encodeURIComponent(BOB.userName)}`);

    expect(answer.status).toBe(200);
    expect(answer.body.user).toEqual(expected.user);
    expect(answer.body.eventCount).toBe(expected.eventCount);
    expect(answer.body.sessionCount).toBe(expected.sessions.length);
    expect(answer.body.failedSignInCount).toBe(0);
    const sessions = answer.body.sessions as Record<string, unknown>[];
    expect(
      sessions.map(({ credentialId, inferred, firstSeen, lastSeen, eventCount, sourceIps }) => ({
        credentialId,
        inferred,
        firstSeen,
        lastSeen,
        eventCount,
        sourceIps,
      })),
    ).toEqual(expected.sessions);
    const keyed = sessions.find((session) => session.credentialId === bobSession());
    expect(keyed).toMatchObject({ roles: [{ accountId: "444455556666", roleName: "AdministratorAccess" }] });
    expect(sessions.every((session) => Array.isArray(session.factors) && session.signedOut === true)).toBe(
      true,
    );
  });

  it("finds the same person by user id, by user name in any case, and by Okta external id with or without issuer", async () => {
    const byId = await get(`/users/${BOB.userId}`, { identityStoreId: BOB.identityStoreId });
    const byName = await get(`/users/${BOB.userName.toUpperCase()}`);
    const byExternal = await get("/users", { externalId: OKTA.id, issuer: OKTA.issuer });
    const byExternalAnyIssuer = await get("/users", { externalId: OKTA.id });
    for (const answer of [byId, byName, byExternal, byExternalAnyIssuer]) {
      expect(answer.status).toBe(200);
      expect(answer.body.user.userId).toBe(BOB.userId);
    }
    expect(byExternal.body).toEqual(byId.body);
  });

  it("pages a user's sessions with an opaque cursor", async () => {
    const expected = await runtime.queries.user(BOB);
    const paged = await all(`/users/${BOB.userId}`, "sessions", {}, 1);
    expect(paged.pages).toBe(expected.sessions.length);
    expect(paged.items.map((session) => (session as { credentialId: string }).credentialId)).toEqual(
      expected.sessions.map((session) => session.credentialId),
    );
  });

  it("lists a person's failed sign-ins", async () => {
    const failures = await runtime.queries.failedSignIns();
    const alices = failures.filter((failure) => failure.userId === ALICE.userId);
    expect(alices.length).toBeGreaterThan(0);

    const answer = await get(`/users/${ALICE.userName}/failed-signins`);

    expect(answer.status).toBe(200);
    expect(answer.body.user).toEqual({ identityStoreId: ALICE.identityStoreId, userId: ALICE.userId });
    expect(answer.body.failures.map((event: { eventId: string }) => event.eventId)).toEqual(
      alices.map((failure) => failure.eventId),
    );
    expect(answer.body.failures.every((event: { outcome: string }) => event.outcome === "failure")).toBe(
      true,
    );
    const report = await get(`/users/${ALICE.userName}`);
    expect(report.body.failedSignInCount).toBe(alices.length);
  });

  it("refuses a lookup that names nobody (404), or two people (409 with the candidates)", async () => {
    const nobody = await get("/users/nobody@example.com");
    expect(nobody.status).toBe(404);
    expect(nobody.body.error).toBe("no user known for nobody@example.com");
    const otherStore = await get(`/users/${BOB.userName}`, { identityStoreId: "d-0000000000" });
    expect(otherStore.status).toBe(404);
    const unknownExternal = await get("/users", { externalId: OKTA.id, issuer: "https://other.okta.com" });
    expect(unknownExternal.status).toBe(404);

    // Test-only write: one shared mailbox as the email of two people.
    await runtime.store.putAll([
      Items.alias(AliasKind.Email, "shared@example.com", BOB),
      Items.alias(AliasKind.Email, "shared@example.com", ALICE),
    ]);
    const shared = await get("/users/shared@example.com");
    expect(shared.status).toBe(409);
    expect(shared.body.error).toContain("names 2 users");
    expect(shared.body.candidates).toHaveLength(2);

    const noExternalId = await get("/users", { issuer: OKTA.issuer });
    expect(noExternalId.status).toBe(400);
    expect(noExternalId.body.error).toContain("externalId");
  });

  it("answers a name only an old-shape event carries (no directory knows it) as unresolved, with its session", async () => {
    // Prepare: the 2021 portal event; the directory does not know its name, no transitional event names it.
    const published = join(publishedEventsDir(), "blog-drbarnz__ListAccountRoles__1.json");
    await ingestStream(readInputs([published]), runtime.pipeline);
    // Act
    const answer = await get("/users/User@Example.com");
    // Assess: the CLI's shape, labelled unresolved, its inferred session with the analyst's facts.
    expect(answer.status).toBe(200);
    expect(answer.body.user).toEqual({
      userId: null,
      identityStoreId: null,
      userName: "User@Example.com",
      displayName: null,
      emails: [],
      externalIds: [],
      status: "unresolved",
    });
    expect(answer.body).toMatchObject({ eventCount: 1, sessionCount: 1, roleSessionCount: 0 });
    expect(answer.body.sessions[0]).toMatchObject({
      inferred: true,
      eventCount: 1,
      accounts: ["000000000000"],
    });
    const session = await get(`/sessions/${encodeURIComponent(answer.body.sessions[0].credentialId)}`);
    expect(session.status).toBe(200);
    expect(session.body.events.map((event: { eventId: string }) => event.eventId)).toEqual([
      "b02878f9-a936-4027-9338-16fdba509113",
    ]);
    // Asked for in one identity store, a bare name is no answer.
    expect((await get("/users/user@example.com", { identityStoreId: BOB.identityStoreId })).status).toBe(404);
  });
});

describe("analyst API: failed sign-ins, addresses and alerts", () => {
  it("answers failed sign-ins as the CLI does, in a time range, page by page", async () => {
    const expected = await runtime.queries.failedSignIns();
    expect(expected.length).toBeGreaterThan(10);
    const answer = await get("/failed-signins");
    expect(answer.body.failures).toEqual(expected.slice(0, 100));
    const paged = await all("/failed-signins", "failures", {}, 7);
    expect(paged.items).toEqual(expected);

    const since = "2026-07-01";
    const until = "2026-07-01T00:04:00Z";
    const ranged = await get("/failed-signins", { since, until });
    expect(ranged.status).toBe(200);
    expect(ranged.body.failures).toEqual(await runtime.queries.failedSignIns("2026-07-01T00:00:00Z", until));
    expect(ranged.body.failures.length).toBeGreaterThan(0);
  });

  it("refuses times that are not ISO-8601 and ranges that end before they start", async () => {
    const bad = await get("/failed-signins", { since: "yesterday" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("ISO-8601");
    const backwards = await get("/failed-signins", { since: "2026-07-02", until: "2026-07-01" });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error).toContain("is after until");
    const alerts = await get("/alerts", { until: "last week" });
    expect(alerts.status).toBe(400);
  });

  it("answers the canary's coverage as the CLI reads it, in a day range, and refuses other parameters", async () => {
    const { readCoverage } = await import("@idc-audit/core/coverage");
    const answer = await get("/coverage");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(await readCoverage(runtime.store));
    expect(answer.body.events).toBeGreaterThan(50);
    expect(answer.body.byShape.new.events).toBeGreaterThan(0);
    const ranged = await get("/coverage", { since: "2026-07-01", until: "2026-07-01T23:59:59Z" });
    expect(ranged.body.days.map((day: { day: string }) => day.day)).toEqual(["2026-07-01"]);
    expect((await get("/coverage", { limit: "5" })).status).toBe(400);
  });

  it("answers every event and every person seen from an address", async () => {
    const address = "198.51.100.77";
    const expected = await runtime.queries.address(address);

    const answer = await get(`/addresses/${address}`);

    expect(answer.status).toBe(200);
    expect(answer.body.events).toEqual(expected);
    expect(answer.body.eventCount).toBe(expected.length);
    expect(answer.body.users.map((user: { userId: string }) => user.userId)).toEqual([ALICE.userId]);
    expect((await all(`/addresses/${address}`, "events", {}, 5)).items).toEqual(expected);
  });

  it("names the people a password spray tried, through their sign-in workflows", async () => {
    const spray = (await runtime.alerts()).find((alert) => alert.rule === "password-spray");
    expect(spray?.subject.type).toBe("address");
    const address = spray?.subject.type === "address" ? spray.subject.sourceIp : "";

    const answer = await get(`/addresses/${address}`);

    expect(answer.status).toBe(200);
    expect(answer.body.users.map((user: { userId: string }) => user.userId).sort()).toEqual(
      (spray?.users ?? []).map((user) => user.userId).sort(),
    );
    expect(answer.body.unresolvedWorkflows).toBe(0);
  });

  it("refuses a value that is neither an address nor a service name, and 404s an address never seen", async () => {
    expect((await get("/addresses/not%20an%20address!")).status).toBe(400);
    const unseen = await get("/addresses/192.0.2.254");
    expect(unseen.status).toBe(404);
    expect(unseen.body.error).toBe("no events from 192.0.2.254");
  });

  it("answers the detections' alerts, each with the sessions its events belong to", async () => {
    const expected = await runtime.alerts();
    expect(expected.map((alert) => alert.rule).sort()).toEqual([
      "brute-force",
      "mfa-attack",
      "password-spray",
      "success-after-failures",
      "unknown-user-names",
    ]);

    const answer = await get("/alerts");

    expect(answer.status).toBe(200);
    expect(answer.body.nextCursor).toBeNull();
    const alerts = answer.body.alerts as { id: string; credentialIds: string[]; eventIds: string[] }[];
    expect(alerts.map(({ credentialIds: _, ...alert }) => alert)).toEqual(expected);
    const success = alerts.find(
      (alert) => (alert as unknown as { rule: string }).rule === "success-after-failures",
    );
    expect(success?.credentialIds.length).toBeGreaterThan(0);
    const sessionEvents = new Set<string>();
    for (const credentialId of success?.credentialIds ?? []) {
      const session = await get(`/sessions/${encodeURIComponent(credentialId)}`);
      for (const event of session.body.events) sessionEvents.add(event.eventId);
    }
    expect(success?.eventIds.every((eventId) => sessionEvents.has(eventId))).toBe(true);
    const spray = alerts.find((alert) => (alert as unknown as { rule: string }).rule === "password-spray");
    expect(spray?.credentialIds).toEqual([]);

    const later = await get("/alerts", { since: expected[2]?.firstSeen ?? "" });
    expect(later.body.alerts.map((alert: { id: string }) => alert.id)).toEqual(
      (await runtime.alerts(expected[2]?.firstSeen)).map((alert) => alert.id),
    );
    expect((await all("/alerts", "alerts", {}, 2)).items).toEqual(alerts);
  });

  it("answers one person's alerts only", async () => {
    const brute = (await runtime.alerts()).find((alert) => alert.rule === "brute-force");
    if (brute?.subject.type !== "user") throw new Error("planted brute force is missing");
    const answer = await get(`/users/${brute.subject.userId}/alerts`);
    expect(answer.status).toBe(200);
    expect(answer.body.alerts.map((alert: { id: string }) => alert.id)).toEqual([brute.id]);
    const none = await get(`/users/${BOB.userId}/alerts`);
    expect(none.body.alerts).toEqual([]);
  });
});

describe("analyst API: search", () => {
  it("resolves the search box's value as a session, an address, an external id, then a user", async () => {
    const session = await get("/search", { q: bobSession() });
    expect(session.body).toMatchObject({ kind: "session", credentialId: bobSession() });
    const address = await get("/search", { q: "203.0.113.24" });
    expect(address.body).toMatchObject({ kind: "address", sourceIp: "203.0.113.24" });
    const external = await get("/search", { q: OKTA.id });
    expect(external.body.kind).toBe("external-id");
    expect(external.body.users.map((user: { userId: string }) => user.userId)).toEqual([BOB.userId]);
    const user = await get("/search", { q: ` ${ALICE.userName} ` });
    expect(user.body.kind).toBe("user");
    expect(user.body.users[0].userName).toBe(ALICE.userName);
  });

  it("answers 404 when nothing matches and 400 when there is nothing to search for", async () => {
    const nothing = await get("/search", { q: "no-such-thing" });
    expect(nothing.status).toBe(404);
    expect(nothing.body.error).toBe("nothing known matches no-such-thing");
    expect((await get("/search", { q: "192.0.2.254" })).status).toBe(404);
    expect((await get("/search", { q: "   " })).status).toBe(400);
    expect((await get("/search")).status).toBe(400);
  });
});

describe("analyst API: role sessions", () => {
  /** Bob's CLI credentials in the member account, used in the fixture archive (`events/archive`). */
  const ROLE_KEY = "ASIA3EXAMPLEROLEKEY1";
  const bobRoleSession = async () => {
    const answer = await runtime.roleQueries.accessKey(ROLE_KEY);
    if (!answer) throw new Error(`the fixture archive's role session of ${ROLE_KEY} is missing`);
    return answer.roleSession;
  };

  it("adds to a portal session the role session its GetRoleCredentials issued, linked exact", async () => {
    const credentialId = bobSession();
    const expected = await runtime.roleQueries.sessionWithRoles(credentialId);

    const answer = await get(`/sessions/${credentialId}`);

    expect(answer.status).toBe(200);
    expect(answer.body.roleSessions).toEqual(expected.roleSessions);
    expect(answer.body.roleSessions).toHaveLength(1);
    expect(answer.body.roleSessions[0]).toMatchObject({
      id: expect.stringMatching(/^rs-[0-9a-f]{24}$/),
      accountId: "444455556666",
      permissionSet: "AdministratorAccess",
      link: "exact",
      credentialId,
      accessKeyIds: [ROLE_KEY],
      eventCount: 2,
    });
    expect(answer.body.events).toEqual(expected.events);
  });

  it("counts a person's role sessions and puts each under the portal session that issued it", async () => {
    const expected = await runtime.roleQueries.userWithRoles(BOB);

    const answer = await get(`/users/${encodeURIComponent(BOB.userName)}`);

    expect(answer.status).toBe(200);
    expect(answer.body.roleSessionCount).toBe(1);
    expect(answer.body.roleSessionCount).toBe(expected.roleSessionCount);
    expect(answer.body.unlinkedRoleSessions).toEqual(expected.unlinkedRoleSessions);
    const bySession = new Map(
      (answer.body.sessions as { credentialId: string; roleSessions: unknown[] }[]).map((session) => [
        session.credentialId,
        session.roleSessions,
      ]),
    );
    expect(bySession.get(bobSession())).toEqual([await bobRoleSession()]);
    for (const session of expected.sessions) {
      expect(bySession.get(session.credentialId)).toEqual(session.roleSessions);
    }
  });

  it("answers a role session with its person, portal session and events, page by page", async () => {
    const { id } = await bobRoleSession();
    const expected = await runtime.roleQueries.roleSession(id);

    const answer = await get(`/role-sessions/${id}`);

    expect(answer.status).toBe(200);
    expect(answer.body.roleSession).toEqual(expected?.roleSession);
    expect(answer.body.user.userId).toBe(BOB.userId);
    expect(answer.body.credentialId).toBe(bobSession());
    expect(answer.body.events.map((event: { eventName: string }) => event.eventName)).toEqual(
      expected?.events.map((event) => event.eventName),
    );
    expect(answer.body.events.every((event: { accessKeyId: string }) => event.accessKeyId === ROLE_KEY)).toBe(
      true,
    );
    expect(answer.body.nextCursor).toBeNull();
    expect((await all(`/role-sessions/${id}`, "events", {}, 1)).items).toEqual(expected?.events);
  });

  it("answers an access key with the person, their Okta id, the portal session and the sign-in address", async () => {
    const answer = await get(`/access-keys/${ROLE_KEY}`);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(await runtime.roleQueries.accessKey(ROLE_KEY));
    expect(answer.body.user).toMatchObject({
      userId: BOB.userId,
      userName: BOB.userName,
      externalIds: [{ issuer: OKTA.issuer, id: OKTA.id }],
    });
    expect(answer.body.credentialId).toBe(bobSession());
    expect(answer.body.roleSession.accountId).toBe("444455556666");
    expect(answer.body.signIn).toMatchObject({ sourceIp: "203.0.113.24", credentialTypes: ["PASSWORD"] });
  });

  it("finds an access key and a role session id from the search box", async () => {
    const roleSession = await bobRoleSession();

    const byKey = await get("/search", { q: ` ${ROLE_KEY} ` });
    const byId = await get("/search", { q: roleSession.id });

    expect(byKey.status).toBe(200);
    expect(byKey.body).toMatchObject({
      kind: "access-key",
      accessKeyId: ROLE_KEY,
      roleSessionId: roleSession.id,
      credentialId: bobSession(),
    });
    expect(byKey.body.users.map((user: { userId: string }) => user.userId)).toEqual([BOB.userId]);
    expect(byId.body).toMatchObject({ kind: "role-session", roleSessionId: roleSession.id });
    // An access key's shape is not enough: a key nobody stored is not a match.
    expect((await get("/search", { q: "ASIA0000000000000000" })).status).toBe(404);
  });

  it("refuses malformed role session ids and access keys (400) and 404s unknown ones", async () => {
    const badId = await get("/role-sessions/rs-nothex");
    expect(badId.status).toBe(400);
    expect(badId.body.error).toContain("not a role session id");
    const unknownId = await get(`/role-sessions/rs-${"0".repeat(24)}`);
    expect(unknownId.status).toBe(404);
    expect(unknownId.body.error).toBe(`no role session rs-${"0".repeat(24)}`);
    expect((await get("/access-keys/asia-lower-case")).status).toBe(400);
    const unknownKey = await get("/access-keys/ASIA0000000000000000");
    expect(unknownKey.status).toBe(404);
    expect(unknownKey.body.error).toContain("no Identity Center role session");
    expect((await get(`/access-keys/${ROLE_KEY}`, { limit: "1" })).status).toBe(400);
    expect((await get(`/access-keys/${ROLE_KEY}`, {}, "POST")).status).toBe(405);
  });
});

describe("analyst API: bad requests", () => {
  it("answers 405 with Allow: GET to anything but a read", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const answer = await get(`/users/${BOB.userId}`, {}, method);
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe("GET");
      expect(answer.body.error).toContain("only reads");
    }
  });

  it("answers 404 for unknown routes and 400 for parameters a route does not take", async () => {
    expect((await get("/")).status).toBe(404);
    expect((await get("/sessions")).status).toBe(404);
    const unknown = await get("/nope/nope");
    expect(unknown).toMatchObject({ status: 404, body: { error: "no such route: /nope/nope" } });
    const misspelt = await get("/users", { external_id: OKTA.id });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.error).toContain("unknown parameter external_id");
    const repeated = await get("/failed-signins", { since: ["2026-01-01", "2026-02-01"] });
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toContain("more than once");
  });

  it("refuses bad limits and cursors it did not issue", async () => {
    for (const limit of ["0", "-1", "abc", "1.5", String(MAX_LIMIT + 1), ""]) {
      const answer = await get("/failed-signins", { limit });
      expect(answer.status, `limit=${limit}`).toBe(400);
    }
    expect((await get("/failed-signins", { limit: String(MAX_LIMIT) })).status).toBe(200);
    for (const cursor of [
      "garbage!",
      "eyJ2IjoyLCJvIjoxfQ",
      Buffer.from('{"v":1,"o":-3}').toString("base64url"),
    ]) {
      const answer = await get("/failed-signins", { cursor });
      expect(answer.status, `cursor=${cursor}`).toBe(400);
      expect(answer.body.error).toContain("cursor");
    }
    const past = await get("/failed-signins", { cursor: encodeCursor(10_000) });
    expect(past.body).toEqual({ failures: [], nextCursor: null });
  });

  it("refuses oversized values, control characters and broken percent-encoding", async () => {
    const long = await get(`/users/${"a".repeat(600)}`);
    expect(long.status).toBe(400);
    expect(long.body.error).toContain("longer than 512");
    expect((await get("/users/bob%00")).status).toBe(400);
    expect((await get("/users/%E0%A4%A")).status).toBe(400);
    expect((await get("/search", { q: "x".repeat(513) })).status).toBe(400);
  });

  it("never writes: the table is the same after every route was asked", async () => {
    const before = await dumpTable(runtime);
    const writes = { ...runtime.store.stats };
    const paths = [
      `/sessions/${bobSession()}`,
      `/users/${BOB.userName}`,
      `/users/${BOB.userName}/failed-signins`,
      `/users/${BOB.userName}/alerts`,
      "/failed-signins",
      "/alerts",
      "/addresses/203.0.113.24",
      "/nope",
    ];
    for (const path of paths) await get(path);
    await get("/search", { q: BOB.userName });
    await get("/users", { externalId: OKTA.id });
    await get(`/users/${BOB.userName}`, {}, "DELETE");
    expect(runtime.store.stats.batchWrites).toBe(writes.batchWrites);
    expect(runtime.store.stats.puts).toBe(writes.puts);
    expect(await dumpTable(runtime)).toEqual(before);
  });
});

describe("analyst API adapters", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(runtime, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The server's key, as any client but a browser sends it. */
  const authorized = () => ({ headers: { authorization: `Bearer ${server.key}` } });

  /**
   * A raw HTTP request, so the Host header can be set as a rebinding page would; with the server's key unless
   * `headers` are given.
   */
  function raw(
    path: string,
    options: { method?: string; host?: string; headers?: Record<string, string> } = {},
  ) {
    const url = new URL(path, server.url);
    const headers = {
      ...(options.headers ?? authorized().headers),
      ...(options.host ? { host: options.host } : {}),
    };
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const request = httpRequest(url, { method: options.method ?? "GET", headers }, (response) => {
          let body = "";
          response.on("data", (chunk) => {
            body += chunk;
          });
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
        });
        request.on("error", reject);
        request.end();
      },
    );
  }

  it("serves the API under /api with the same answers as the router", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(
      new URL(`api/users/${encodeURIComponent(BOB.userName)}?limit=1`, server.url),
      authorized(),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual((await get(`/users/${BOB.userName}`, { limit: "1" })).body);
    const repeated = await fetch(new URL("api/failed-signins?limit=1&limit=2", server.url), authorized());
    expect(repeated.status).toBe(400);
    const post = await raw("/api/alerts", { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("serves the page and its files with a policy that allows nothing from elsewhere", async () => {
    const page = await fetch(server.url, authorized());
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('src="app.js"');
    expect(html).not.toMatch(/https?:\/\//);
    for (const [file, type] of [
      ["app.js", "text/javascript; charset=utf-8"],
      ["styles.css", "text/css; charset=utf-8"],
    ] as const) {
      const response = await fetch(new URL(file, server.url), authorized());
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(type);
      // The SVG namespace is a name, never fetched (the browser test records every request the page makes).
      expect(await response.text()).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|www\.w3\.org\/2000\/svg")/);
    }
    expect((await fetch(new URL("../../etc/passwd", server.url), authorized())).status).toBe(404);
    expect((await fetch(new URL("server.ts", server.url), authorized())).status).toBe(404);
    const head = await raw("/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("answers only requests carrying its key (loopback is shared by every user of the machine)", async () => {
    // Act and assess: without the key, with another, and with the key in each way a client can give it.
    for (const path of ["/", "/app.js", "/api/alerts", `/api/users/${encodeURIComponent(BOB.userName)}`]) {
      const refused = await raw(path, { headers: {} });
      expect(refused.status, path).toBe(401);
      expect(refused.body).toContain("?key=");
      expect(refused.body).not.toContain(server.key);
      expect((await raw(path, { headers: { authorization: `Bearer ${server.key}x` } })).status, path).toBe(
        401,
      );
      expect((await raw(path, { headers: { cookie: `idc-audit-key-1=${server.key}` } })).status, path).toBe(
        401,
      );
    }
    expect((await raw("/?key=wrong", { headers: {} })).status).toBe(401);
    expect((await raw(`/api/alerts?key=${server.key}`, { headers: {} })).status).toBe(401);
    // The printed address: its key is moved into a cookie only this server's pages send, then out of the URL.
    expect(server.openUrl).toBe(`${server.url}?key=${server.key}`);
    const opened = await raw(`/?key=${server.key}`, { headers: {} });
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe("/");
    const port = new URL(server.url).port;
    const [cookie] = opened.headers["set-cookie"] as string[];
    expect(cookie).toBe(`idc-audit-key-${port}=${server.key}; Path=/; HttpOnly; SameSite=Strict`);
    const withCookie = { cookie: `other=1; idc-audit-key-${port}=${server.key}` };
    expect((await raw("/api/alerts", { headers: withCookie })).status).toBe(200);
    expect((await raw("/", { headers: withCookie })).status).toBe(200);
    // A second server has a key of its own.
    const other = await startServer(runtime, { port: 0 });
    try {
      expect(other.key).not.toBe(server.key);
      expect(other.key).toMatch(/^[\w-]{43}$/);
      const refused = await fetch(new URL("api/alerts", other.url), authorized());
      expect(refused.status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it("answers only requests addressed to itself by name (DNS rebinding)", async () => {
    const port = new URL(server.url).port;
    const rebound = await raw("/api/alerts", { host: `attacker.example:${port}` });
    expect(rebound.status).toBe(421);
    expect((await raw("/", { host: `localhost:${port}` })).status).toBe(200);
  });

  it("answers a Lambda function URL event through the same router", async () => {
    const handler = createFunctionUrlHandler({ logger: silentLogger, openRuntime: async () => runtime });
    const event = (method: string, rawPath: string, rawQueryString = "") =>
      ({
        rawPath,
        rawQueryString,
        requestContext: { http: { method } },
      }) as unknown as APIGatewayProxyEventV2;

    const answer = await handler(event("GET", `/users/${encodeURIComponent(BOB.userName)}`, "limit=2"));

    expect(answer.statusCode).toBe(200);
    expect(answer.headers?.["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(answer.body ?? "")).toEqual((await get(`/users/${BOB.userName}`, { limit: "2" })).body);
    const repeated = await handler(event("GET", "/failed-signins", "limit=1&limit=2"));
    expect(repeated.statusCode).toBe(400);
    const post = await handler(event("POST", "/alerts"));
    expect(post.statusCode).toBe(405);
    expect(post.headers?.allow).toBe("GET");
  });
});

describe("directory change routes", () => {
  const GROUP_ID = "aaa6373a-a1a8-487e-ac4e-11e5c638e487";

  it("answers a person's changes, a group's and an administrator's, as the CLI does", async () => {
    await ingestStream(readInputs([join(eventsDir, "admin")]), runtime.pipeline);
    const bob = await get(`/users/${encodeURIComponent(BOB.userName)}/changes`);
    expect(bob.status).toBe(200);
    expect(bob.body.changes.map((change: { eventName: string }) => change.eventName)).toContain(
      "CreateAccountAssignment",
    );
    expect(bob.body.changes).toEqual(await runtime.changeQueries.userChanges(bob.body.user));

    const group = await get(`/groups/${GROUP_ID}`);
    expect(group.status).toBe(200);
    expect(group.body.group.groupId).toBe(GROUP_ID);
    expect(group.body.changes[0]).toMatchObject({
      eventName: "CreateGroupMembership",
      user: { userId: ALICE.userId },
    });

    const paged = await all("/changes", "changes", { actor: "dana" });
    expect(paged.items).toEqual((await runtime.changeQueries.actorChanges("dana")).changes);
    expect(paged.items.length).toBeGreaterThanOrEqual(6);
  });

  it("refuses /changes without an actor, and says when no group is known", async () => {
    expect((await get("/changes")).status).toBe(400);
    expect((await get("/groups/nobody")).status).toBe(404);
  });
});
