import { HIDDEN } from "../normalize/normalize.ts";
import { roleSessionId } from "../roles/types.ts";
import { fmix32, Random } from "./random.ts";
import { type Actor, type CloudTrailRecord, type Era, isoSeconds, RecordFactory } from "./records.ts";
import { ssoRoleSessionIdentity } from "./roles.ts";
import {
  directoryOf,
  IDENTITY_STORE_ARN,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  MEMBER_ACCOUNTS,
  makeUsers,
  type SynthUser,
} from "./world.ts";

/**
 * Attacks planted in a synthetic archive, and look-alikes that must not alert: the ground truth for measuring
 * the detections (true and false positives).
 */

export interface PlantedAlert {
  readonly rule: string;
  /** `user#<store>#<userId>` or `address#<ip>`, as the detector names subjects. */
  readonly subject: string;
  readonly description: string;
  /** For rules about a role session: the session (`rs-…`) the alert should name. */
  readonly roleSessionId?: string;
}

export interface PlantedAttacks {
  readonly records: CloudTrailRecord[];
  /** What the detections should find: exactly these, nothing else. */
  readonly expected: PlantedAlert[];
  /** Look-alikes planted on purpose (typos, slow or small bursts) that must not alert. */
  readonly decoys: string[];
}

export interface AttackOptions {
  /** The same `users` and `seed` as the synthEvents run the attacks are mixed into. */
  readonly users: number;
  readonly seed: number;
  /**
   * Also plant role-session cases (default off, so the detections measured today see what they saw): a
   * stolen-credential use (`role-credentials-new-address`) and its look-alikes.
   */
  readonly roleSessions?: boolean;
  /**
   * Also plant directory-change cases (default off, like `roleSessions`): privileges granted to or by a person
   * soon after a sign-in that succeeded after failures (`privilege-granted-after-failures`), and look-alikes.
   */
  readonly directoryChanges?: boolean;
}

const STORE = "d-1234567890";

/**
 * Plants five attacks and six look-alikes (one and two more with `roleSessions`; eleven expected alerts, seven
 * of them success-after-failures, and five look-alikes more with `directoryChanges`, which needs 41 users);
 * needs at least 40 users.
 */
