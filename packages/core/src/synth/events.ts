/**
 * The synthetic event stream: sign-in workflows and portal sessions of a small organisation across the three
 * `userIdentity` eras, with failed and hidden-name sign-ins, admin changes and other services' events.
 */
import { fmix32, Random } from "./random.ts";
import { type Actor, type CloudTrailRecord, type Era, RecordFactory } from "./records.ts";
import { type Pending, RoleActivity, type SynthRoleSession } from "./roles.ts";
import {
  CLIS,
  directoryOf,
  HIDDEN,
  IDENTITY_STORE_ID,
  MEMBER_ACCOUNTS,
  MEMBER_REGIONS,
  makeRehire,
  makeUsers,
  ROLE_NAMES,
  STRANGER_NETWORK,
  type SynthUser,
} from "./world.ts";

export interface SynthOptions {
  /** Exactly this many records are produced. */
  events: number;
  /** Size of the directory (default 20). */
  users?: number;
  /** Same seed, same records (default 1). */
  seed?: number;
  /** ISO start of the time window. Without it, each era's default window is used. */
  start?: string;
  /** Length of the window that starts at `start`, in days (default 7). */
  days?: number;
  /** Share of sessions preceded by a failed sign-in (default 0.05). */
  failureRate?: number;
  /**
   * Eras to produce (default all three). With `start`, an explicit list is used as is; without it, the era of
   * each session follows its date.
   */
  eras?: Era[];
  /**
   * Role activity in member accounts, as records per Identity Center record (default 0: none, and the stream
   * is exactly what it was before role activity existed). Tests use a modest 1 to 3; `npm run bench` uses 10.
   * With it, `events` counts both kinds, and the directory gains a re-hired user sharing an email.
   */
  roleRatio?: number;
}

const ALL_ERAS: readonly Era[] = ["old", "transitional", "new"];
const DAY_MS = 86_400_000;

/** Default windows: old 2024-01..2024-09, transitional 2024-11..2025-06, new 2025-08..2026-10. */
export const ERA_WINDOWS: Readonly<Record<Era, readonly [string, string]>> = {
  old: ["2024-01-01T00:00:00Z", "2024-10-01T00:00:00Z"],
  transitional: ["2024-11-01T00:00:00Z", "2025-07-01T00:00:00Z"],
  new: ["2025-08-01T00:00:00Z", "2026-11-01T00:00:00Z"],
};

/** The era whose shapes CloudTrail wrote at `ms`. */
export function eraAt(ms: number): Era {
  if (ms < Date.parse("2024-10-15T00:00:00Z")) return "old";
  if (ms < Date.parse("2025-07-14T00:00:00Z")) return "transitional";
  return "new";
}

interface Window {
  readonly start: number;
  readonly end: number;
  readonly era?: Era;
}

interface Plan {
  readonly events: number;
  readonly users: number;
  readonly seed: number;
  readonly failureRate: number;
  readonly roleRatio: number;
  readonly windows: readonly Window[];
  /** Eras to pick from when a window has none; undefined: follow the date. */
  readonly eras?: readonly Era[];
}

function plan(options: SynthOptions): Plan {
  const { events, users = 20, seed = 1, failureRate = 0.05, days = 7, roleRatio = 0 } = options;
  if (!Number.isSafeInteger(events) || events < 0)
    throw new RangeError(`events must be a non-negative integer: ${events}`);
  if (!Number.isSafeInteger(users) || users < 1)
    throw new RangeError(`users must be a positive integer: ${users}`);
  if (!(failureRate >= 0 && failureRate <= 1))
    throw new RangeError(`failureRate must be within [0, 1]: ${failureRate}`);
  if (!(roleRatio >= 0 && roleRatio <= 1000))
    throw new RangeError(`roleRatio must be within [0, 1000]: ${roleRatio}`);
  const eras = options.eras ?? ALL_ERAS;
  if (eras.length === 0 || eras.some((era) => !ALL_ERAS.includes(era))) {
    throw new RangeError(`eras must list some of ${ALL_ERAS.join(", ")}`);
  }
  const base = { events, users, seed: seed >>> 0, failureRate, roleRatio };
  if (options.start !== undefined) {
    const start = Date.parse(options.start);
    if (Number.isNaN(start)) throw new RangeError(`start is not an ISO date: ${options.start}`);
    if (!(days > 0)) throw new RangeError(`days must be positive: ${days}`);
    const window = { start, end: start + days * DAY_MS };
    return options.eras === undefined ? { ...base, windows: [window] } : { ...base, windows: [window], eras };
  }
  const windows = ALL_ERAS.filter((era) => eras.includes(era)).map((era) => ({
    start: Date.parse(ERA_WINDOWS[era][0]),
    end: Date.parse(ERA_WINDOWS[era][1]),
    era,
  }));
  return { ...base, windows };
}

