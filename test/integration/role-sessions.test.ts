import { route } from "@idc-audit/core/api";
import { ExportDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestBatch } from "@idc-audit/core/ingest";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import type { RoleEvent, RoleSessionView } from "@idc-audit/core/roles";
import type { Runtime } from "@idc-audit/core/runtime";
import {
  IDENTITY_STORE_ID,
  type SynthOptions,
  type SynthRoleSession,
  SynthRoleSessionKind,
  synthDirectory,
  synthEvents,
  synthRoleSessions,
} from "@idc-audit/core/synth";
import { Keys } from "@idc-audit/core/timeline";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { countItemsRead, dumpTable, memoryRuntime } from "../support/store.ts";

/** One delivered record, read as every entry point reads it. */
type Delivery = { kind: "audited"; record: NormalizedRecord } | { kind: "role"; event: RoleEvent };

/** The records of a synthetic archive that idc-audit stores, in stream order, each classified once. */
function deliveries(options: SynthOptions): Delivery[] {
  const out: Delivery[] = [];
  let index = 0;
  for (const record of synthEvents(options)) {
    const classified = classifyItem({ kind: "record", record, location: `synth#${index++}` });
    if (classified.kind === "audited") out.push({ kind: "audited", record: classified.record });
    else if (classified.kind === "role") out.push({ kind: "role", event: classified.event });
    else if (classified.kind === "rejected") throw new Error(classified.rejection.reason);
  }
  return out;
}

async function deliver(runtime: Runtime, batch: readonly Delivery[]): Promise<number> {
  const result = await ingestBatch(runtime.pipeline, {
    records: batch.flatMap((item) => (item.kind === "audited" ? [item.record] : [])),
    roleEvents: batch.flatMap((item) => (item.kind === "role" ? [item.event] : [])),
  });
  return result.stored.length + result.storedRoleEvents.length;
}

function directoryOf(options: SynthOptions): ExportDirectory {
  return ExportDirectory.fromJson(synthDirectory(options), IDENTITY_STORE_ID);
}

type QueryOptions = Parameters<Runtime["store"]["query"]>[1];

/** Counts the store's queries that `counted` selects (`count`, set back to 0 at will) until `restore()`. */
function countQueries(runtime: Runtime, counted: (pk: string, options: QueryOptions) => boolean) {
  const query = runtime.store.query.bind(runtime.store);
  const counter = {
    count: 0,
    restore: () => {
      runtime.store.query = query;
    },
  };
  runtime.store.query = async (pk, options) => {
    if (counted(pk, options)) counter.count += 1;
    return query(pk, options);
  };
  return counter;
}

const open: Runtime[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((runtime) => runtime.close()));
});