export function plantAttacks(options: AttackOptions): PlantedAttacks {
  const users = makeUsers(options.users, options.seed);
  if (users.length < 40) throw new RangeError("plantAttacks needs at least 40 users");
  const user = (index: number) => users[index] as SynthUser;
  const rng = new Random(fmix32(options.seed ^ 0x61747461));
  const make = new RecordFactory(rng, options.seed ^ 0x5a5a5a5a);
  const records: CloudTrailRecord[] = [];
  const expected: PlantedAlert[] = [];
  const decoys: string[] = [];
  const userSubject = (target: SynthUser) => `user#${STORE}#${target.userId}`;

  /** One failed attempt: challenge with the typed name, failed verification. */
  const fail = (
    time: number,
    era: Era,
    target: SynthUser,
    ip: string,
    factor: "PASSWORD" | "TOTP" = "PASSWORD",
  ) => {
    const actor: Actor = { era, user: target, ip, userAgent: "python-requests/2.32.3" };
    const authWorkflowId = make.authWorkflowId();
    const common = { authWorkflowId, anonymous: true, typedName: target.userName };
    records.push(make.signIn(time, actor, "CredentialChallenge", { ...common, credentialType: "PASSWORD" }));
    if (factor === "TOTP") {
      records.push(
        make.signIn(time + 1000, actor, "CredentialVerification", { ...common, credentialType: "PASSWORD" }),
      );
      records.push(
        make.signIn(time + 2000, actor, "CredentialChallenge", { ...common, credentialType: "TOTP" }),
      );
    }
    records.push(
      make.signIn(time + 3000, actor, "CredentialVerification", {
        ...common,
        credentialType: factor,
        outcome: "Failure",
      }),
    );
  };
  /** A successful sign-in: challenge, verification, authentication, with a portal session after the old era. */
  const succeed = (time: number, era: Era, target: SynthUser, ip: string) => {
    const actor: Actor = {
      era,
      user: target,
      ip,
      userAgent: target.browser,
      ...(era === "old" ? {} : { credentialId: make.credentialId() }),
    };
    const authWorkflowId = make.authWorkflowId();
    const common = { authWorkflowId, credentialType: "PASSWORD", typedName: target.userName };
    records.push(make.signIn(time, actor, "CredentialChallenge", common));
    records.push(make.signIn(time + 4000, actor, "CredentialVerification", common));
    records.push(make.signIn(time + 5000, actor, "UserAuthentication", common));
  };
  const hidden = (time: number, ip: string) => {
    const stranger: SynthUser = { ...user(0), userId: "", userName: HIDDEN, ip };
    const actor: Actor = { era: "new", user: stranger, ip, userAgent: "curl/8.5.0" };
    const common = {
      authWorkflowId: make.authWorkflowId(),
      credentialType: "PASSWORD",
      anonymous: true,
      typedName: HIDDEN,
    };
    records.push(make.signIn(time, actor, "CredentialChallenge", common));
    records.push(
      make.signIn(time + 3000, actor, "CredentialVerification", { ...common, outcome: "Failure" }),
    );
  };
  const at = (iso: string) => Date.parse(iso);

  // P1: brute force on one user, 24 wrong passwords in 8 minutes (new era).
  for (let n = 0; n < 24; n += 1)
    fail(at("2026-03-10T10:00:00Z") + n * 20_000, "new", user(0), "198.18.0.10");
  expected.push({ rule: "brute-force", subject: userSubject(user(0)), description: "24 failures in 8 min" });

  // P2: password spraying, 12 users once each from one address in 5 minutes (transitional era).
  for (let n = 1; n <= 12; n += 1)
    fail(at("2025-02-03T08:00:00Z") + n * 25_000, "transitional", user(n), "198.18.0.20");
  expected.push({ rule: "password-spray", subject: "address#198.18.0.20", description: "12 users in 5 min" });

  // P3: MFA attack, right password then 6 wrong TOTP codes in 4 minutes (new era).
  for (let n = 0; n < 6; n += 1)
    fail(at("2026-04-01T22:00:00Z") + n * 40_000, "new", user(13), "198.18.0.30", "TOTP");
  expected.push({
    rule: "mfa-attack",
    subject: userSubject(user(13)),
    description: "6 TOTP failures in 4 min",
  });

  // P4: six failures, then a successful sign-in from elsewhere (old era).
  for (let n = 0; n < 6; n += 1)
    fail(at("2024-06-05T14:00:00Z") + n * 30_000, "old", user(14), "198.18.0.40");
  succeed(at("2024-06-05T14:05:00Z"), "old", user(14), "198.18.0.41");
  expected.push({
    rule: "success-after-failures",
    subject: userSubject(user(14)),
    description: "6 failures, success",
  });

  // P5: enumeration, 14 names that match nobody from one address in 7 minutes (new era).
  for (let n = 0; n < 14; n += 1) hidden(at("2026-05-20T03:00:00Z") + n * 30_000, "198.18.0.50");
  expected.push({
    rule: "unknown-user-names",
    subject: "address#198.18.0.50",
    description: "14 hidden names",
  });

  // Look-alikes that must not alert.
  fail(at("2026-03-11T09:00:00Z"), "new", user(15), user(15).ip);
  succeed(at("2026-03-11T09:00:20Z"), "new", user(15), user(15).ip);
  decoys.push("one typo, then a successful sign-in");
  for (let n = 0; n < 19; n += 1)
    fail(at("2026-03-12T09:00:00Z") + n * 30_000, "new", user(16), "198.18.0.16");
  decoys.push("19 failures for one user in 10 minutes (threshold 20)");
  for (let n = 17; n < 26; n += 1)
    fail(at("2025-02-04T08:00:00Z") + n * 25_000, "transitional", user(n), "198.18.0.60");
  decoys.push("9 users failing from one address (threshold 10)");
  for (let n = 0; n < 4; n += 1)
    fail(at("2026-04-02T22:00:00Z") + n * 40_000, "new", user(26), "198.18.0.26", "TOTP");
  decoys.push("4 TOTP failures (threshold 5)");
  for (let n = 0; n < 9; n += 1) hidden(at("2026-05-21T03:00:00Z") + n * 30_000, "198.18.0.70");
  decoys.push("9 hidden names from one address (threshold 10)");
  for (let n = 0; n < 4; n += 1) fail(at("2024-06-06T14:00:00Z") + n * 30_000, "old", user(27), user(27).ip);
  succeed(at("2024-06-06T14:03:00Z"), "old", user(27), user(27).ip);
  decoys.push("4 failures, then a successful sign-in (threshold 5)");

  if (options.roleSessions === true) {
    /**
     * A portal session grants role credentials: sign-in, `GetRoleCredentials`, Identity Center's
     * `AssumeRoleWithSAML`, then `calls` API calls with the issued key, each from the address `from(n)` gives.
     */
    const roleSession = (
      time: number,
      target: SynthUser,
      signInIp: string,
      calls: number,
      from: (n: number) => { ip: string; userAgent: string },
    ): string => {
      const credentialId = make.credentialId();
      const actor: Actor = {
        era: "new",
        user: target,
        ip: signInIp,
        userAgent: target.browser,
        credentialId,
      };
      const authWorkflowId = make.authWorkflowId();
      const common = { authWorkflowId, credentialType: "PASSWORD", typedName: target.userName };
      records.push(make.signIn(time, actor, "CredentialChallenge", common));
      records.push(make.signIn(time + 4000, actor, "CredentialVerification", common));
      records.push(make.signIn(time + 5000, actor, "UserAuthentication", common));
      records.push(make.portal(time + 7000, actor, "Authenticate"));
      const accountId = MEMBER_ACCOUNTS[1];
      const granted = time + 20_000;
      records.push(
        make.portal(granted, { ...actor, userAgent: target.cli }, "GetRoleCredentials", {
          accountId,
          roleName: "AdministratorAccess",
        }),
      );
      const identity = ssoRoleSessionIdentity(accountId, "AdministratorAccess", target.userName, granted);
      const key = `ASIA${rng.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`;
      records.push(make.issueRoleCredentials(granted, "new", identity, key));
      for (let n = 0; n < calls; n += 1) {
        const source = from(n);
        records.push(
          make.roleCall(granted + (n + 1) * 30_000, "new", identity, {
            eventSource: n % 2 === 0 ? "s3.amazonaws.com" : "sts.amazonaws.com",
            eventName: n % 2 === 0 ? "ListBuckets" : "GetCallerIdentity",
            readOnly: true,
            region: identity.region,
            accessKeyId: key,
            sourceIPAddress: source.ip,
            userAgent: source.userAgent,
            onBehalfOf: target,
          }),
        );
      }
      return roleSessionId({
        accountId,
        roleName: identity.role,
        sessionName: target.userName,
        creationDate: isoSeconds(granted),
      });
    };

    // P6: stolen role credentials, used from an address the portal session never had (new era).
    const stolen = roleSession(at("2026-06-10T09:00:00Z"), user(28), user(28).ip, 8, (n) =>
      n < 4
        ? { ip: user(28).ip, userAgent: user(28).cli }
        : { ip: "198.18.0.80", userAgent: "python-requests/2.32.3 Boto3/1.34.140" },
    );
    expected.push({
      rule: "role-credentials-new-address",
      subject: userSubject(user(28)),
      description: "role session calls from an address its portal session never had",
      roleSessionId: stolen,
    });

    // Look-alikes: a VPN switched on before sign-in (the portal session has the address too); calls AWS
    // services make for the person.
    roleSession(at("2026-06-11T09:00:00Z"), user(29), "198.18.0.81", 4, () => ({
      ip: "198.18.0.81",
      userAgent: user(29).cli,
    }));
    decoys.push("role-session calls from a VPN address the sign-in used too");
    roleSession(at("2026-06-12T09:00:00Z"), user(30), user(30).ip, 4, (n) =>
      n % 2 === 0
        ? { ip: "cloudformation.amazonaws.com", userAgent: "cloudformation.amazonaws.com" }
        : { ip: "AWS Internal", userAgent: "AWS Internal" },
    );
    decoys.push("role-session calls made by AWS services for the person");
  }

  if (options.directoryChanges === true) plantDirectoryChanges();

  return { records, expected, decoys };

  /** privilege-granted-after-failures cases: each needs its success-after-failures first. */
  function plantDirectoryChanges(): void {
    if (users.length < 41) throw new RangeError("plantAttacks needs at least 41 users for directoryChanges");
    const minutes = 60_000;
    const attacked = (start: number, target: SynthUser, failures = 6): number => {
      for (let n = 0; n < failures; n += 1) fail(start + n * 30_000, "new", target, "198.18.1.10");
      const success = start + failures * 30_000 + 30_000;
      succeed(success, "new", target, "198.18.1.11");
      if (failures >= 5)
        expected.push({
          rule: "success-after-failures",
          subject: userSubject(target),
          description: `${failures} failures, success`,
        });
      // The successful sign-in's UserAuthentication is 5 s after its challenge.
      return success + 5000;
    };
    const store = IDENTITY_STORE_ID;
    const membership = (time: number, target: SynthUser, groupId: string, membershipId: string) =>
      records.push(
        make.admin(time, "identitystore.amazonaws.com", "CreateGroupMembership", {
          requestParameters: { identityStoreId: store, groupId, memberId: { userId: target.userId } },
          responseElements: { membershipId, identityStoreId: store },
        }),
      );
    const assignment = (time: number, principalType: "USER" | "GROUP", principalId: string) => {
      const request = {
        instanceArn: INSTANCE_ARN,
        targetId: MEMBER_ACCOUNTS[0],
        targetType: "AWS_ACCOUNT",
        permissionSetArn: `arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-${rng.hex(16)}`,
        principalType,
        principalId,
      };
      return make.admin(time, "sso.amazonaws.com", "CreateAccountAssignment", {
        requestParameters: request,
        responseElements: {
          accountAssignmentCreationStatus: { status: "IN_PROGRESS", requestId: rng.uuid(), ...request },
        },
      });
    };
    const at2 = (iso: string) => Date.parse(iso);

    // P7: an admin adds the person to a group 10 minutes after their sign-in succeeded after six failures.
    const p7 = attacked(at2("2026-07-01T10:00:00Z"), user(31));
    membership(p7 + 10 * minutes, user(31), rng.uuid(), rng.uuid());
    expected.push({
      rule: "privilege-granted-after-failures",
      subject: userSubject(user(31)),
      description: "added to a group 10 min after success-after-failures",
    });

    // P8: the person, through their own role session, assigns a permission set to someone else 5 minutes later.
    const p8 = attacked(at2("2026-07-02T10:00:00Z"), user(32));
    const byAttacker = assignment(p8 + 5 * minutes, "USER", user(33).userId);
    const identity = byAttacker.userIdentity as Record<string, unknown>;
    byAttacker.userIdentity = {
      ...identity,
      arn: `arn:aws:sts::${MEMBER_ACCOUNTS[0]}:assumed-role/AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b/${user(32).userName}`,
      onBehalfOf: { userId: user(32).userId, identityStoreArn: IDENTITY_STORE_ARN },
    };
    records.push(byAttacker);
    expected.push({
      rule: "privilege-granted-after-failures",
      subject: userSubject(user(32)),
      description: "assigned a permission set as admin 5 min after success-after-failures",
    });

    // P9: a new MFA device, registered from the portal 3 minutes after the sign-in.
    const p9 = attacked(at2("2026-07-03T10:00:00Z"), user(34));
    const portal: Actor = {
      era: "new",
      user: user(34),
      ip: "198.18.1.11",
      userAgent: user(34).browser,
      credentialId: make.credentialId(),
    };
    records.push(make.mfaDevice(p9 + 3 * minutes, portal, "StartVirtualMfaDeviceRegistration"));
    records.push(
      make.mfaDevice(p9 + 4 * minutes, portal, "CompleteVirtualMfaDeviceRegistration", {
        deviceId: rng.uuid(),
      }),
    );
    expected.push({
      rule: "privilege-granted-after-failures",
      subject: userSubject(user(34)),
      description: "new MFA device 4 min after success-after-failures",
    });

    // P10: the person has long been in a group; the group is assigned a permission set 20 minutes after.
    const operators = rng.uuid();
    membership(at2("2026-06-01T09:00:00Z"), user(35), operators, rng.uuid());
    const p10 = attacked(at2("2026-07-04T10:00:00Z"), user(35));
    records.push(assignment(p10 + 20 * minutes, "GROUP", operators));
    expected.push({
      rule: "privilege-granted-after-failures",
      subject: userSubject(user(35)),
      description: "a group of theirs assigned a permission set 20 min after success-after-failures",
    });

    // Look-alikes.
    const d1 = attacked(at2("2026-07-05T10:00:00Z"), user(36));
    membership(d1 + 45 * minutes, user(36), rng.uuid(), rng.uuid());
    decoys.push("added to a group 45 min after success-after-failures (window 30 min)");
    const d2 = attacked(at2("2026-07-06T10:00:00Z"), user(37), 4);
    membership(d2 + 5 * minutes, user(37), rng.uuid(), rng.uuid());
    decoys.push("added to a group 5 min after a success that followed only 4 failures");
    const quiet: Actor = {
      era: "new",
      user: user(38),
      ip: user(38).ip,
      userAgent: user(38).browser,
      credentialId: make.credentialId(),
    };
    records.push(
      make.mfaDevice(at2("2026-07-07T10:00:00Z"), quiet, "CompleteWebAuthnDeviceRegistration", {
        deviceId: rng.uuid(),
      }),
    );
    decoys.push("a new MFA device with no failed sign-ins");
    const d4 = at2("2026-07-08T10:00:00Z");
    membership(d4, user(39), rng.uuid(), rng.uuid());
    attacked(d4 + 60_000, user(39));
    decoys.push("added to a group just before (not after) success-after-failures");
    // Removed from a group (the removal names only the membership id) before the group got a permission set.
    const formerGroup = rng.uuid();
    const formerMembership = rng.uuid();
    membership(at2("2026-06-02T09:00:00Z"), user(40), formerGroup, formerMembership);
    records.push(
      make.admin(at2("2026-06-20T09:00:00Z"), "identitystore.amazonaws.com", "DeleteGroupMembership", {
        requestParameters: { identityStoreId: store, membershipId: formerMembership },
      }),
    );
    const d5 = attacked(at2("2026-07-09T10:00:00Z"), user(40));
    records.push(assignment(d5 + 10 * minutes, "GROUP", formerGroup));
    decoys.push("a group the person had left assigned a permission set after success-after-failures");
  }
}

