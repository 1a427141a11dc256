/**
 * Role activity in member accounts: what people do with the credentials a portal session's `GetRoleCredentials`
 * (CLI) or `Federate` (console) gave them. Drawn from its own random stream, so the Identity Center records
 * keep their shapes; records are held until the stream reaches their time, so the archive stays in time order.
 */
import { roleSessionId } from "../roles/types.ts";
import { fmix32, hashString, Random } from "./random.ts";
import {
  type Actor,
  type CloudTrailRecord,
  type Era,
  isoSeconds,
  RecordFactory,
  type SynthRoleCall,
  type SynthRoleSessionIdentity,
} from "./records.ts";
import {
  HIDDEN,
  MEMBER_ACCOUNTS,
  MEMBER_REGIONS,
  ROLE_NAMES,
  reservedRoleName,
  type SynthUser,
} from "./world.ts";

/** How a role session of the synthetic archive came about. */
export const SynthRoleSessionKind = {
  /** `GetRoleCredentials` in the archive, then the CLI or an SDK calling with the issued key. */
  Cli: "cli",
  /** `Federate` in the archive, then the console: a new access key every few requests. */
  Console: "console",
  /** The portal session lies before the archive: role activity with no grant to link to (`unlinked`). */
  OutsideArchive: "outside-archive",
  /** Named by an email two users share (a re-hire), no event naming the person: `ambiguous`. */
  Rehire: "rehire",
} as const;
export type SynthRoleSessionKind = (typeof SynthRoleSessionKind)[keyof typeof SynthRoleSessionKind];

/** The ground truth of one generated role session: what idc-audit should answer about it. */
export interface SynthRoleSession {
  /** The id idc-audit gives the session (`roleSessionId`). */
  readonly id: string;
  readonly kind: SynthRoleSessionKind;
  readonly accountId: string;
  readonly roleName: string;
  readonly permissionSet: string;
  readonly sessionName: string;
  readonly creationDate: string;
  /** The person who acted. */
  readonly userId: string;
  /** The `GetRoleCredentials` / `Federate` event that issued it, when the archive holds it. */
  readonly grantEventId: string | null;
  /** The portal session of that grant (none in the old era, whose portal events carry none). */
  readonly credentialId: string | null;
  /** An `sts:AssumeRole` the session made: the non-SSO role and the key it was given (set as it is planned). */
  chained: { readonly roleArn: string; readonly accessKeyId: string } | null;
  /** Every access key the session's records name, issued or used, in the order they appear. */
  readonly accessKeyIds: string[];
  /** Records of the session in the stream so far (the stream may end before a session does). */
  records: number;
}

/** A grant of role credentials as the portal session made it. */
export interface RoleGrant {
  readonly record: CloudTrailRecord;
  readonly time: number;
  readonly era: Era;
  readonly actor: Actor;
  readonly accountId: string;
  readonly roleName: string;
  readonly console: boolean;
}

export interface Pending {
  readonly time: number;
  readonly order: number;
  readonly record: CloudTrailRecord;
  /** The role session the record belongs to (none for the directory's own events). */
  readonly session?: SynthRoleSession;
}

/** A session's identity as its records name it, and the era whose shapes they take. */
type SessionContext = SynthRoleSessionIdentity & { readonly era: Era };

/** `onBehalfOf` is on most role-session events since 2025 (set per service), on none before. */
const ON_BEHALF_OF_SINCE = Date.parse("2025-01-01T00:00:00Z");
const ON_BEHALF_OF_SHARE = 0.87;
const ERROR_SHARE = 0.05;
/** Share of writes an AWS service makes for the person (CloudFormation applying a stack): not their address. */
const SERVICE_WRITE_SHARE = 0.3;
const CHAIN_SHARE = 0.1;
const MAX_CALLS = 400;
const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

