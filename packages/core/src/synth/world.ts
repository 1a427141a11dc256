/**
 * The synthetic organisation: one Identity Center instance, its users and the accounts they reach. Users
 * depend only on the seed and the user count, so `synthDirectory` and `synthEvents` agree.
 */
import { encode32, fmix32, Random } from "./random.ts";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const IDENTITY_STORE_ID = "d-1234567890";
export const IDENTITY_STORE_ARN = `arn:aws:identitystore::${ACCOUNT}:identitystore/${IDENTITY_STORE_ID}`;
export const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6";
export const HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";

export const MEMBER_ACCOUNTS = ["444455556666", "555566667777", "777788889999", "222233334444"] as const;
export const ROLE_NAMES = [
  "AdministratorAccess",
  "ReadOnlyAccess",
  "PowerUserAccess",
  "ViewOnlyAccess",
  "DataEngineer",
];
export const MEMBER_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
export const OKTA_ISSUER = "https://example.okta.com";

/** Client networks (documentation ranges): users come from the first two, strangers from the last. */
export const USER_NETWORKS = ["203.0.113", "198.51.100"];
export const STRANGER_NETWORK = "192.0.2";

export const BROWSERS = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
];
export const CLIS = [
  "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#sso.login",
  "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#sso.login",
  "Boto3/1.34.140 md/Botocore#1.34.140 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython Botocore/1.34.140",
];

const GIVEN = [
  "Bob",
  "Alice",
  "Carol",
  "Dmitri",
  "Erin",
  "Farah",
  "Gustavo",
  "Hana",
  "Ivan",
  "Jia",
  "Kwame",
  "Lena",
  "Mateo",
  "Nadia",
  "Olu",
  "Priya",
  "Quentin",
  "Rosa",
  "Sven",
  "Tomoko",
  "Uma",
  "Viktor",
  "Wen",
  "Yusuf",
];
const FAMILY = [
  "Smith",
  "Martin",
  "Nguyen",
  "Kowalski",
  "Okafor",
  "Garcia",
  "Tanaka",
  "Haddad",
  "Johansson",
  "Silva",
  "Chen",
  "Dubois",
  "Mensah",
  "Novak",
  "Patel",
  "Rossi",
  "Schmidt",
  "Ivanova",
  "Kim",
  "Moreau",
];

export interface ExternalId {
  readonly Issuer: string;
  readonly Id: string;
}

export interface SynthUser {
  readonly userId: string;
  readonly userName: string;
  readonly givenName: string;
  readonly familyName: string;
  /** What old-shape portal events carry as `principalId`: never the user id. */
  readonly principalId: string;
  readonly externalId?: ExternalId;
  /** The work email, when it is not the user name (a re-hire's earlier account). */
  readonly email?: string;
  /** Home address and browser, so one user's events look like one person. */
  readonly ip: string;
  readonly browser: string;
  readonly cli: string;
}

/** The users of a world. Deterministic in (seed, count); ids unique. */
export function makeUsers(count: number, seed: number): SynthUser[] {
  const rng = new Random(fmix32(seed ^ 0x75736572));
  const directorySuffix = rng.hex(10);
  const entraTenant = rng.uuid();
  const domainSid = `S-1-5-21-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(1_000_000_000, 4_000_000_000)}`;
  const names = new Set<string>();
  const users: SynthUser[] = [];
  for (let i = 0; i < count; i++) {
    const givenName = rng.pick(GIVEN);
    const familyName = rng.pick(FAMILY);
    let userName = `${givenName}.${familyName}@example.com`.toLowerCase();
    if (names.has(userName)) userName = `${givenName}.${familyName}${i}@example.com`.toLowerCase();
    names.add(userName);
    // Users synced from Active Directory carry `<10 hex>-<uuid>` ids and domain//SID principal ids.
    const activeDirectory = rng.chance(0.3);
    const uuid = rng.uniqueUuid(i, 0x1d5eed);
    const userId = activeDirectory ? `${directorySuffix}-${uuid}` : uuid;
    const principalId = activeDirectory
      ? `example.com//${domainSid}-${1100 + i}`
      : `${IDENTITY_STORE_ID}-${rng.uuid()}`;
    const source = rng.next();
    let externalId: ExternalId | undefined;
    if (activeDirectory || source < 0.3) {
      externalId = { Issuer: `https://sts.windows.net/${entraTenant}/`, Id: rng.uuid() };
    } else if (source < 0.85) {
      externalId = { Issuer: OKTA_ISSUER, Id: `00u${rng.string(13)}${encode32(fmix32(i)).slice(0, 4)}` };
    }
    users.push({
      userId,
      userName,
      givenName,
      familyName,
      principalId,
      ...(externalId === undefined ? {} : { externalId }),
      ip: `${rng.pick(USER_NETWORKS)}.${rng.int(2, 254)}`,
      browser: rng.pick(BROWSERS),
      cli: rng.pick(CLIS),
    });
  }
  return users;
}

/** The `aws identitystore list-users` output for these users. */
export function directoryOf(users: readonly SynthUser[]): { Users: Record<string, unknown>[] } {
  return {
    Users: users.map((user) => ({
      UserName: user.userName,
      UserId: user.userId,
      ...(user.externalId === undefined ? {} : { ExternalIds: [user.externalId] }),
      Name: {
        FamilyName: user.familyName,
        GivenName: user.givenName,
        Formatted: `${user.givenName} ${user.familyName}`,
      },
      DisplayName: `${user.givenName} ${user.familyName}`,
      Emails: [{ Value: user.email ?? user.userName, Type: "work", Primary: true }],
      IdentityStoreId: IDENTITY_STORE_ID,
    })),
  };
}

/** The `AWSReservedSSO_<permission set>_<16 hex>` role a permission set becomes in an account. */
export function reservedRoleName(account: string, roleName: string): string {
  let h = fmix32(0);
  for (const char of `${account}/${roleName}`) h = fmix32(h ^ char.charCodeAt(0));
  return `AWSReservedSSO_${roleName}_${(h >>> 0).toString(16).padStart(8, "0")}${fmix32(h).toString(16).padStart(8, "0")}`;
}

/**
 * A re-hire: a person who left (their user deleted) and came back with a new user, the same email. The earlier
 * user signed in by a short name; the new one's user name is the email. A role session named by that email and
 * naming nobody (`onBehalfOf`) matches both: it must stay `ambiguous`. Drawn from its own stream so the other
 * users stay what they were.
 */
export function makeRehire(seed: number): { readonly former: SynthUser; readonly rehired: SynthUser } {
  const rng = new Random(fmix32(seed ^ 0x72656869));
  const givenName = rng.pick(GIVEN);
  const familyName = rng.pick(FAMILY);
  const email = `${givenName}.${familyName}.rehire@example.com`.toLowerCase();
  const person = { givenName, familyName, browser: rng.pick(BROWSERS), cli: rng.pick(CLIS) };
  const former: SynthUser = {
    ...person,
    userId: rng.uniqueUuid(0, 0x72686972),
    userName: `${givenName.charAt(0)}${familyName}`.toLowerCase(),
    email,
    principalId: `${IDENTITY_STORE_ID}-${rng.uuid()}`,
    ip: `${rng.pick(USER_NETWORKS)}.${rng.int(2, 254)}`,
  };
  const rehired: SynthUser = {
    ...person,
    userId: rng.uniqueUuid(1, 0x72686972),
    userName: email,
    principalId: `${IDENTITY_STORE_ID}-${rng.uuid()}`,
    ip: `${rng.pick(USER_NETWORKS)}.${rng.int(2, 254)}`,
  };
  return { former, rehired };
}