/**
 * Session start times walking forward through the windows, spaced so that `events` records roughly fill them.
 */
class Clock {
  readonly #windows: readonly Window[];
  readonly #span: number;
  readonly #gap: number;
  #position = 0;

  constructor(windows: readonly Window[], events: number) {
    this.#windows = windows;
    this.#span = windows.reduce((sum, window) => sum + (window.end - window.start), 0);
    // About 8 records per episode; aim a little short so the stream rarely runs past the last window.
    this.#gap = this.#span / Math.max(1, Math.ceil(events / 7));
  }

  /** The next episode's start and the window it falls in. */
  next(rng: Random): { time: number; window: Window } {
    this.#position = Math.min(this.#position + this.#gap * (0.5 + rng.next()), this.#span - 3_600_000);
    let offset = Math.max(0, this.#position);
    for (const window of this.#windows) {
      const length = window.end - window.start;
      if (offset < length) return { time: window.start + Math.floor(offset / 1000) * 1000, window };
      offset -= length;
    }
    const last = this.#windows[this.#windows.length - 1];
    if (last === undefined) throw new Error("no time window");
    return { time: last.start, window: last };
  }
}

const MFA_SCENARIOS: readonly (readonly string[])[] = [
  ["ListMfaDevicesForUser"],
  ["ListMfaDevicesForUser", "StartVirtualMfaDeviceRegistration", "CompleteVirtualMfaDeviceRegistration"],
  ["ListMfaDevicesForUser", "StartWebAuthnDeviceRegistration", "CompleteWebAuthnDeviceRegistration"],
  ["ListMfaDevicesForUser", "UpdateMfaDeviceForUser"],
  ["ListMfaDevicesForUser", "DeleteMfaDeviceForUser"],
];

/** Builds one episode's records in time order. */
class Episodes {
  readonly #rng: Random;
  readonly #make: RecordFactory;
  readonly #users: readonly SynthUser[];
  readonly #failureRate: number;
  /** Role activity, when asked for: it replaces the bare role-session records of the stream without it. */
  readonly #roles: RoleActivity | undefined;

  constructor(
    rng: Random,
    make: RecordFactory,
    users: readonly SynthUser[],
    failureRate: number,
    roles?: RoleActivity,
  ) {
    this.#rng = rng;
    this.#make = make;
    this.#users = users;
    this.#failureRate = failureRate;
    this.#roles = roles;
  }

