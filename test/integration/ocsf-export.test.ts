import { join } from "node:path";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { exportFromStore, type OcsfEvent, OcsfSchema } from "@idc-audit/core/export";
import { ExportDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import type { Runtime } from "@idc-audit/core/runtime";
import { IDENTITY_STORE_ID, synthDirectory, synthEvents, synthRoleSessions } from "@idc-audit/core/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsDir, ocsfSchemaDir } from "../support/fixtures.ts";
import { fixtureDirectory, memoryRuntime } from "../support/store.ts";

type Unmapped = {
  attribution?: { inferred?: boolean; basis?: string };
  portal_session?: { link?: string; credential_id?: string };
  user_external_ids?: unknown[];
};

const uidOf = (event: OcsfEvent) => (event.metadata as { uid: string }).uid;
const unmappedOf = (event: OcsfEvent) => (event.unmapped ?? {}) as Unmapped;

function violationsOf(schema: OcsfSchema, events: readonly OcsfEvent[]): string[] {
  return events.flatMap((event) =>
    schema.validate(event).map((v) => `${uidOf(event)} (${event.class_uid}) ${v.path}: ${v.message}`),
  );
}

let schema: OcsfSchema;
beforeAll(() => {
  schema = new OcsfSchema(ocsfSchemaDir());
});

describe("idc-audit export of the bundled archive, from the store", () => {
  let runtime: Runtime;
  let events: OcsfEvent[];
  let stored: number;

  beforeAll(async () => {
    runtime = await memoryRuntime(await fixtureDirectory());
    const counts = await ingestStream(
      readInputs([join(eventsDir, "archive")], { stdin: process.stdin }),
      runtime.pipeline,
    );
    stored = counts.stored;
    events = (await exportFromStore(runtime.store, runtime.roleQueries)).events;
  });
  afterAll(() => runtime.close());

  it("exports every stored event once, in time order, each valid against the OCSF 1.8.0 class it claims", () => {
    expect(events.length).toBe(stored);
    expect(new Set(events.map(uidOf)).size).toBe(events.length);
    expect(events.map((event) => event.time)).toEqual(
      [...events.map((event) => event.time)].sort((a, b) => a - b),
    );
    expect(violationsOf(schema, events)).toEqual([]);
  });

  it("names the person of sign-in steps the pipeline attributed through their workflow, marked as inferred", () => {
    const inferred = events.filter(
      (event) => event.class_uid === 3002 && unmappedOf(event).attribution?.basis === "workflow",
    );
    expect(inferred.length).toBeGreaterThan(0);
    for (const event of inferred) {
      expect(unmappedOf(event).attribution?.inferred).toBe(true);
      expect(event.user).toMatchObject({ uid: expect.any(String), domain: expect.stringMatching(/^d-/) });
    }
    // The directory's profile: name, email and the external identity provider's ids.
    expect(inferred.some((event) => (event.user as { email_addr?: string }).email_addr !== undefined)).toBe(
      true,
    );
    expect(inferred.some((event) => (unmappedOf(event).user_external_ids ?? []).length > 0)).toBe(true);
  });

  it("marks the person an event names itself as not inferred", () => {
    const stated = events.filter((event) => unmappedOf(event).attribution?.basis === "onBehalfOf");
    expect(stated.length).toBeGreaterThan(5);
    for (const event of stated) expect(unmappedOf(event).attribution?.inferred).toBe(false);
  });

  it("gives a role-session call its person, its access key and the portal session whose grant issued it", async () => {
    const calls = events.filter((event) => unmappedOf(event).portal_session !== undefined);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const session = (call.actor as { session: { uid: string; credential_uid?: string } }).session;
      const detail = await runtime.roleQueries.roleSession(session.uid);
      expect(detail).toBeDefined();
      expect(unmappedOf(call).portal_session).toMatchObject({ link: detail?.roleSession.link });
      if (detail?.credentialId) {
        expect((call.metadata as { correlation_uid?: string }).correlation_uid).toBe(detail.credentialId);
        expect(unmappedOf(call).portal_session?.credential_id).toBe(detail.credentialId);
      }
      expect(detail?.roleSession.accessKeyIds).toContain(session.credential_uid);
      expect((call.actor as { user: { uid?: string } }).user.uid).toBe(detail?.user?.userId);
      expect(unmappedOf(call).attribution).toEqual({
        inferred: detail?.roleSession.attribution !== "onBehalfOf",
        basis: detail?.roleSession.attribution,
      });
    }
  });

  it("keeps to --since and --until (since inclusive, until exclusive)", async () => {
    const times = [
      ...new Set(events.map((event) => (event.metadata as { original_time: string }).original_time)),
    ].sort();
    const since = times[1] as string;
    const until = times[times.length - 2] as string;
    const { events: window } = await exportFromStore(runtime.store, runtime.roleQueries, { since, until });
    const expected = events.filter((event) => {
      const time = (event.metadata as { original_time: string }).original_time;
      return time >= since && time < until;
    });
    expect(window.map(uidOf)).toEqual(expected.map(uidOf));
    expect(window.length).toBeLessThan(events.length);
    expect(window.length).toBeGreaterThan(0);
  });
});

