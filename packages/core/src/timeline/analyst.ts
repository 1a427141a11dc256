import { userKeyString } from "../identity/port.ts";
import { type AuditEvent, isFailedVerification, type UserKey } from "../normalize/types.ts";
import { workflowJoin } from "./items.ts";
import { Keys } from "./keys.ts";
import {
  groupSessions,
  INFERRED_PREFIX,
  type InferredOwner,
  type TimelineEvent,
  type TimelineQueries,
  toTimelineEvent,
  type UserView,
} from "./queries.ts";
import { mapLimit, type TableStore } from "./store.ts";

/**
 * What an analyst wants to see of a session at a glance, beyond the CLI's summary: where it went, how it
 * signed in, whether anything failed. A pure function of the session's events, so the session view and the
 * user view (which see the same events through different partitions) always agree.
 */
export interface SessionFacts {
  /** Accounts the session listed roles in or received credentials for, sorted. */
  readonly accounts: string[];
  /** Roles (permission sets) credentials were issued for or federated into, as `account/role`, sorted. */
  readonly roles: { readonly accountId: string; readonly roleName: string }[];
  /** Every factor type the sign-in steps used (`PASSWORD`, `TOTP`, `WEBAUTHN` …), sorted. */
  readonly factors: string[];
  readonly failures: number;
  readonly signedOut: boolean;
  readonly mfaDeviceChanges: number;
}

/** How the search box's value was understood, in the order the box tries them. */
export const SearchKind = {
  /** An `ASIA…` / `AKIA…` key a role session was seen with (the API tries role ids first). */
  AccessKey: "access-key",
  /** A role session id (`rs-…`). */
  RoleSession: "role-session",
  Session: "session",
  Address: "address",
  ExternalId: "external-id",
  User: "user",
  None: "none",
} as const;
export type SearchKind = (typeof SearchKind)[keyof typeof SearchKind];

export interface SearchResult {
  readonly query: string;
  readonly kind: SearchKind;
  readonly credentialId?: string;
  readonly sourceIp?: string;
  readonly accessKeyId?: string;
  readonly roleSessionId?: string;
  readonly users: UserView[];
}

export interface UserActivity {
  readonly sessions: Map<string, SessionFacts>;
  /** Which session (keyed or inferred) each of the person's events belongs to. */
  readonly sessionOfEvent: Map<string, string>;
  readonly failedSignIns: TimelineEvent[];
}

export interface AddressUsers {
  readonly users: UserView[];
  /** Sign-in workflows whose user was not looked up because the address had too many (a spray). */
  readonly unresolvedWorkflows: number;
}

/** Distinct sign-in workflows looked up per address: one Query each, so a password spray stays bounded. */
export const MAX_ADDRESS_WORKFLOW_LOOKUPS = 100;

const ROLE_EVENTS = new Set(["GetRoleCredentials", "Federate"]);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^(?=.*:.*:)[0-9a-f:.]{2,45}$/i;

/** Whether a value looks like an IPv4 or IPv6 address (what CloudTrail writes in `sourceIPAddress`). */
export function isIpAddress(value: string): boolean {
  return IPV4.test(value) || IPV6.test(value);
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

export function sessionFacts(events: readonly TimelineEvent[]): SessionFacts {
  const roles = new Map<string, { accountId: string; roleName: string }>();
  const factors: string[] = [];
  const accounts: string[] = [];
  for (const event of events) {
    if (event.accountId) accounts.push(event.accountId);
    if (
      event.accountId &&
      event.roleName &&
      ROLE_EVENTS.has(event.eventName) &&
      event.outcome === "success"
    ) {
      roles.set(`${event.accountId}/${event.roleName}`, {
        accountId: event.accountId,
        roleName: event.roleName,
      });
    }
    if (event.category === "sign-in" && event.credentialType)
      factors.push(...event.credentialType.split(","));
  }
  return {
    accounts: sorted(accounts),
    roles: [...roles.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, role]) => role),
    factors: sorted(factors.map((factor) => factor.trim()).filter(Boolean)),
    failures: events.filter((event) => event.outcome === "failure").length,
    signedOut: events.some((event) => event.eventName === "Logout" && event.outcome === "success"),
    mfaDeviceChanges: events.filter(
      (event) => event.category === "mfa-device" && !event.eventName.startsWith("List"),
    ).length,
  };
}

/** What `alertSessions` reads of an alert (alerts are detect/'s; the timeline does not depend on it). */
export interface AlertOfEvents {
  readonly id: string;
  readonly eventIds: readonly string[];
  readonly subject:
    | { readonly type: "user"; readonly identityStoreId: string; readonly userId: string }
    | { readonly type: "address"; readonly sourceIp: string };
}

/**
 * Read-only lookups the analyst API needs beyond the CLI's queries. Each is one `Query` of one partition (plus
 * bounded link lookups), never a `Scan`; the answers the CLI also gives still come from `TimelineQueries`.
 */
export class AnalystQueries {
  constructor(
    private readonly store: TableStore,
    private readonly queries: TimelineQueries,
  ) {}

  /** Per-session facts and failed sign-ins of one person, from one read of their timeline partition. */
  async userActivity(user: UserKey): Promise<UserActivity> {
    return this.activityOf(user, (await this.queries.readUser(user)).events);
  }

