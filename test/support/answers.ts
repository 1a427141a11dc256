import { ExportDirectory } from "@idc-audit/core/identity";
import { type NormalizedRecord, normalize, type UserKey } from "@idc-audit/core/normalize";
import type { Runtime } from "@idc-audit/core/runtime";
import { IDENTITY_STORE_ID, type SynthOptions, synthDirectory, synthEvents } from "@idc-audit/core/synth";

/** The audited records of a synthetic stream, normalized (ignored and rejected records left out). */
export function synthRecords(options: SynthOptions): NormalizedRecord[] {
  const records: NormalizedRecord[] = [];
  for (const raw of synthEvents(options)) {
    const result = normalize(raw);
    if (result.status === "audited") records.push(result.record);
  }
  return records;
}

/** The directory export of the users a synthetic stream draws from, as an offline directory. */
export function synthExportDirectory(options: SynthOptions): ExportDirectory {
  return ExportDirectory.fromJson(synthDirectory(options), IDENTITY_STORE_ID);
}

/** Every user of the synthetic directory, as keys. */
export function synthUsers(options: SynthOptions): UserKey[] {
  return synthDirectory(options).Users.map((user) => ({
    identityStoreId: IDENTITY_STORE_ID,
    userId: String(user.UserId),
  }));
}

/** What an analyst can ask: every session timeline, every user view, the failed sign-ins. */
export interface Answers {
  readonly sessions: Record<string, unknown>;
  readonly users: Record<string, unknown>;
  readonly failures: unknown;
}

/**
 * Asks the store every question the CLI can ask about these records: the timeline of each session they
 * name, the view of each user (with its sessions, inferred ones included) and the failed sign-ins.
 */
export async function answers(
  runtime: Runtime,
  records: readonly NormalizedRecord[],
  users: readonly UserKey[],
): Promise<Answers> {
  const credentialIds = [
    ...new Set(records.flatMap((record) => (record.event.credentialId ? [record.event.credentialId] : []))),
  ].sort();
  const sessions: Record<string, unknown> = {};
  for (const credentialId of credentialIds)
    sessions[credentialId] = await runtime.queries.session(credentialId);
  const userViews: Record<string, unknown> = {};
  for (const user of users) {
    const report = await runtime.queries.user(user);
    userViews[`${user.identityStoreId}/${user.userId}`] = report;
    // Inferred sessions are computed on read: ask for each of them too.
    for (const session of report.sessions.filter((entry) => entry.inferred))
      sessions[session.credentialId] = await runtime.queries.session(session.credentialId);
  }
  return { sessions, users: userViews, failures: await runtime.queries.failedSignIns() };
}

/** A deterministic shuffle (mulberry32), for tests that need one without fast-check. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}