export interface SteadySprayOptions {
  /** Failed sign-ins in all; every other one for a name that matches nobody. */
  readonly failures: number;
  /** Time between two failures. */
  readonly everyMs: number;
  /** Directory users whose names are sprayed, in turn (at least 10, so that the spray alerts). */
  readonly users: number;
  readonly seed: number;
  readonly sourceIp: string;
  /** The first failure's time (ISO). */
  readonly start: string;
}

export interface SteadySpray {
  readonly records: CloudTrailRecord[];
  /** The `aws identitystore list-users` export of the users sprayed. */
  readonly directory: { Users: Record<string, unknown>[] };
  /** Failures of the one episode each address rule should alert on, whole. */
  readonly expected: { readonly passwordSpray: number; readonly unknownUserNames: number };
}

/**
 * A password spray that never pauses: from one address, a failed sign-in every `everyMs` (new era), alternately
 * for a directory user's name, taken in turn, and for a name that matches nobody. Each address rule sees one
 * episode as long as the spray, which its alert must count whole however the failures are split into batches.
 */
export function steadySpray(options: SteadySprayOptions): SteadySpray {
  const users = makeUsers(options.users, options.seed);
  const make = new RecordFactory(new Random(fmix32(options.seed ^ 0x73707261)), options.seed ^ 0x3c3c3c3c);
  const records: CloudTrailRecord[] = [];
  const start = Date.parse(options.start);
  let attributed = 0;
  for (let index = 0; index < options.failures; index += 1) {
    const time = start + index * options.everyMs;
    const named = index % 2 === 0;
    const target = named ? (users[(index / 2) % users.length] as SynthUser) : undefined;
    const typedName = target ? target.userName : HIDDEN;
    const user: SynthUser = target ?? { ...(users[0] as SynthUser), userId: "", userName: HIDDEN };
    const actor: Actor = { era: "new", user, ip: options.sourceIp, userAgent: "python-requests/2.32.3" };
    const common = {
      authWorkflowId: make.authWorkflowId(),
      credentialType: "PASSWORD",
      anonymous: true,
      typedName,
    };
    records.push(make.signIn(time, actor, "CredentialChallenge", common));
    records.push(
      make.signIn(time + 1000, actor, "CredentialVerification", { ...common, outcome: "Failure" }),
    );
    if (named) attributed += 1;
  }
  return {
    records,
    directory: directoryOf(users),
    expected: { passwordSpray: attributed, unknownUserNames: options.failures - attributed },
  };
}