interface CallTemplate {
  readonly service: string;
  readonly eventName: string;
  readonly readOnly: boolean;
  readonly weight: number;
  /** IAM and the global services answer in us-east-1. */
  readonly global?: boolean;
  readonly resources?: (rng: Random, account: string, region: string) => unknown[];
}

const bucketOf = (rng: Random, account: string) =>
  rng.pick([`example-${account}-data`, `example-${account}-logs`, `terraform-state-${account}`]);

/** What people do with a permission set, weighted roughly as CloudTrail shows it: mostly reads. */
const CALLS: readonly CallTemplate[] = [
  { service: "sts", eventName: "GetCallerIdentity", readOnly: true, weight: 8 },
  { service: "s3", eventName: "ListBuckets", readOnly: true, weight: 8 },
  {
    service: "s3",
    eventName: "GetObject",
    readOnly: true,
    weight: 8,
    resources: (rng, account) => {
      const bucket = bucketOf(rng, account);
      return [
        { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/reports/${rng.hex(8)}.csv` },
        { accountId: account, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
      ];
    },
  },
  {
    service: "s3",
    eventName: "PutObject",
    readOnly: false,
    weight: 3,
    resources: (rng, account) => {
      const bucket = bucketOf(rng, account);
      return [
        { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/uploads/${rng.hex(8)}.json` },
        { accountId: account, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
      ];
    },
  },
  { service: "ec2", eventName: "DescribeInstances", readOnly: true, weight: 10 },
  { service: "ec2", eventName: "DescribeSecurityGroups", readOnly: true, weight: 4 },
  {
    service: "ec2",
    eventName: "StopInstances",
    readOnly: false,
    weight: 1,
    resources: (rng, account, region) => [
      {
        accountId: account,
        type: "AWS::EC2::Instance",
        ARN: `arn:aws:ec2:${region}:${account}:instance/i-${rng.hex(17)}`,
      },
    ],
  },
  { service: "iam", eventName: "ListRoles", readOnly: true, weight: 4, global: true },
  {
    service: "iam",
    eventName: "GetRole",
    readOnly: true,
    weight: 2,
    global: true,
    resources: (rng, account) => [
      {
        accountId: account,
        type: "AWS::IAM::Role",
        ARN: `arn:aws:iam::${account}:role/${rng.pick(["DeployRole", "LambdaExec", "EcsTask"])}`,
      },
    ],
  },
  {
    service: "iam",
    eventName: "AttachRolePolicy",
    readOnly: false,
    weight: 1,
    global: true,
    resources: (_rng, account) => [
      { accountId: account, type: "AWS::IAM::Role", ARN: `arn:aws:iam::${account}:role/LambdaExec` },
      { type: "AWS::IAM::Policy", ARN: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" },
    ],
  },
  { service: "cloudformation", eventName: "DescribeStacks", readOnly: true, weight: 5 },
  { service: "cloudformation", eventName: "ListStacks", readOnly: true, weight: 2 },
  {
    service: "cloudformation",
    eventName: "UpdateStack",
    readOnly: false,
    weight: 1,
    resources: (rng, account, region) => [
      {
        accountId: account,
        type: "AWS::CloudFormation::Stack",
        ARN: `arn:aws:cloudformation:${region}:${account}:stack/${rng.pick(["network", "app", "data"])}/${rng.uuid()}`,
      },
    ],
  },
  { service: "lambda", eventName: "ListFunctions20150331", readOnly: true, weight: 3 },
  { service: "logs", eventName: "DescribeLogGroups", readOnly: true, weight: 3 },
  {
    service: "kms",
    eventName: "Decrypt",
    readOnly: true,
    weight: 2,
    resources: (rng, account, region) => [
      {
        accountId: account,
        type: "AWS::KMS::Key",
        ARN: `arn:aws:kms:${region}:${account}:key/${rng.uuid()}`,
      },
    ],
  },
  { service: "dynamodb", eventName: "ListTables", readOnly: true, weight: 2 },
];
const TOTAL_WEIGHT = CALLS.reduce((sum, call) => sum + call.weight, 0);

/** The `AROA…` id IAM gave a role, stable per account and role. */
function roleIdOf(account: string, role: string): string {
  let id = "AROA";
  let h = hashString(`${account}/${role}`);
  while (id.length < 21) {
    h = fmix32(h + 1);
    id += KEY_ALPHABET.charAt(h % KEY_ALPHABET.length);
  }
  return id;
}

/**
 * How the records of a permission set's role session name it: the `AWSReservedSSO_*` role of the account, its
 * `AROA…` id, the session name, and the region Identity Center provisioned it in.
 */
export function ssoRoleSessionIdentity(
  accountId: string,
  permissionSet: string,
  sessionName: string,
  creationDate: number,
): SynthRoleSessionIdentity {
  const role = reservedRoleName(accountId, permissionSet);
  return {
    account: accountId,
    role,
    roleId: roleIdOf(accountId, role),
    sessionName,
    creationDate,
    region: MEMBER_REGIONS[hashString(accountId) % MEMBER_REGIONS.length] as string,
  };
}

/** A small binary heap of records waiting for their time. */
class PendingQueue {
  readonly #items: Pending[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: Pending): void {
    const items = this.#items;
    items.push(item);
    let at = items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(items[at] as Pending, items[parent] as Pending)) break;
      [items[at], items[parent]] = [items[parent] as Pending, items[at] as Pending];
      at = parent;
    }
  }

  peek(): Pending | undefined {
    return this.#items[0];
  }

  pop(): Pending | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        const right = left + 1;
        let smallest = at;
        if (left < items.length && before(items[left] as Pending, items[smallest] as Pending))
          smallest = left;
        if (right < items.length && before(items[right] as Pending, items[smallest] as Pending))
          smallest = right;
        if (smallest === at) break;
        [items[at], items[smallest]] = [items[smallest] as Pending, items[at] as Pending];
        at = smallest;
      }
    }
    return top;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}

