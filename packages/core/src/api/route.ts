import { ChangeQueries } from "../changes/queries.ts";
import { readCoverage } from "../coverage/queries.ts";
import { type Alert, listAlerts } from "../detect/detector.ts";
import type { UserKey } from "../normalize/types.ts";
import { RoleQueries } from "../roles/queries.ts";
import { ACCESS_KEY_ID, ROLE_SESSION_ID } from "../roles/types.ts";
import { describeError, StoreError, UsageError } from "../shared/errors.ts";
import { type AuditLogger, silentLogger } from "../shared/logger.ts";
import { parseTime } from "../shared/time.ts";
import {
  AnalystQueries,
  isIpAddress,
  SearchKind,
  type SearchResult,
  sessionFacts,
} from "../timeline/analyst.ts";
import { type TimelineQueries, toTimelineEvent } from "../timeline/queries.ts";
import type { TableStore } from "../timeline/store.ts";
import { ApiError, badRequest, notFound } from "./errors.ts";
import { nextCursorOf, type PageRequest, paginate, parsePageRequest } from "./pagination.ts";

export interface ApiRequest {
  readonly method: string;
  /** The path below the API root (`/users/bob%40example.com`), still percent-encoded. */
  readonly path: string;
  /** Query parameters; one given more than once is an array, which every route refuses. */
  readonly query: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** JSON text. */
  readonly body: string;
}

/** What the routes read through; a `Runtime` is one. Nothing here can write. */
export interface ApiDependencies {
  readonly queries: TimelineQueries;
  readonly store: TableStore;
  readonly logger?: AuditLogger;
}

/** Longest path value or parameter accepted: ids, names and emails are far shorter. */
export const MAX_VALUE_LENGTH = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects.
const CONTROL = /[\u0000-\u001f\u007f]/;

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  // Answers name people and addresses: no shared cache may keep them.
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
} as const;

interface Context {
  readonly params: readonly string[];
  readonly query: QueryReader;
  readonly store: TableStore;
  readonly queries: TimelineQueries;
  readonly analyst: AnalystQueries;
  readonly roles: RoleQueries;
}

interface Route {
  /** Literal segments, or `:name` for one path value. */
  readonly pattern: readonly string[];
  /** The route's name in logs: it never carries the values asked for. */
  readonly name: string;
  readonly parameters: readonly string[];
  readonly handle: (context: Context) => Promise<unknown>;
}

const PAGE = ["limit", "cursor"] as const;

class QueryReader {
  constructor(private readonly query: ApiRequest["query"]) {}

  /** Refuses parameters the route does not know: a misspelt filter must not silently widen an answer. */
  only(allowed: readonly string[]): void {
    for (const [name, value] of Object.entries(this.query)) {
      if (value === undefined) continue;
      if (!allowed.includes(name)) {
        throw badRequest(
          allowed.length > 0
            ? `unknown parameter ${name} (this route takes ${allowed.join(", ")})`
            : `unknown parameter ${name} (this route takes none)`,
        );
      }
      if (typeof value !== "string") throw badRequest(`parameter ${name} is given more than once`);
    }
  }