export interface ForeignRoleSessionOptions {
  /** Calls made with the session's credentials, all from `sourceIp`. */
  readonly calls: number;
  /** Time between two calls. */
  readonly everyMs: number;
  readonly seed: number;
  /** Where the credentials are used from: an address the portal session never used. */
  readonly sourceIp: string;
  /** The sign-in's time (ISO). */
  readonly start: string;
}

export interface ForeignRoleSession {
  /** The sign-in, portal session and grant (Identity Center's account). */
  readonly signIn: CloudTrailRecord[];
  /** The `AssumeRoleWithSAML` that issued the role session, then its calls (the member account's), in time order. */
  readonly roleSession: CloudTrailRecord[];
  /** The `aws identitystore list-users` export of the person. */
  readonly directory: { Users: Record<string, unknown>[] };
}

/**
 * A person signs in, is granted a permission set's role session, and its credentials are used from another
 * address without a pause (stolen, or copied to a build host): one role-credentials-new-address episode as long
 * as the calls, which its alert must count whole however the calls are split into batches.
 */
export function foreignRoleSession(options: ForeignRoleSessionOptions): ForeignRoleSession {
  const [target] = makeUsers(1, options.seed) as [SynthUser];
  const rng = new Random(fmix32(options.seed ^ 0x726f6c65));
  const make = new RecordFactory(rng, options.seed ^ 0x5a5a5a5a);
  const { signIn, roleSession } = grantedRoleSession(make, rng, target, Date.parse(options.start), options);
  return { signIn, roleSession, directory: directoryOf([target]) };
}