/**
 * Plans role sessions as the Identity Center stream goes and hands their records back in time order. The
 * number of calls per session follows the wanted ratio of role records to Identity Center records, so any
 * stream length keeps it within a few percent.
 */
export class RoleActivity {
  readonly #rng: Random;
  readonly #make: RecordFactory;
  readonly #ratio: number;
  readonly #users: readonly SynthUser[];
  readonly #queue = new PendingQueue();
  #order = 0;
  #identityCenterRecords = 0;
  #planned = 0;
  /** Grant times per person, account and permission set: sessions outside the archive keep clear of them. */
  readonly #grants = new Map<string, number[]>();

  constructor(seed: number, ratio: number, users: readonly SynthUser[]) {
    this.#rng = new Random(fmix32(seed ^ 0x726f6c65));
    this.#make = new RecordFactory(this.#rng, seed ^ 0x526f6c65);
    this.#ratio = ratio;
    this.#users = users;
  }

  /** An Identity Center record went out: the role activity owed grows by the ratio. */
  countIdentityCenter(): void {
    this.#identityCenterRecords += 1;
  }

  /** The next held record due strictly before `time` (all of them when `time` is omitted). */
  takeBefore(time = Number.POSITIVE_INFINITY): Pending | undefined {
    const top = this.#queue.peek();
    return top !== undefined && top.time < time ? this.#queue.pop() : undefined;
  }