  text(name: string): string | undefined {
    const value = this.query[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw badRequest(`parameter ${name} is given more than once`);
    return checkValue(value, `parameter ${name}`);
  }

  time(name: string): string | undefined {
    try {
      return parseTime(this.text(name), name);
    } catch (error) {
      if (error instanceof UsageError) throw badRequest(error.message);
      throw error;
    }
  }

  page(): PageRequest {
    return parsePageRequest(this.text("limit"), this.text("cursor"));
  }
}

function checkValue(value: string, what: string): string {
  if (value.length === 0) throw badRequest(`${what} is empty`);
  if (value.length > MAX_VALUE_LENGTH)
    throw badRequest(`${what} is longer than ${MAX_VALUE_LENGTH} characters`);
  if (CONTROL.test(value)) throw badRequest(`${what} contains control characters`);
  return value;
}

/** The person a lookup names, exactly as the CLI's `user` command resolves it. */
async function resolveUser(context: Context, candidates: UserKey[], asked: string): Promise<UserKey> {
  const identityStoreId = context.query.text("identityStoreId");
  const matching =
    identityStoreId === undefined
      ? candidates
      : candidates.filter((user) => user.identityStoreId === identityStoreId);
  const [first, ...others] = matching;
  if (!first) throw notFound(`no user known for ${asked}`);
  if (others.length > 0) {
    throw new ApiError(
      409,
      "AMBIGUOUS",
      `${asked} names ${matching.length} users: ask by user id, or add identityStoreId`,
      { candidates: matching },
    );
  }
  return first;
}

/** `idc-audit user --json` for a name only events waiting for a name → user mapping carry (unresolved). */
async function unresolvedNameDocument(context: Context, userName: string) {
  const page = context.query.page();
  const events = await context.queries.readUnresolvedName(userName);
  const report = await context.roles.unresolvedName(userName, events);
  if (!report) return undefined;
  const activity = context.analyst.activityOf({ unresolvedName: userName }, events);
  const sessions = paginate(report.sessions, page);
  return {
    user: report.user,
    eventCount: report.eventCount,
    sessionCount: report.sessions.length,
    failedSignInCount: activity.failedSignIns.length,
    roleSessionCount: 0,
    sessions: sessions.items.map((session) => ({
      ...session,
      ...(activity.sessions.get(session.credentialId) ?? sessionFacts([])),
    })),
    unlinkedRoleSessionCount: 0,
    unlinkedRoleSessions: [],
    nextCursor: sessions.nextCursor,
  };
}

/**
 * `idc-audit user --json`, a page of its sessions, each with the analyst's facts and its role sessions, and a
 * page of its role sessions linked to none: one cursor pages both lists, until the longer ends. Only the role
 * sessions of the page have their events read.
 */
async function userDocument(context: Context, user: UserKey) {
  const page = context.query.page();
  const timeline = await context.queries.readUser(user);
  const report = await context.roles.userWithRoles(user, timeline, page);
  const activity = context.analyst.activityOf(user, timeline.events);
  return {
    user: report.user,
    eventCount: report.eventCount,
    sessionCount: report.sessionCount,
    failedSignInCount: activity.failedSignIns.length,
    roleSessionCount: report.roleSessionCount,
    sessions: report.sessions.map((session) => ({
      ...session,
      ...(activity.sessions.get(session.credentialId) ?? sessionFacts([])),
    })),
    unlinkedRoleSessionCount: report.unlinkedRoleSessionCount,
    unlinkedRoleSessions: report.unlinkedRoleSessions,
    nextCursor: nextCursorOf(page, Math.max(report.sessionCount, report.unlinkedRoleSessionCount)),
  };
}

function timeRange(query: QueryReader): { since: string | undefined; until: string | undefined } {
  const since = query.time("since");
  const until = query.time("until");
  if (since !== undefined && until !== undefined && since > until) {
    throw badRequest(`since ${since} is after until ${until}`);
  }
  return { since, until };
}

/** Alerts as `idc-audit alerts --json` prints them, each with the sessions its events belong to. */
async function withSessions(context: Context, alerts: readonly Alert[]) {
  const sessions = await context.analyst.alertSessions(alerts);
  return alerts.map((alert) => ({ ...alert, credentialIds: sessions.get(alert.id) ?? [] }));
}

/**
 * A search for an access key id or a role session id. Their shapes are tried first, and only when a role
 * session is stored for them: an upper-case user name can look like an access key id.
 */
async function searchRoles(roles: RoleQueries, query: string): Promise<SearchResult | undefined> {
  if (ACCESS_KEY_ID.test(query)) {
    const answer = await roles.accessKey(query);
    if (!answer) return undefined;
    return {
      query,
      kind: SearchKind.AccessKey,
      accessKeyId: query,
      roleSessionId: answer.roleSession.id,
      ...(answer.credentialId ? { credentialId: answer.credentialId } : {}),
      users: answer.user ? [answer.user] : [],
    };
  }
  if (ROLE_SESSION_ID.test(query)) {
    const detail = await roles.summary(query);
    if (!detail) return undefined;
    return {
      query,
      kind: SearchKind.RoleSession,
      roleSessionId: query,
      ...(detail.credentialId ? { credentialId: detail.credentialId } : {}),
      users: [],
    };
  }
  return undefined;
}

const USER_PARAMETERS = [...PAGE, "identityStoreId"];

/** Directory changes: to a person, to a group, by an administrator. */
const changeQueries = (context: Context) => new ChangeQueries(context.store, context.queries);

const ROUTES: readonly Route[] = [
  {
    pattern: ["search"],
    name: "/search",
    parameters: ["q"],
    async handle({ query, analyst, roles }) {
      const value = query.text("q");
      if (value === undefined || value.trim() === "") throw badRequest("search needs q");
      const roleResult = await searchRoles(roles, value.trim());
      if (roleResult) return roleResult;
      const result = await analyst.search(value);
      if (result.kind === SearchKind.None) throw notFound(`nothing known matches ${result.query}`);
      return result;
    },
  },
  {
    pattern: ["sessions", ":credentialId"],
    name: "/sessions/{credentialId}",
    parameters: PAGE,
    async handle({ params: [credentialId = ""], query, roles }) {
      const page = query.page();
      const timeline = await roles.sessionWithRoles(credentialId);
      const first = timeline.events[0];
      const last = timeline.events[timeline.events.length - 1];
      if (!first || !last) throw notFound(`no events for session ${credentialId}`);
      const events = paginate(timeline.events, page);
      return {
        credentialId: timeline.credentialId,
        user: timeline.user,
        summary: {
          firstSeen: first.eventTime,
          lastSeen: last.eventTime,
          eventCount: timeline.events.length,
          sourceIps: [...new Set(timeline.events.flatMap((event) => event.sourceIp ?? []))].sort(),
          ...sessionFacts(timeline.events),
        },
        // Not paged: one per grant the session made, and the page draws them all on one time axis.
        roleSessions: timeline.roleSessions,
        events: events.items,
        nextCursor: events.nextCursor,
      };
    },
  },
  {
    pattern: ["role-sessions", ":id"],
    name: "/role-sessions/{id}",
    parameters: PAGE,
    async handle({ params: [id = ""], query, roles }) {
      if (!ROLE_SESSION_ID.test(id))
        throw badRequest(`${id} is not a role session id (rs- and 24 hex digits)`);
      const page = query.page();
      const detail = await roles.roleSession(id, page);
      if (!detail) throw notFound(`no role session ${id}`);
      return { ...detail, nextCursor: nextCursorOf(page, detail.roleSession.eventCount) };
    },
  },
  {
    pattern: ["access-keys", ":accessKeyId"],
    name: "/access-keys/{accessKeyId}",
    parameters: [],
    async handle({ params: [accessKeyId = ""], roles }) {
      if (!ACCESS_KEY_ID.test(accessKeyId))
        throw badRequest(`${accessKeyId} is not an access key id (ASIA…)`);
      const answer = await roles.accessKey(accessKeyId);
      if (!answer) throw notFound(`no Identity Center role session is stored for ${accessKeyId}`);
      return answer;
    },
  },
  {
    pattern: ["users"],
    name: "/users",
    parameters: [...USER_PARAMETERS, "externalId", "issuer"],
    async handle(context) {
      const externalId = context.query.text("externalId");
      const issuer = context.query.text("issuer");
      if (externalId === undefined) {
        throw badRequest("give externalId (and optionally issuer), or ask /users/{userIdOrNameOrEmail}");
      }
      const candidates = await context.queries.findUsersByExternalId(externalId, issuer);
      const user = await resolveUser(
        context,
        candidates,
        `external id ${externalId}${issuer ? ` from ${issuer}` : ""}`,
      );
      return userDocument(context, user);
    },
  },
  {
    pattern: ["users", ":value"],
    name: "/users/{value}",
    parameters: USER_PARAMETERS,
    async handle(context) {
      const value = context.params[0] ?? "";
      const candidates = await context.queries.findUsers(value);
      // A sign-in name no person is known for yet: the events waiting for it, as the CLI answers them.
      if (candidates.length === 0 && context.query.text("identityStoreId") === undefined) {
        const unresolved = await unresolvedNameDocument(context, value);
        if (unresolved) return unresolved;
      }
      const user = await resolveUser(context, candidates, value);
      return userDocument(context, user);
    },
  },
  {
    pattern: ["users", ":value", "failed-signins"],
    name: "/users/{value}/failed-signins",
    parameters: USER_PARAMETERS,
    async handle(context) {
      const value = context.params[0] ?? "";
      const page = context.query.page();
      const user = await resolveUser(context, await context.queries.findUsers(value), value);
      const { failedSignIns } = await context.analyst.userActivity(user);
      const failures = paginate(failedSignIns, page);
      return { user, failures: failures.items, nextCursor: failures.nextCursor };
    },
  },
  {
    pattern: ["users", ":value", "alerts"],
    name: "/users/{value}/alerts",
    parameters: USER_PARAMETERS,
    async handle(context) {
      const value = context.params[0] ?? "";
      const page = context.query.page();
      const user = await resolveUser(context, await context.queries.findUsers(value), value);
      const mine = (await listAlerts(context.store)).filter(
        (alert) =>
          alert.subject.type === "user" &&
          alert.subject.userId === user.userId &&
          alert.subject.identityStoreId === user.identityStoreId,
      );
      const alerts = paginate(mine, page);
      return { user, alerts: await withSessions(context, alerts.items), nextCursor: alerts.nextCursor };
    },
  },
  {
    pattern: ["users", ":value", "changes"],
    name: "/users/{value}/changes",
    parameters: USER_PARAMETERS,
    async handle(context) {
      const value = context.params[0] ?? "";
      const page = context.query.page();
      const user = await resolveUser(context, await context.queries.findUsers(value), value);
      const changes = paginate(await changeQueries(context).userChanges(user), page);
      return { user, changes: changes.items, nextCursor: changes.nextCursor };
    },
  },
  {
    pattern: ["groups", ":value"],
    name: "/groups/{value}",
    parameters: PAGE,
    async handle(context) {
      const value = context.params[0] ?? "";
      const page = context.query.page();
      const groups = await changeQueries(context).findGroups(value);
      if (groups.length === 0) throw notFound(`no group known for ${value}`);
      if (groups.length > 1) throw badRequest(`${value} names ${groups.length} groups: ask by group id`);
      const report = await changeQueries(context).group(groups[0] as (typeof groups)[number]);
      const changes = paginate(report.changes, page);
      return { group: report.group, changes: changes.items, nextCursor: changes.nextCursor };
    },
  },
  {
    pattern: ["changes"],
    name: "/changes",
    parameters: [...PAGE, "actor"],
    async handle(context) {
      const actor = context.query.text("actor");
      if (actor === undefined) throw badRequest("give actor (an ARN, a role or session name, or a person)");
      const page = context.query.page();
      const report = await changeQueries(context).actorChanges(actor);
      const changes = paginate(report.changes, page);
      return { actor, changes: changes.items, nextCursor: changes.nextCursor };
    },
  },
  {
    pattern: ["alerts"],
    name: "/alerts",
    parameters: [...PAGE, "since", "until"],
    async handle(context) {
      const { since, until } = timeRange(context.query);
      const page = context.query.page();
      const alerts = paginate(await listAlerts(context.store, since, until), page);
      return { alerts: await withSessions(context, alerts.items), nextCursor: alerts.nextCursor };
    },
  },
  {
    pattern: ["failed-signins"],
    name: "/failed-signins",
    parameters: [...PAGE, "since", "until"],
    async handle({ query, queries }) {
      const { since, until } = timeRange(query);
      const page = query.page();
      const failures = paginate(await queries.failedSignIns(since, until), page);
      return { failures: failures.items, nextCursor: failures.nextCursor };
    },
  },
  {
    pattern: ["coverage"],
    name: "/coverage",
    parameters: ["since", "until"],
    async handle({ query, store }) {
      const { since, until } = timeRange(query);
      return readCoverage(store, since, until);
    },
  },
  {
    pattern: ["addresses", ":ip"],
    name: "/addresses/{ip}",
    parameters: PAGE,
    async handle({ params: [sourceIp = ""], query, queries, analyst }) {
      // CloudTrail also writes service names (`sso.amazonaws.com`, `AWS Internal`) as the source address.
      if (!isIpAddress(sourceIp) && !/^[A-Za-z0-9][A-Za-z0-9 .-]{0,252}$/.test(sourceIp)) {
        throw badRequest(`${sourceIp} is not an IP address or a service name`);
      }
      const page = query.page();
      const stored = await queries.readAddress(sourceIp);
      const all = stored.map((event) => toTimelineEvent(event));
      const seen = await analyst.addressUsersOf(stored);
      if (all.length === 0) throw notFound(`no events from ${sourceIp}`);
      const events = paginate(all, page);
      return {
        sourceIp,
        eventCount: all.length,
        users: seen.users,
        unresolvedWorkflows: seen.unresolvedWorkflows,
        events: events.items,
        nextCursor: events.nextCursor,
      };
    },
  },
];

function match(route: Route, segments: readonly string[]): string[] | undefined {
  if (route.pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (const [index, part] of route.pattern.entries()) {
    const segment = segments[index] ?? "";
    if (part.startsWith(":")) params.push(segment);
    else if (part !== segment) return undefined;
  }
  return params;
}

function respond(status: number, document: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: `${JSON.stringify(document)}\n` };
}

function segmentsOf(path: string): string[] {
  const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmed === "") return [];
  return trimmed.split("/").map((segment) => {
    try {
      return checkValue(decodeURIComponent(segment), "path value");
    } catch (error) {
      if (error instanceof URIError) throw badRequest("path is not valid percent-encoding");
      throw error;
    }
  });
}

