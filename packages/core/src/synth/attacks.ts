import { HIDDEN } from "../normalize/normalize.ts";
import { roleSessionId } from "../roles/types.ts";
import { fmix32, Random } from "./random.ts";
import { type Actor, type CloudTrailRecord, type Era, isoSeconds, RecordFactory } from "./records.ts";
import { ssoRoleSessionIdentity } from "./roles.ts";
import { MEMBER_ACCOUNTS, makeUsers, type SynthUser } from "./world.ts";

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
}

const STORE = "d-1234567890";

/** Plants five attacks and six look-alikes (six and eight with `roleSessions`); needs at least 40 users. */
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

  return { records, expected, decoys };
}