describe("idc-audit export of a synthetic organisation with role activity", () => {
  const ARCHIVE = { events: 1500, users: 8, seed: 21, roleRatio: 2 };
  let runtime: Runtime;
  let events: OcsfEvent[];

  beforeAll(async () => {
    runtime = await memoryRuntime(ExportDirectory.fromJson(synthDirectory(ARCHIVE), IDENTITY_STORE_ID));
    async function* records() {
      let index = 0;
      for (const record of synthEvents(ARCHIVE))
        yield { kind: "record" as const, record, location: `synth#${index++}` };
    }
    await ingestStream(records(), runtime.pipeline, { batchSize: 500 });
    events = (await exportFromStore(runtime.store, runtime.roleQueries)).events;
  });
  afterAll(() => runtime.close());

  it("exports records that all validate against their OCSF 1.8.0 class", () => {
    expect(events.length).toBeGreaterThan(1000);
    expect(violationsOf(schema, events)).toEqual([]);
  });

  it("exports every role session's calls with the session's person and its exact link to the portal session", async () => {
    const truth = synthRoleSessions(ARCHIVE).filter(
      (session) => session.credentialId !== null && session.records > 0,
    );
    expect(truth.length).toBeGreaterThan(5);
    const bySession = new Map<string, OcsfEvent[]>();
    for (const event of events) {
      const id = (event.actor as { session?: { uid?: string } } | undefined)?.session?.uid;
      if (id?.startsWith("rs-")) bySession.set(id, [...(bySession.get(id) ?? []), event]);
    }
    // Every call says how its session's person was found, or that none was chosen.
    const bases = new Map<string, number>();
    for (const [id, calls] of bySession) {
      const view = await runtime.roleQueries.summary(id);
      const person =
        view?.attribution === "ambiguous" || view?.attribution === "unattributed" ? undefined : view;
      bases.set(String(view?.attribution), (bases.get(String(view?.attribution)) ?? 0) + calls.length);
      for (const call of calls)
        expect(unmappedOf(call).attribution, id).toEqual(
          person
            ? { inferred: view?.attribution !== "onBehalfOf", basis: view?.attribution }
            : { basis: "unattributed", reason: `role session ${view?.attribution}` },
        );
    }
    expect(bases.get("onBehalfOf")).toBeGreaterThan(0);
    expect(bases.get("by-session-name")).toBeGreaterThan(0);
    // The re-hire sharing an email: the session is nobody's, and the export says so.
    expect(bases.get("ambiguous")).toBeGreaterThan(0);
    for (const session of truth) {
      const calls = bySession.get(session.id) ?? [];
      expect(calls.length, session.id).toBeGreaterThan(0);
      for (const call of calls) {
        expect(unmappedOf(call).portal_session).toMatchObject({
          link: "exact",
          credential_id: session.credentialId,
        });
        expect((call.metadata as { correlation_uid?: string }).correlation_uid).toBe(session.credentialId);
        expect((call.actor as { user: { uid?: string } }).user.uid).toBe(session.userId);
      }
    }
  });
});