/**
 * The analyst API: one router for every entry point (`idc-audit serve`, the Lambda function URL, tests).
 * GET only; every answer is JSON, errors are `{"error": "…"}` with a 4xx status for bad input.
 */
export async function route(request: ApiRequest, dependencies: ApiDependencies): Promise<ApiResponse> {
  const logger = dependencies.logger ?? silentLogger;
  let name = "unmatched";
  try {
    const segments = segmentsOf(request.path);
    const found = ROUTES.flatMap((candidate) => {
      const params = match(candidate, segments);
      return params ? [{ route: candidate, params }] : [];
    })[0];
    if (!found) throw notFound(`no such route: ${request.path}`);
    name = found.route.name;
    if (request.method !== "GET") {
      return respond(
        405,
        { error: `${request.method} is not allowed: the API only reads` },
        { allow: "GET" },
      );
    }
    const query = new QueryReader(request.query);
    query.only(found.route.parameters);
    const { store, queries } = dependencies;
    const document = await found.route.handle({
      params: found.params,
      query,
      store,
      queries,
      analyst: new AnalystQueries(store, queries),
      roles: new RoleQueries(store, queries),
    });
    return respond(200, document);
  } catch (error) {
    if (error instanceof ApiError) return respond(error.status, { error: error.message, ...error.details });
    if (error instanceof StoreError) {
      logger.error("store failed", { route: name, error: describeError(error) });
      return respond(503, { error: describeError(error) }, error.retryable ? { "retry-after": "1" } : {});
    }
    logger.error("request failed", { route: name, error: describeError(error) });
    return respond(500, { error: "internal error" });
  }
}

/** Query parameters of a raw query string, a repeated name as an array (which routes then refuse). */
export function parseQueryString(raw: string | undefined): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw ?? "")) {
    const current = query[name];
    if (current === undefined) query[name] = value;
    else query[name] = Array.isArray(current) ? [...current, value] : [current, value];
  }
  return query;
}