  /** A successful `GetRoleCredentials` or `Federate`: Identity Center assumes the role in the account. */
  grant(grant: RoleGrant): void {
    const { actor, time } = grant;
    const key = `${actor.user.userId}/${grant.accountId}/${grant.roleName}`;
    this.#grants.set(key, [...(this.#grants.get(key) ?? []).slice(-3), time]);
    const session = this.#session(
      grant.console ? SynthRoleSessionKind.Console : SynthRoleSessionKind.Cli,
      actor.user,
      grant.accountId,
      grant.roleName,
      time,
      {
        grantEventId: String(grant.record.eventID),
        credentialId: actor.credentialId ?? null,
      },
    );
    const identity = this.#identity(session, grant.era);
    const issued = this.#key();
    this.#hold(time, session, this.#make.issueRoleCredentials(time, grant.era, identity, issued));
    session.accessKeyIds.push(issued);
    const calls = this.#callCount();
    if (grant.console) this.#console(session, identity, actor, time, calls);
    else this.#cli(session, identity, { ...actor, userAgent: actor.user.cli }, time, calls, issued);
  }

  /**
   * Role activity whose portal session lies before the archive: the calls are here, the grant and the
   * `AssumeRoleWithSAML` are not.
   */
  outsideArchive(time: number, era: Era): void {
    const rng = this.#rng;
    const user = rng.pick(this.#users);
    const accountId = rng.pick(MEMBER_ACCOUNTS);
    const roleName = rng.pick(ROLE_NAMES);
    let created = Math.floor((time - rng.int(10, 50) * 60_000) / 1000) * 1000;
    // Well clear of this person's grants of the same role: nothing in the archive issued this session.
    const grants = this.#grants.get(`${user.userId}/${accountId}/${roleName}`) ?? [];
    while (grants.some((grant) => Math.abs(grant - created) <= 600_000)) created -= 900_000;
    const session = this.#session(SynthRoleSessionKind.OutsideArchive, user, accountId, roleName, created, {
      grantEventId: null,
      credentialId: null,
    });
    const identity = this.#identity(session, era);
    const actor: Actor = { era, user, ip: user.ip, userAgent: user.cli };
    this.#calls(session, identity, actor, time, this.#callCount(), () => session.accessKeyIds[0] as string, {
      onBehalfOf: true,
    });
  }

  /**
   * The re-hire: `former` left and was deleted, `rehired` came back with the same email. A CLI
   * session named by that email, none of whose events names the person, cannot be told apart.
   */
  rehire(time: number, era: Era, former: SynthUser, rehired: SynthUser, identityStoreId: string): void {
    const accountId = MEMBER_ACCOUNTS[0];
    const roleName = "ReadOnlyAccess";
    const created = Math.floor((time - 20 * 60_000) / 1000) * 1000;
    const session = this.#session(SynthRoleSessionKind.Rehire, rehired, accountId, roleName, created, {
      grantEventId: null,
      credentialId: null,
    });
    // The former user's deletion, by an administrator: the directory event behind the shared email.
    const deletion = this.#make.admin(time - 1000, "identitystore.amazonaws.com", "DeleteUser", {
      requestParameters: { identityStoreId, userId: former.userId },
    });
    this.#queue.push({ time: time - 1000, order: this.#order++, record: deletion });
    const identity = this.#identity(session, era);
    const actor: Actor = { era, user: rehired, ip: rehired.ip, userAgent: rehired.cli };
    this.#calls(session, identity, actor, time, 4, () => session.accessKeyIds[0] as string, {
      onBehalfOf: false,
    });
  }

  #session(
    kind: SynthRoleSessionKind,
    user: SynthUser,
    accountId: string,
    permissionSet: string,
    creationDate: number,
    grant: { grantEventId: string | null; credentialId: string | null },
  ): SynthRoleSession {
    const roleName = reservedRoleName(accountId, permissionSet);
    const key = { accountId, roleName, sessionName: user.userName, creationDate: isoSeconds(creationDate) };
    return {
      id: roleSessionId(key),
      kind,
      ...key,
      permissionSet,
      userId: user.userId,
      ...grant,
      chained: null,
      accessKeyIds:
        kind === SynthRoleSessionKind.Cli || kind === SynthRoleSessionKind.Console ? [] : [this.#key()],
      records: 0,
    };
  }

  #identity(session: SynthRoleSession, era: Era): SessionContext {
    const identity = ssoRoleSessionIdentity(
      session.accountId,
      session.permissionSet,
      session.sessionName,
      Date.parse(session.creationDate),
    );
    return { ...identity, era };
  }

  /** Calls for the next session: what is owed to the ratio, give or take half. */
  #callCount(): number {
    // What the ratio owes so far, give or take half: each session settles the debt, so the ratio holds.
    const owed = Math.max(0, this.#ratio * this.#identityCenterRecords - this.#planned);
    return Math.min(MAX_CALLS, Math.max(1, Math.round(owed * (0.5 + this.#rng.next()))));
  }

  #cli(
    session: SynthRoleSession,
    identity: SessionContext,
    actor: Actor,
    created: number,
    calls: number,
    issued: string,
  ): void {
    const chainAt = calls >= 3 && this.#rng.chance(CHAIN_SHARE) ? this.#rng.int(1, calls - 1) : -1;
    this.#calls(session, identity, actor, created + this.#rng.int(1, 20) * 1000, calls, () => issued, {
      onBehalfOf: true,
      chainAt,
    });
  }

  /** The console: a sign-in token, `ConsoleLogin`, then a new access key every few requests. */
  #console(
    session: SynthRoleSession,
    identity: SessionContext,
    actor: Actor,
    created: number,
    calls: number,
  ): void {
    const rng = this.#rng;
    const issued = session.accessKeyIds[0] as string;
    const signIn = { sourceIPAddress: actor.ip, userAgent: actor.user.browser };
    const t = created + rng.int(0, 1) * 1000;
    this.#hold(
      t,
      session,
      this.#make.roleCall(t, identity.era, identity, {
        eventSource: "signin.amazonaws.com",
        eventName: "GetSigninToken",
        readOnly: false,
        region: "us-east-1",
        eventType: "AwsConsoleSignIn",
        responseElements: { GetSigninToken: "Success" },
        additionalEventData: { MobileVersion: "No" },
        accessKeyId: issued,
        ...signIn,
        ...this.#onBehalfOf(t, actor.user, true),
      }),
    );
    const login = t + rng.int(1, 2) * 1000;
    this.#hold(
      login,
      session,
      this.#make.roleCall(login, identity.era, identity, {
        eventSource: "signin.amazonaws.com",
        eventName: "ConsoleLogin",
        readOnly: false,
        region: "us-east-1",
        eventType: "AwsConsoleSignIn",
        responseElements: { ConsoleLogin: "Success" },
        additionalEventData: { MobileVersion: "No", MFAUsed: "No" },
        accessKeyId: issued,
        ...signIn,
        ...this.#onBehalfOf(login, actor.user, true),
      }),
    );
    let key = this.#key();
    let left = rng.int(2, 5);
    const console: Actor = { ...actor, userAgent: actor.user.browser };
    this.#calls(
      session,
      identity,
      console,
      login + rng.int(2, 10) * 1000,
      Math.max(1, calls - 2),
      () => {
        if (left === 0) {
          key = this.#key();
          left = rng.int(2, 5);
        }
        left -= 1;
        return key;
      },
      { onBehalfOf: true, consoleAgents: true },
    );
  }

  /** `count` API calls of a session from `actor`'s address, `keyFor` naming each call's access key. */
  #calls(
    session: SynthRoleSession,
    identity: SessionContext,
    actor: Actor,
    start: number,
    count: number,
    keyFor: () => string,
    options: { onBehalfOf: boolean; chainAt?: number; consoleAgents?: boolean },
  ): void {
    const rng = this.#rng;
    let t = start;
    for (let n = 0; n < count; n += 1) {
      const accessKeyId = keyFor();
      if (!session.accessKeyIds.includes(accessKeyId)) session.accessKeyIds.push(accessKeyId);
      const who = {
        accessKeyId,
        sourceIPAddress: actor.ip,
        userAgent: options.consoleAgents && rng.chance(0.3) ? "AWS Internal" : actor.userAgent,
        ...this.#onBehalfOf(t, actor.user, options.onBehalfOf),
      };
      if (n === options.chainAt) {
        this.#hold(t, session, this.#chain(t, session, identity, who));
      } else {
        const call = this.#call(identity);
        const byService = call.readOnly === false && rng.chance(SERVICE_WRITE_SHARE);
        this.#hold(
          t,
          session,
          this.#make.roleCall(t, identity.era, identity, {
            ...call,
            ...who,
            ...(byService
              ? { sourceIPAddress: "cloudformation.amazonaws.com", userAgent: "cloudformation.amazonaws.com" }
              : {}),
          }),
        );
      }
      t += rng.int(1, 60) * 1000;
    }
  }

  /** `sts:AssumeRole` from the session into a role of the account's own (role chaining). */
  #chain(
    time: number,
    session: SynthRoleSession,
    identity: SessionContext,
    who: { accessKeyId: string; sourceIPAddress: string; userAgent: string; onBehalfOf?: SynthUser },
  ): CloudTrailRecord {
    const role = this.#rng.pick(["DeployRole", "BreakGlassAdmin", "DataPipelineRole"]);
    const roleArn = `arn:aws:iam::${session.accountId}:role/${role}`;
    const accessKeyId = this.#key();
    session.accessKeyIds.push(accessKeyId);
    session.chained = { roleArn, accessKeyId };
    const chainedId = roleIdOf(session.accountId, role);
    return this.#make.roleCall(time, identity.era, identity, {
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRole",
      readOnly: true,
      region: identity.region,
      requestParameters: { roleArn, roleSessionName: session.sessionName, durationSeconds: 3600 },
      responseElements: {
        credentials: {
          accessKeyId,
          sessionToken: HIDDEN,
          expiration: new Date(time + 3_600_000).toUTCString(),
        },
        assumedRoleUser: {
          assumedRoleId: `${chainedId}:${session.sessionName}`,
          arn: `arn:aws:sts::${session.accountId}:assumed-role/${role}/${session.sessionName}`,
        },
      },
      resources: [{ accountId: session.accountId, type: "AWS::IAM::Role", ARN: roleArn }],
      ...who,
    });
  }

  #call(identity: SessionContext): SynthRoleCall {
    const rng = this.#rng;
    let roll = rng.next() * TOTAL_WEIGHT;
    let template = CALLS[0] as CallTemplate;
    for (const candidate of CALLS) {
      roll -= candidate.weight;
      template = candidate;
      if (roll < 0) break;
    }
    const region = template.global
      ? "us-east-1"
      : rng.chance(0.8)
        ? identity.region
        : rng.pick(MEMBER_REGIONS);
    const resources = template.resources?.(rng, identity.account, region);
    const failed = rng.chance(ERROR_SHARE);
    return {
      eventSource: `${template.service}.amazonaws.com`,
      eventName: template.eventName,
      readOnly: template.readOnly,
      region,
      ...(failed
        ? { errorCode: template.service === "ec2" ? "Client.UnauthorizedOperation" : "AccessDenied" }
        : {}),
      ...(resources === undefined ? {} : { resources }),
    };
  }

  #onBehalfOf(time: number, user: SynthUser, allowed: boolean): { onBehalfOf?: SynthUser } {
    if (!allowed || time < ON_BEHALF_OF_SINCE) return {};
    return this.#rng.chance(ON_BEHALF_OF_SHARE) ? { onBehalfOf: user } : {};
  }

  #key(): string {
    return `ASIA${this.#rng.string(16, KEY_ALPHABET)}`;
  }

  #hold(time: number, session: SynthRoleSession, record: CloudTrailRecord): void {
    this.#planned += 1;
    this.#queue.push({ time, order: this.#order++, record, session });
  }
}