  any(time: number, era: Era): CloudTrailRecord[] {
    const rng = this.#rng;
    const roll = rng.next();
    const hidden = this.#failureRate / 4;
    if (roll < hidden) return this.hiddenAttempt(time, era);
    if (roll < hidden + 0.03)
      return [this.#make.randomAdmin(time, this.#users, rng.chance(this.#failureRate))];
    if (roll < hidden + 0.07) {
      if (this.#roles === undefined) return this.roleSession(time);
      this.#roles.outsideArchive(time, era);
      return [];
    }
    if (roll < hidden + 0.085) {
      return [this.#make.createTokenWithIam(time, era, rng.pick(this.#users), this.#make.credentialId())];
    }
    return this.userSession(time, era);
  }

  /** Somebody typed a name that is no user: AWS hides it. */
  hiddenAttempt(time: number, era: Era): CloudTrailRecord[] {
    const rng = this.#rng;
    const stranger: SynthUser = {
      userId: "",
      userName: HIDDEN,
      givenName: "",
      familyName: "",
      principalId: "",
      ip: `${STRANGER_NETWORK}.${rng.int(2, 254)}`,
      browser: "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
      cli: rng.pick(CLIS),
    };
    const actor: Actor = { era, user: stranger, ip: stranger.ip, userAgent: stranger.browser };
    const authWorkflowId = this.#make.authWorkflowId();
    const common = { authWorkflowId, credentialType: "PASSWORD", anonymous: true, typedName: HIDDEN };
    return [
      this.#make.signIn(time, actor, "CredentialChallenge", common),
      this.#make.signIn(time + rng.int(3, 12) * 1000, actor, "CredentialVerification", {
        ...common,
        outcome: "Failure",
      }),
    ];
  }

  /** A failed sign-in of a real user: wrong password, or right password and wrong TOTP code. */
  failedSignIn(time: number, actor: Actor): { records: CloudTrailRecord[]; end: number } {
    const rng = this.#rng;
    const authWorkflowId = this.#make.authWorkflowId();
    const typedName = actor.user.userName;
    const common = { authWorkflowId, anonymous: true, typedName };
    let t = time;
    const records = [
      this.#make.signIn(t, actor, "CredentialChallenge", { ...common, credentialType: "PASSWORD" }),
    ];
    t += rng.int(4, 15) * 1000;
    if (rng.chance(0.3)) {
      records.push(
        this.#make.signIn(t, actor, "CredentialVerification", { ...common, credentialType: "PASSWORD" }),
      );
      t += 1000;
      records.push(this.#make.signIn(t, actor, "CredentialChallenge", { ...common, credentialType: "TOTP" }));
      t += rng.int(8, 30) * 1000;
      records.push(
        this.#make.signIn(t, actor, "CredentialVerification", {
          ...common,
          credentialType: "TOTP",
          outcome: "Failure",
        }),
      );
    } else {
      records.push(
        this.#make.signIn(t, actor, "CredentialVerification", {
          ...common,
          credentialType: "PASSWORD",
          outcome: "Failure",
        }),
      );
    }
    return { records, end: t };
  }

  userSession(time: number, era: Era): CloudTrailRecord[] {
    const rng = this.#rng;
    const make = this.#make;
    const user = rng.pick(this.#users);
    const base = { era, user, ip: user.ip, userAgent: user.browser };
    const actor: Actor = era === "old" ? base : { ...base, credentialId: make.credentialId() };
    const records: CloudTrailRecord[] = [];
    let t = time;
    const step = (min: number, max: number): number => {
      t += rng.int(min, max) * 1000;
      return t;
    };

    if (rng.chance(this.#failureRate)) {
      const failed = this.failedSignIn(t, actor);
      records.push(...failed.records);
      t = failed.end;
      if (rng.chance(0.25)) return records; // gave up
      step(20, 90);
    }

    // Sign-in.
    if (user.externalId !== undefined && rng.chance(0.15)) {
      records.push(
        make.signIn(t, actor, "UserAuthentication", {
          authWorkflowId: make.authWorkflowId(),
          credentialType: "EXTERNAL_IDP",
          typedName: user.userName,
        }),
      );
    } else {
      const authWorkflowId = make.authWorkflowId();
      records.push(
        make.signIn(t, actor, "CredentialChallenge", {
          authWorkflowId,
          credentialType: "PASSWORD",
          typedName: user.userName,
        }),
      );
      let verification = make.signIn(step(4, 15), actor, "CredentialVerification", {
        authWorkflowId,
        credentialType: "PASSWORD",
      });
      records.push(verification);
      const totp = rng.chance(0.5);
      if (totp) {
        records.push(
          make.signIn(step(1, 1), actor, "CredentialChallenge", { authWorkflowId, credentialType: "TOTP" }),
        );
        verification = make.signIn(step(6, 25), actor, "CredentialVerification", {
          authWorkflowId,
          credentialType: "TOTP",
        });
        records.push(verification);
      }
      const enrol = !totp && rng.chance(0.02);
      records.push(
        make.signIn(t, actor, "UserAuthentication", {
          authWorkflowId,
          credentialType: totp ? "PASSWORD,TOTP" : "PASSWORD",
          requestID: String(verification.requestID),
          mfaEnrollment: enrol,
        }),
      );
      if (enrol) {
        records.push(make.mfaDevice(step(5, 20), actor, "StartVirtualMfaDeviceRegistration"));
        records.push(
          make.mfaDevice(step(20, 60), actor, "CompleteVirtualMfaDeviceRegistration", {
            deviceId: `mfa-${rng.hex(20)}`,
          }),
        );
      }
    }

    // Access portal.
    records.push(make.portal(step(1, 3), actor, "Authenticate"));
    records.push(make.portal(step(1, 2), actor, "ListAccounts"));
    if (rng.chance(0.3)) records.push(make.portal(step(1, 5), actor, "ListApplications"));
    if (rng.chance(0.1)) records.push(make.portal(step(2, 20), actor, "ListProfilesForApplication"));
    const visits = rng.int(1, 2);
    for (let i = 0; i < visits; i++) {
      const accountId = rng.pick(MEMBER_ACCOUNTS);
      const roleName = rng.pick(ROLE_NAMES);
      records.push(make.portal(step(3, 40), actor, "ListAccountRoles", { accountId }));
      if (rng.chance(this.#failureRate)) {
        records.push(
          make.portal(step(2, 10), actor, "GetRoleCredentials", {
            accountId,
            roleName,
            errorCode: "AccessDeniedException",
            errorMessage: "No access",
          }),
        );
        continue;
      }
      if (rng.chance(0.3)) {
        const federate = make.portal(step(2, 10), actor, "Federate", { accountId, roleName });
        records.push(federate);
        const grant = { record: federate, time: t, era, actor, accountId, roleName, console: true };
        if (this.#roles !== undefined) this.#roles.grant(grant);
        else if (rng.chance(0.5))
          records.push(
            make.roleSessionCall(step(1, 3), user, accountId, roleName, "us-east-1", "ConsoleLogin"),
          );
      } else {
        const cli = rng.chance(0.4);
        const credentials = make.portal(
          step(2, 10),
          actor,
          "GetRoleCredentials",
          cli ? { accountId, roleName, userAgent: user.cli } : { accountId, roleName },
        );
        records.push(credentials);
        const grant = { record: credentials, time: t, era, actor, accountId, roleName, console: false };
        if (this.#roles !== undefined) this.#roles.grant(grant);
        else if (rng.chance(0.4))
          records.push(make.assumeRoleWithSaml(step(0, 1), user, accountId, roleName));
      }
    }
    if (rng.chance(0.2)) {
      records.push(
        make.createToken(
          step(10, 120),
          actor,
          rng.chance(0.7) ? "sso.amazonaws.com" : "sso-oauth.amazonaws.com",
        ),
      );
    }
    if (rng.chance(0.08)) {
      const deviceId = `mfa-${rng.hex(20)}`;
      const fails = rng.chance(this.#failureRate * 4);
      for (const name of rng.pick(MFA_SCENARIOS)) {
        const failure =
          fails && name === "CompleteVirtualMfaDeviceRegistration"
            ? { errorCode: "ValidationException", errorMessage: "The authentication code is not valid" }
            : {};
        records.push(make.mfaDevice(step(5, 40), actor, name, { deviceId, ...failure }));
      }
    }
    if (rng.chance(0.5)) records.push(make.portal(step(30, 600), actor, "Logout"));
    return records;
  }

  /** A user's role session in a member account, calling other services (ignored by idc-audit). */
  roleSession(time: number): CloudTrailRecord[] {
    const rng = this.#rng;
    const user = rng.pick(this.#users);
    const account = rng.pick(MEMBER_ACCOUNTS);
    const role = rng.pick(ROLE_NAMES);
    const region = rng.pick(MEMBER_REGIONS);
    const calls = rng.int(1, 3);
    const records: CloudTrailRecord[] = [];
    let t = time;
    for (let i = 0; i < calls; i++) {
      records.push(
        this.#make.roleSessionCall(
          t,
          user,
          account,
          role,
          region,
          rng.pick(["GetCallerIdentity", "ListBuckets"]),
        ),
      );
      t += rng.int(1, 120) * 1000;
    }
    return records;
  }
}

/** One record of the stream, with the role session it belongs to when it is role activity. */
interface StreamItem {
  readonly record: CloudTrailRecord;
  readonly roleSession?: SynthRoleSession;
}

function* stream(options: SynthOptions): Generator<StreamItem> {
  const p = plan(options);
  if (p.events === 0) return;
  const users = makeUsers(p.users, p.seed);
  const rng = new Random(fmix32(p.seed ^ 0x6576656e));
  const roles = p.roleRatio > 0 ? new RoleActivity(p.seed, p.roleRatio, users) : undefined;
  const episodes = new Episodes(rng, new RecordFactory(rng, p.seed), users, p.failureRate, roles);
  // With role activity, Identity Center episodes are a share of the records: space them to fill the windows.
  const clock = new Clock(p.windows, roles ? Math.ceil(p.events / (1 + p.roleRatio)) : p.events);
  let emitted = 0;
  let first = true;
  for (;;) {
    const { time, window } = clock.next(rng);
    const era = window.era ?? (p.eras === undefined ? eraAt(time) : rng.pick(p.eras));
    if (roles && first) {
      const { former, rehired } = makeRehire(p.seed);
      roles.rehire(time, era, former, rehired, IDENTITY_STORE_ID);
    }
    first = false;
    for (const record of episodes.any(time, era)) {
      if (roles) {
        // Role activity due before this record goes first: the stream stays in time order.
        const due = Date.parse(String(record.eventTime));
        for (let held = roles.takeBefore(due); held; held = roles.takeBefore(due)) {
          yield heldItem(held);
          emitted += 1;
          if (emitted >= p.events) return;
        }
        roles.countIdentityCenter();
      }
      yield { record };
      emitted += 1;
      if (emitted >= p.events) return;
    }
  }
}

function heldItem(held: Pending): StreamItem {
  return held.session ? { record: held.record, roleSession: held.session } : { record: held.record };
}

/**
 * CloudTrail records of a synthetic organisation, lazily: the stream is never held in memory. Deterministic in
 * the options; stops after exactly `options.events` records; event ids are unique.
 */
export function* synthEvents(options: SynthOptions): Generator<Record<string, unknown>> {
  for (const item of stream(options)) yield item.record;
}

/**
 * The ground truth of the role sessions in `synthEvents(options)`: each session with at least one record in
 * the stream, its person, the grant that issued it (when in the stream) and its access keys.
 */
export function synthRoleSessions(options: SynthOptions): SynthRoleSession[] {
  const sessions = new Map<string, SynthRoleSession>();
  for (const item of stream(options)) {
    const session = item.roleSession;
    if (!session) continue;
    session.records += 1;
    sessions.set(session.id, session);
  }
  return [...sessions.values()];
}

/** The `aws identitystore list-users` output for the users `synthEvents` draws from with the same options. */
export function synthDirectory(options: SynthOptions): { Users: Record<string, unknown>[] } {
  const p = plan(options);
  const users = makeUsers(p.users, p.seed);
  if (p.roleRatio === 0) return directoryOf(users);
  // The re-hire's former user is listed as the directory knew it before the deletion the archive records.
  const { former, rehired } = makeRehire(p.seed);
  return directoryOf([...users, former, rehired]);
}