/**
 * A sign-in of `target` at `time`, its portal session's grant of AdministratorAccess in the first member account,
 * and the role session it issued: `calls` calls `everyMs` apart from `sourceIp`.
 */
function grantedRoleSession(
  make: RecordFactory,
  rng: Random,
  target: SynthUser,
  time: number,
  calls: { readonly calls: number; readonly everyMs: number; readonly sourceIp: string },
): { signIn: CloudTrailRecord[]; roleSession: CloudTrailRecord[] } {
  const actor: Actor = {
    era: "new",
    user: target,
    ip: target.ip,
    userAgent: target.browser,
    credentialId: make.credentialId(),
  };
  const common = {
    authWorkflowId: make.authWorkflowId(),
    credentialType: "PASSWORD",
    typedName: target.userName,
  };
  const accountId = MEMBER_ACCOUNTS[0];
  const granted = time + 20_000;
  const signIn = [
    make.signIn(time, actor, "CredentialChallenge", common),
    make.signIn(time + 4000, actor, "CredentialVerification", common),
    make.signIn(time + 5000, actor, "UserAuthentication", common),
    make.portal(time + 7000, actor, "Authenticate"),
    make.portal(granted, { ...actor, userAgent: target.cli }, "GetRoleCredentials", {
      accountId,
      roleName: "AdministratorAccess",
    }),
  ];
  const identity = ssoRoleSessionIdentity(accountId, "AdministratorAccess", target.userName, granted);
  const key = `ASIA${rng.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`;
  const roleSession = [make.issueRoleCredentials(granted, "new", identity, key)];
  for (let n = 0; n < calls.calls; n += 1)
    roleSession.push(
      make.roleCall(granted + 1000 + n * calls.everyMs, "new", identity, {
        eventSource: "s3.amazonaws.com",
        eventName: "ListBuckets",
        readOnly: true,
        region: identity.region,
        accessKeyId: key,
        sourceIPAddress: calls.sourceIp,
        userAgent: target.cli,
        onBehalfOf: target,
      }),
    );
  return { signIn, roleSession };
}

