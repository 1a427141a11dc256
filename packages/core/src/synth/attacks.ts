import { HIDDEN } from "../normalize/normalize.ts";
import { fmix32, Random } from "./random.ts";
import { type Actor, type CloudTrailRecord, type Era, RecordFactory } from "./records.ts";
import { makeUsers, type SynthUser } from "./world.ts";

/**
 * Attacks planted in a synthetic archive, and look-alikes that must not alert: the ground truth for measuring
 * the detections (true and false positives).
 */

export interface PlantedAlert {
  readonly rule: string;
  /** `user#<store>#<userId>` or `address#<ip>`, as the detector names subjects. */
  readonly subject: string;
  readonly description: string;
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
}

const STORE = "d-1234567890";

/** Plants five attacks and six look-alikes; needs at least 40 users. */
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

  return { records, expected, decoys };
}