  /** The same, from events already read (the user route reads the partition once for both documents). */
  activityOf(owner: InferredOwner, events: readonly AuditEvent[]): UserActivity {
    const groups = groupSessions(owner, events);
    const sessions = new Map(
      groups.map((group) => [
        group.credentialId,
        sessionFacts(group.events.map((event) => toTimelineEvent(event))),
      ]),
    );
    const sessionOfEvent = new Map(
      groups.flatMap((group) => group.events.map((event) => [event.eventId, group.credentialId] as const)),
    );
    const failedSignIns = events.filter(isFailedVerification).map((event) => toTimelineEvent(event));
    return { sessions, sessionOfEvent, failedSignIns };
  }

  /**
   * The sessions (keyed or inferred, as the user view lists them) that an alert's events belong to, for
   * alerts about a person: one read of each person's timeline however many of their alerts are asked about.
   * Alerts about an address get none: their events belong to many people, who are listed on the alert.
   */
  async alertSessions(alerts: readonly AlertOfEvents[]): Promise<Map<string, string[]>> {
    const people = new Map<string, UserKey>();
    for (const alert of alerts) {
      if (alert.subject.type === "user") {
        const user = { identityStoreId: alert.subject.identityStoreId, userId: alert.subject.userId };
        people.set(userKeyString(user), user);
      }
    }
    const activities = new Map(
      await mapLimit(
        [...people.entries()],
        8,
        async ([key, user]) => [key, await this.userActivity(user)] as const,
      ),
    );
    const result = new Map<string, string[]>();
    for (const alert of alerts) {
      if (alert.subject.type !== "user") {
        result.set(alert.id, []);
        continue;
      }
      const activity = activities.get(userKeyString(alert.subject));
      const sessions = alert.eventIds.flatMap((eventId) => activity?.sessionOfEvent.get(eventId) ?? []);
      result.set(alert.id, sorted(sessions));
    }
    return result;
  }

  /** Whether a session has any event: one item of its partition, or the timeline of an inferred session's person. */
  async sessionExists(credentialId: string): Promise<boolean> {
    if (credentialId.startsWith(INFERRED_PREFIX)) {
      return (await this.queries.session(credentialId)).events.length > 0;
    }
    const items = await this.store.query(Keys.sessionPartition(credentialId), { limit: 1 });
    return items.length > 0;
  }

  async addressSeen(sourceIp: string): Promise<boolean> {
    const items = await this.store.query(Keys.addressPartition(sourceIp), { limit: 1 });
    return items.length > 0;
  }

  /**
   * The people seen from an address: those its events name, and for sign-in steps that name nobody (failed
   * attempts in the new shape), those their sign-in workflow was linked to. Takes the address's events as the
   * timeline query read them, so the address route reads the partition once.
   */
  async addressUsersOf(events: readonly AuditEvent[]): Promise<AddressUsers> {
    const users = new Map<string, UserKey>();
    const workflows = new Set<string>();
    for (const event of events) {
      const user = event.actor.user ?? event.actor.directoryUser;
      if (user) users.set(userKeyString(user), user);
      else if (event.authWorkflowId) workflows.add(event.authWorkflowId);
    }
    const looked = [...workflows].sort().slice(0, MAX_ADDRESS_WORKFLOW_LOOKUPS);
    // The people a workflow's members name themselves (from any address) and those linked to it later.
    const joined = await mapLimit(looked, 8, async (workflow) =>
      workflowJoin(await this.store.query(Keys.workflowPartition(workflow))),
    );
    for (const user of joined.flatMap((join) => join.users)) users.set(userKeyString(user), user);
    const keys = [...users.values()].sort((a, b) => (userKeyString(a) < userKeyString(b) ? -1 : 1));
    const profiles = await this.queries.profiles(keys);
    return {
      users: keys.flatMap((key) => {
        const view = profiles.get(userKeyString(key));
        return view ? [view] : [];
      }),
      unresolvedWorkflows: workflows.size - looked.length,
    };
  }

  /**
   * What the search box's value names, trying in order: a session id, an IP address, an external id (Okta,
   * Entra, AD …), then a user id, sign-in name or email. The first kind that matches wins, so a value is
   * never shown as two things at once.
   */
  async search(value: string): Promise<SearchResult> {
    const query = value.trim();
    if (await this.sessionExists(query)) {
      return { query, kind: SearchKind.Session, credentialId: query, users: [] };
    }
    if (isIpAddress(query)) {
      const seen = await this.addressSeen(query);
      return seen
        ? { query, kind: SearchKind.Address, sourceIp: query, users: [] }
        : { query, kind: SearchKind.None, users: [] };
    }
    const external = await this.queries.findUsersByExternalId(query);
    if (external.length > 0) return { query, kind: SearchKind.ExternalId, users: await this.views(external) };
    const users = await this.queries.findUsers(query);
    if (users.length > 0) return { query, kind: SearchKind.User, users: await this.views(users) };
    return { query, kind: SearchKind.None, users: [] };
  }

  private async views(users: readonly UserKey[]): Promise<UserView[]> {
    const profiles = await this.queries.profiles(users);
    return users.flatMap((user) => {
      const view = profiles.get(userKeyString(user));
      return view ? [view] : [];
    });
  }
}
