/**
 * Synthetic Identity Center archives for tests and benchmarks: deterministic from a seed, no dependencies.
 *
 *   for (const record of synthEvents({ events: 1000, seed: 7 })) …
 *   await writeArchive("/tmp/archive", { events: 1_000_000, seed: 7 });
 *   const directory = synthDirectory({ events: 1_000_000, seed: 7 }); // the users those events name
 */
export { type ArchiveOptions, writeArchive } from "./archive.ts";
export {
  type AttackOptions,
  type BusyPerson,
  type BusyPersonOptions,
  busyPerson,
  type ForeignRoleSession,
  type ForeignRoleSessionOptions,
  foreignRoleSession,
  type PlantedAlert,
  type PlantedAttacks,
  plantAttacks,
  type SteadySpray,
  type SteadySprayOptions,
  steadySpray,
} from "./attacks.ts";
export {
  ERA_WINDOWS,
  eraAt,
  type SynthOptions,
  synthDirectory,
  synthEvents,
  synthRoleSessions,
} from "./events.ts";
export { hashString, hashStringPair } from "./random.ts";
export { type CloudTrailRecord, type Era, isoSeconds } from "./records.ts";
export { type SynthRoleSession, SynthRoleSessionKind } from "./roles.ts";
export { IDENTITY_STORE_ARN, IDENTITY_STORE_ID, type SynthUser } from "./world.ts";