export interface BusyPersonOptions {
  /** Days of work, one sign-in and one role session a day. */
  readonly days: number;
  /** Calls of each day's role session, 10 s apart, from the person's own address. */
  readonly calls: number;
  /** Every `unlinkedEvery`th day's sign-in and grant are left out: its role session is linked to none. */
  readonly unlinkedEvery: number;
  readonly seed: number;
  /** The first day's sign-in (ISO). */
  readonly start: string;
}

export interface BusyPerson {
  /** Sign-ins, portal sessions and grants (Identity Center's account), in time order. */
  readonly identityCenter: CloudTrailRecord[];
  /** The role sessions' calls (the member account's), in time order. */
  readonly roleSessions: CloudTrailRecord[];
  /** The `aws identitystore list-users` export of the person. */
  readonly directory: { Users: Record<string, unknown>[] };
  readonly userId: string;
}

/**
 * One person's months of role activity: a sign-in a day, a grant, and a role session of many calls, some with
 * their portal session outside the archive. What their report costs to read is measured on it.
 */
export function busyPerson(options: BusyPersonOptions): BusyPerson {
  const [target] = makeUsers(1, options.seed) as [SynthUser];
  const rng = new Random(fmix32(options.seed ^ 0x62757379));
  const make = new RecordFactory(rng, options.seed ^ 0x5a5a5a5a);
  const identityCenter: CloudTrailRecord[] = [];
  const roleSessions: CloudTrailRecord[] = [];
  for (let day = 0; day < options.days; day += 1) {
    const time = Date.parse(options.start) + day * 86_400_000;
    const made = grantedRoleSession(make, rng, target, time, {
      ...options,
      everyMs: 10_000,
      sourceIp: target.ip,
    });
    if ((day + 1) % options.unlinkedEvery !== 0) identityCenter.push(...made.signIn);
    roleSessions.push(...made.roleSession);
  }
  return { identityCenter, roleSessions, directory: directoryOf([target]), userId: target.userId };
}
