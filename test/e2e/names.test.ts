/**
 * Names without a directory, as a new user meets them: a 2021 portal event (old shape: a sign-in name, no user
 * id) ingested with no directory is answered by that name, labelled unresolved, until a transitional event
 * teaches who the name is; then the same question answers the person. A name somebody typed in a sign-in is
 * never an answer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.ts";
import { BOB, loadEvent, publishedEventsDir } from "../support/fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-names-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const NAME = "user@example.com";
const DRBARNZ_EVENT_ID = "b02878f9-a936-4027-9338-16fdba509113";

interface Report {
  user: {
    userId: string | null;
    identityStoreId: string | null;
    userName: string | null;
    displayName: string | null;
    emails: string[];
    externalIds: unknown[];
    status: string;
  };
  eventCount: number;
  roleSessionCount: number;
  sessions: { credentialId: string; inferred: boolean; eventCount: number; roleSessions: unknown[] }[];
  unlinkedRoleSessions: unknown[];
}

interface Timeline {
  credentialId: string;
  user: Report["user"] | null;
  events: { eventId: string }[];
}

describe("user VALUE for a name only old-shape events carry", () => {
  const dataDir = join(scratch, "store");
  const drbarnz = join(publishedEventsDir(), "blog-drbarnz__ListAccountRoles__1.json");

  it("answers the 2021 portal event's name, unresolved, then the person once a transitional event names them", async () => {
    // Prepare: the 2021 event ingested with no directory.
    json(await runCli(["ingest", drbarnz, "--data-dir", dataDir, "--json"]));

    // Act
    const unresolved = json<Report>(await runCli(["user", NAME, "--data-dir", dataDir, "--json"]));

    // Assess: the `user --json` shape, with null ids and the name asked for.
    expect(unresolved.user).toEqual({
      userId: null,
      identityStoreId: null,
      userName: NAME,
      displayName: null,
      emails: [],
      externalIds: [],
      status: "unresolved",
    });
    expect(unresolved.eventCount).toBe(1);
    expect(unresolved.roleSessionCount).toBe(0);
    expect(unresolved.unlinkedRoleSessions).toEqual([]);
    expect(unresolved.sessions).toHaveLength(1);
    const [session] = unresolved.sessions;
    expect(session).toMatchObject({ inferred: true, eventCount: 1, roleSessions: [] });

    // The inferred session it prints can be opened like any other.
    const timeline = json<Timeline>(
      await runCli(["timeline", session?.credentialId ?? "", "--data-dir", dataDir, "--json"]),
    );
    expect(timeline.events.map((event) => event.eventId)).toEqual([DRBARNZ_EVENT_ID]);
    expect(timeline.user?.status).toBe("unresolved");

    // Human output says so too; any case of the name finds it.
    const human = await runCli(["user", NAME.toUpperCase(), "--data-dir", dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("unresolved");
    expect(human.stdout).toMatch(/events\s+1 in 1 sessions/);

    // Act: a transitional event of Bob's that carries this name too teaches the mapping.
    const teacher = loadEvent("transitional/ListAccounts__success.json");
    (teacher.userIdentity as Record<string, unknown>).userName = NAME;
    teacher.eventID = "5e1f0c7a-0000-4000-8000-00000000a001";
    const teacherFile = join(scratch, "teacher.json");
    writeFileSync(teacherFile, JSON.stringify(teacher));
    json(await runCli(["ingest", teacherFile, "--data-dir", dataDir, "--json"]));
    const resolved = json<Report>(await runCli(["user", NAME, "--data-dir", dataDir, "--json"]));

    // Assess: the person, with the 2021 event in their timeline.
    expect(resolved.user).toMatchObject({
      userId: BOB.userId,
      identityStoreId: BOB.identityStoreId,
      status: "unenriched",
    });
    expect(resolved.eventCount).toBe(2);
    const old = resolved.sessions.find((entry) => entry.inferred);
    if (!old) throw new Error("no inferred session for the 2021 event");
    const oldTimeline = json<Timeline>(
      await runCli(["timeline", old.credentialId, "--data-dir", dataDir, "--json"]),
    );
    expect(oldTimeline.events.map((event) => event.eventId)).toEqual([DRBARNZ_EVENT_ID]);
    expect(oldTimeline.user?.userId).toBe(BOB.userId);
  });

  it("never answers a name typed in a sign-in, failed or not", async () => {
    // Prepare: old-shape sign-in steps whose name is what somebody typed.
    const typed = "typed-name@example.com";
    const challenge = loadEvent("old/CredentialChallenge__success__failed-password.json");
    const failure = loadEvent("old/CredentialVerification__failure.json");
    for (const event of [challenge, failure]) {
      (event.userIdentity as Record<string, unknown>).userName = typed;
      const extra = event.additionalEventData as Record<string, unknown> | undefined;
      if (extra && "UserName" in extra) extra.UserName = typed;
    }
    const file = join(scratch, "typed.ndjson");
    writeFileSync(file, `${JSON.stringify(challenge)}\n${JSON.stringify(failure)}\n`);
    const typedDir = join(scratch, "typed-store");
    const counts = json<{ stored: number }>(await runCli(["ingest", file, "--data-dir", typedDir, "--json"]));
    expect(counts.stored).toBe(2);

    // Act
    const answer = await runCli(["user", typed, "--data-dir", typedDir, "--json"]);

    // Assess
    expect(answer.code).toBe(1);
    expect(answer.stderr + answer.stdout).toContain(`no user known for ${typed}`);
    expect(readFileSync(file, "utf8")).toContain(typed);
  });
});