describe("role sessions of a synthetic organisation, through the pipeline and the role queries", () => {
  /** Three eras, several member accounts, twice as many role-session records as Identity Center ones. */
  const ARCHIVE = { events: 2400, users: 8, seed: 5, roleRatio: 2 };
  let runtime: Runtime;
  let truth: SynthRoleSession[];

  beforeAll(async () => {
    runtime = await memoryRuntime(directoryOf(ARCHIVE));
    const items = deliveries(ARCHIVE);
    for (let start = 0; start < items.length; start += 500)
      await deliver(runtime, items.slice(start, start + 500));
    truth = synthRoleSessions(ARCHIVE);
    return () => runtime.close();
  });

  it("links every session whose grant is in the archive exactly to that grant's portal session and person", async () => {
    const granted = truth.filter((session) => session.grantEventId !== null);
    expect(granted.length).toBeGreaterThan(20);
    expect(new Set(granted.map((session) => session.kind))).toEqual(
      new Set([SynthRoleSessionKind.Cli, SynthRoleSessionKind.Console]),
    );
    expect(granted.some((session) => session.credentialId !== null)).toBe(true);

    for (const session of granted) {
      const detail = await runtime.roleQueries.roleSession(session.id);
      expect(detail?.roleSession, session.id).toMatchObject({
        link: "exact",
        grantEventId: session.grantEventId,
        credentialId: session.credentialId,
        accountId: session.accountId,
        permissionSet: session.permissionSet,
        eventCount: session.records,
      });
      expect(detail?.user?.userId, session.id).toBe(session.userId);
    }
  });

  it("leaves sessions whose portal session lies outside the archive unlinked, still attributed", async () => {
    const outside = truth.filter((session) => session.kind === SynthRoleSessionKind.OutsideArchive);
    expect(outside.length).toBeGreaterThan(0);

    for (const session of outside) {
      const detail = await runtime.roleQueries.roleSession(session.id);
      expect(detail?.roleSession.link, session.id).toBe("unlinked");
      expect(detail?.credentialId).toBeNull();
      expect(detail?.user?.userId, session.id).toBe(session.userId);
    }
  });

  it("calls the re-hire's session, named by a shared email and by nobody, ambiguous with both users", async () => {
    const [rehire] = truth.filter((session) => session.kind === SynthRoleSessionKind.Rehire);
    const sharing = synthDirectory(ARCHIVE).Users.filter(
      (user) => (user.Emails as { Value: string }[])[0]?.Value === rehire?.sessionName,
    );

    const detail = await runtime.roleQueries.roleSession(rehire?.id ?? "");

    expect(sharing).toHaveLength(2);
    expect(detail?.roleSession).toMatchObject({ attribution: "ambiguous", link: "unlinked" });
    expect(detail?.user).toBeNull();
    expect(detail?.roleSession.candidates.map((user) => user.userId).sort()).toEqual(
      sharing.map((user) => String(user.UserId)).sort(),
    );
  });

  it("answers a rotated console key with its session, its person and its portal session", async () => {
    const consoles = truth.filter(
      (session) => session.kind === SynthRoleSessionKind.Console && session.accessKeyIds.length >= 3,
    );
    expect(consoles.length).toBeGreaterThan(0);

    for (const session of consoles) {
      // The issued key and the first console key come first; the last one was rotated in mid-session.
      const rotated = session.accessKeyIds[session.accessKeyIds.length - 1] as string;
      const answer = await runtime.roleQueries.accessKey(rotated);
      expect(answer?.roleSession.id).toBe(session.id);
      expect(answer?.roleSession.accessKeyIds).toEqual([...session.accessKeyIds].sort());
      expect(answer?.user?.userId).toBe(session.userId);
      expect(answer?.credentialId).toBe(session.credentialId);
      if (session.credentialId !== null) expect(answer?.signIn).not.toBeNull();
    }
  });

  it("pages a person's report through the API, reading the events of the role sessions each page lists only", async () => {
    // Prepare: every person of the archive, their report whole; every role-session event item read counted.
    const people = synthDirectory(ARCHIVE).Users.map((user) => ({
      identityStoreId: IDENTITY_STORE_ID,
      userId: String(user.UserId),
    }));
    const events = countItemsRead(
      runtime.store,
      (item) => item.pk.startsWith("ROLESESSION#") && item.sk.startsWith("EVENT#"),
    );
    let pagedAcrossPages = 0;
    for (const person of people) {
      const whole = await runtime.roleQueries.userWithRoles(person);
      events.take();
      // Act: the API's pages of two sessions.
      const sessions: { credentialId: string; roleSessions: RoleSessionView[] }[] = [];
      const unlinked: RoleSessionView[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const answer = await route(
          {
            method: "GET",
            path: `/users/${person.userId}`,
            query: { identityStoreId: person.identityStoreId, limit: "2", ...(cursor ? { cursor } : {}) },
          },
          runtime,
        );
        expect(answer.status, person.userId).toBe(200);
        const page = JSON.parse(answer.body) as {
          sessions: { credentialId: string; roleSessions: RoleSessionView[] }[];
          unlinkedRoleSessions: RoleSessionView[];
          sessionCount: number;
          unlinkedRoleSessionCount: number;
          roleSessionCount: number;
          nextCursor: string | null;
        };
        // Assess, each page: the events read are those of the role sessions it lists, each once.
        const listed = [
          ...page.sessions.flatMap((session) => session.roleSessions),
          ...page.unlinkedRoleSessions,
        ];
        expect(events.take(), `${person.userId}, page ${pages}`).toBe(
          listed.reduce((sum, view) => sum + view.eventCount, 0),
        );
        expect(page).toMatchObject({
          sessionCount: whole.sessionCount,
          unlinkedRoleSessionCount: whole.unlinkedRoleSessionCount,
          roleSessionCount: whole.roleSessionCount,
        });
        sessions.push(...page.sessions);
        unlinked.push(...page.unlinkedRoleSessions);
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined);
      // Assess, all pages: the whole report's role sessions, in the same places, with the same figures.
      expect(sessions.map(({ credentialId, roleSessions }) => ({ credentialId, roleSessions }))).toEqual(
        whole.sessions.map(({ credentialId, roleSessions }) => ({ credentialId, roleSessions })),
      );
      expect(unlinked).toEqual(whole.unlinkedRoleSessions);
      expect(whole.unlinkedRoleSessionCount).toBe(whole.unlinkedRoleSessions.length);
      if (pages > 1 && whole.roleSessionCount > 0) pagedAcrossPages += 1;
    }
    // Not vacuous: people whose role sessions spread over several pages.
    expect(pagedAcrossPages).toBeGreaterThan(2);
  });

  it("answers a person's one-page report with the queries of the whole report", async () => {
    // Prepare: every query of a role session's partition counted.
    const queries = countQueries(runtime, (pk) => pk.startsWith("ROLESESSION#"));
    try {
      let withRoleSessions = 0;
      for (const user of synthDirectory(ARCHIVE).Users) {
        const person = { identityStoreId: IDENTITY_STORE_ID, userId: String(user.UserId) };
        queries.count = 0;
        const whole = await runtime.roleQueries.userWithRoles(person);
        const wholeQueries = queries.count;
        queries.count = 0;
        // Act: the API's page of the default size, which lists all of them.
        const answer = await route(
          {
            method: "GET",
            path: `/users/${person.userId}`,
            query: { identityStoreId: person.identityStoreId },
          },
          runtime,
        );
        // Assess: one query a role session, as the whole report (each session's head, then its calls: three).
        expect(JSON.parse(answer.body).nextCursor, person.userId).toBeNull();
        expect(queries.count, person.userId).toBe(wholeQueries);
        if (whole.roleSessionCount > 0) withRoleSessions += 1;
      }
      expect(withRoleSessions).toBeGreaterThan(2);
    } finally {
      queries.restore();
    }
  });

  it("links a person's role sessions from the timeline their report reads, not a query each", async () => {
    // Prepare: every query of the person's own partition counted.
    let partition = "";
    const queries = countQueries(runtime, (pk) => pk === partition);
    try {
      let linked = 0;
      for (const user of synthDirectory(ARCHIVE).Users) {
        const person = { identityStoreId: IDENTITY_STORE_ID, userId: String(user.UserId) };
        partition = Keys.userPartition(person);
        queries.count = 0;
        // Act: the whole report, then the API's pages of two portal sessions.
        const whole = await runtime.roleQueries.userWithRoles(person);
        const wholeQueries = queries.count;
        const pageQueries: number[] = [];
        let cursor: string | undefined;
        do {
          queries.count = 0;
          const answer = await route(
            {
              method: "GET",
              path: `/users/${person.userId}`,
              query: { identityStoreId: person.identityStoreId, limit: "2", ...(cursor ? { cursor } : {}) },
            },
            runtime,
          );
          pageQueries.push(queries.count);
          cursor = JSON.parse(answer.body).nextCursor ?? undefined;
        } while (cursor !== undefined);
        // Assess: the timeline and the role-session index, whatever the number of role sessions (a link query
        // each made it 2 + their number).
        expect(wholeQueries, person.userId).toBe(2);
        for (const count of pageQueries) expect(count, person.userId).toBe(2);
        linked += whole.sessions.filter((session) => session.roleSessions.length > 0).length;
      }
      // Not vacuous: role sessions linked to their portal sessions, which only their grants can do.
      expect(linked).toBeGreaterThan(2);
    } finally {
      queries.restore();
    }
  });

  it("links a portal session's role sessions from one read of its person's events around its grants", async () => {
    // Prepare: every read of a time range of the person's events counted (not their whole timeline, which an
    // inferred session's answer reads to group it, nor their role-session index).
    let partition = "";
    const queries = countQueries(
      runtime,
      (pk, options) => pk === partition && options?.between?.[0].startsWith("EVENT#") === true,
    );
    try {
      let several = 0;
      for (const user of synthDirectory(ARCHIVE).Users) {
        const person = { identityStoreId: IDENTITY_STORE_ID, userId: String(user.UserId) };
        for (const session of (await runtime.roleQueries.userWithRoles(person)).sessions) {
          partition = Keys.userPartition(person);
          queries.count = 0;
          // Act
          const answer = await runtime.roleQueries.sessionWithRoles(session.credentialId);
          // Assess: the person's events around its grants read once (a query for each role session's link before).
          expect(answer.roleSessions.map((view) => view.id)).toEqual(
            session.roleSessions.map((view) => view.id),
          );
          expect(queries.count, session.credentialId).toBeLessThanOrEqual(1);
          if (answer.roleSessions.filter((view) => view.parentId === null).length > 1) several += 1;
        }
      }
      // Not vacuous: portal sessions that issued several role sessions.
      expect(several).toBeGreaterThan(2);
    } finally {
      queries.restore();
    }
  });

  it("answers a chained role's key with the chained session, its person through the SSO session", async () => {
    const chained = truth.filter((session) => session.chained !== null);
    expect(chained.length).toBeGreaterThan(0);

    for (const session of chained) {
      const answer = await runtime.roleQueries.accessKey(session.chained?.accessKeyId ?? "");
      expect(answer?.roleSession).toMatchObject({ parentId: session.id, attribution: "parent" });
      expect(answer?.user?.userId).toBe(session.userId);
      expect(answer?.credentialId).toBe(session.credentialId);
    }
  });
});

describe("order, duplicate and batch independence of role sessions", () => {
  /**
   * Small enough for many runs: about thirty episodes, role records two to one. Seeds 2 and 12 are archives
   * of this size holding every kind of role session (the first test checks it).
   */
  const SEEDS = [2, 12] as const;
  const synth = (seed: number) => ({ events: 220, users: 5, seed, roleRatio: 2 });

  /** Everything the role queries can say about an archive's sessions and keys. */
  async function roleAnswers(runtime: Runtime, sessions: readonly SynthRoleSession[]) {
    const answers: Record<string, unknown> = {};
    for (const session of sessions) {
      answers[session.id] = await runtime.roleQueries.roleSession(session.id);
      for (const key of session.accessKeyIds) answers[key] = await runtime.roleQueries.accessKey(key);
      if (session.credentialId !== null)
        answers[session.credentialId] = (
          await runtime.roleQueries.sessionWithRoles(session.credentialId)
        ).roleSessions;
    }
    return answers;
  }

  const references = new Map<
    number,
    Promise<{ table: Record<string, unknown>[]; answers: unknown; items: Delivery[] }>
  >();
  function reference(seed: number) {
    let cached = references.get(seed);
    if (!cached) {
      cached = (async () => {
        const items = deliveries(synth(seed));
        const runtime = await memoryRuntime(directoryOf(synth(seed)));
        open.push(runtime);
        await deliver(runtime, items);
        return {
          items,
          table: await dumpTable(runtime),
          answers: await roleAnswers(runtime, synthRoleSessions(synth(seed))),
        };
      })();
      references.set(seed, cached);
    }
    return cached;
  }

  it("the workload holds every kind of role session: CLI, console, chained, outside the archive, re-hire", async () => {
    for (const seed of SEEDS) {
      const sessions = synthRoleSessions(synth(seed));
      const kinds = new Set(sessions.map((session) => session.kind));
      const { items, answers } = await reference(seed);

      for (const kind of Object.values(SynthRoleSessionKind)) expect(kinds).toContain(kind);
      expect(sessions.some((session) => session.chained !== null)).toBe(true);
      expect(items.filter((item) => item.kind === "role").length).toBeGreaterThan(100);
      expect(items.filter((item) => item.kind === "audited").length).toBeGreaterThan(50);
      // The property below would be vacuous if nothing were linked or attributed.
      const links = Object.values(answers as Record<string, { roleSession?: { link: string } } | null>).map(
        (answer) => answer?.roleSession?.link,
      );
      expect(links).toContain("exact");
      expect(links).toContain("unlinked");
    }
  });

  it("gives the same tables and role answers for any permutation, duplication and batch split (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS),
        fc.array(fc.nat(), { minLength: 220, maxLength: 220 }),
        fc.array(fc.nat({ max: 219 }), { maxLength: 30 }),
        fc.integer({ min: 8, max: 80 }),
        async (seed, sortKeys, duplicated, batchSize) => {
          // Prepare: a delivery order, some records delivered twice, split into batches.
          const expected = await reference(seed);
          const items = expected.items;
          const order = items
            .map((item, index) => ({ item, key: sortKeys[index % sortKeys.length] ?? 0, index }))
            .sort((a, b) => a.key - b.key || a.index - b.index)
            .map((entry) => entry.item);
          const deliveriesInOrder = [
            ...order,
            ...duplicated.map((index) => order[index % order.length] as Delivery),
          ];
          const runtime = await memoryRuntime(directoryOf(synth(seed)));
          try {
            // Act
            let stored = 0;
            for (let start = 0; start < deliveriesInOrder.length; start += batchSize)
              stored += await deliver(runtime, deliveriesInOrder.slice(start, start + batchSize));
            // Assess
            expect(stored).toBe(items.length);
            expect(await roleAnswers(runtime, synthRoleSessions(synth(seed)))).toEqual(expected.answers);
            const table = await dumpTable(runtime);
            expect(table).toEqual(expected.table);
          } finally {
            await runtime.close();
          }
        },
      ),
      { numRuns: 6 },
    );
  });
});
