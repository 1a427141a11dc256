// The analyst page: plain DOM, no framework, no network but this server's own API (see `api/` routes).
// Every value shown comes from events, so text is always set as text, never parsed as HTML.

const API = "api";
/** Largest page the API serves; lists are read to the end, page by page, up to MAX_PAGES. */
const PAGE_LIMIT = 1000;
const MAX_PAGES = 20;
/** Rows shown before a "Show more" button, so a long history stays quick to render and to tab through. */
const SHOWN_ROWS = 100;

const view = document.getElementById("view");
const status = document.getElementById("status");
const searchInput = document.getElementById("search-input");

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Thrown when the answer arrives after the analyst has moved on to another view: it must not be shown. */
class Stale extends Error {}

async function api(path, params = {}) {
  const asked = generation;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  const response = await fetch(`${API}${path}${text ? `?${text}` : ""}`, {
    headers: { accept: "application/json" },
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiFailure(response.status, `the server answered ${response.status} without JSON`);
  }
  if (asked !== generation) throw new Stale();
  if (!response.ok) throw new ApiFailure(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}

/**
 * Every item of a paginated list (`field`, or several fields one cursor pages together), following
 * `nextCursor`; the first page's document is kept.
 */
async function apiAll(path, field, params = {}) {
  const fields = Array.isArray(field) ? field : [field];
  const first = await api(path, { ...params, limit: PAGE_LIMIT });
  const lists = Object.fromEntries(fields.map((name) => [name, [...(first[name] ?? [])]]));
  let cursor = first.nextCursor;
  let pages = 1;
  while (cursor && pages < MAX_PAGES) {
    const next = await api(path, { ...params, limit: PAGE_LIMIT, cursor });
    for (const name of fields) lists[name].push(...(next[name] ?? []));
    cursor = next.nextCursor;
    pages += 1;
  }
  return { ...first, ...lists, truncated: Boolean(cursor) };
}

// ---------- DOM helpers ----------

/** `h("a", { href }, "text", child…)`: attributes set as properties or attributes, children as text/nodes. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG = "http://www.w3.org/2000/svg";

/** `svg("rect", { x, y }, child…)`: an SVG element; attributes only (the page's CSP allows no inline style). */
function svg(name, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, name);
  for (const [attribute, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(attribute, String(value));
  }
  append(element, children);
  return element;
}

const link = (href, ...children) => h("a", { href }, ...children);
const tag = (text, kind = "") => h("span", { class: `tag ${kind}`.trim() }, text);
const empty = (text) => h("p", { class: "empty" }, text);

function list(items, render = (item) => item) {
  if (items.length === 0) return h("span", { class: "empty" }, "none");
  return h(
    "ul",
    { class: "list-inline" },
    items.map((item) => h("li", {}, render(item))),
  );
}

function facts(rows) {
  return h(
    "dl",
    { class: "facts" },
    rows.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

/** A table with a header row; `rows` are arrays of cells; `rowClass(row)` marks rows (failures). */
function table(caption, headers, rows, options = {}) {
  const body = h("tbody");
  const render = (from, to) => {
    for (const row of rows.slice(from, to)) {
      body.append(
        h(
          "tr",
          { class: options.rowClass?.(row) ?? false, dataset: options.rowData?.(row) },
          options
            .cells(row)
            .map((cell, index) =>
              index === 0
                ? h("th", { scope: "row", class: options.cellClass?.[index] }, cell)
                : h("td", { class: options.cellClass?.[index] }, cell),
            ),
        ),
      );
    }
  };
  render(0, SHOWN_ROWS);
  const result = h(
    "div",
    {},
    h(
      "div",
      // A wide table scrolls on its own rather than widening the page.
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("caption", {}, caption),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            headers.map((header) => h("th", { scope: "col" }, header)),
          ),
        ),
        body,
      ),
    ),
  );
  if (rows.length > SHOWN_ROWS) {
    let shown = SHOWN_ROWS;
    const button = h("button", { type: "button", class: "secondary more" }, "");
    const label = () => {
      button.textContent = `Show ${Math.min(SHOWN_ROWS, rows.length - shown)} more of ${rows.length - shown}`;
    };
    label();
    button.addEventListener("click", () => {
      render(shown, shown + SHOWN_ROWS);
      shown += SHOWN_ROWS;
      if (shown >= rows.length) button.remove();
      else label();
      announce(`Showing ${Math.min(shown, rows.length)} of ${rows.length} rows`);
    });
    result.append(button);
  }
  return result;
}

// ---------- formatting ----------

/** `2026-07-01 00:02:11 UTC`: always UTC, as CloudTrail writes it, so times match other tools. */
function utc(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function timeElement(iso) {
  return h("time", { datetime: iso }, utc(iso));
}

/** The time of day only, for timeline rows whose date and zone the heading already gives. */
function clockElement(iso) {
  return h("time", { datetime: iso, title: utc(iso) }, utc(iso).slice(0, 19));
}

/** A duration as `+8s`, `+3m25s`, `+2h05m`, `+1d04h`. */
function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, "0")}h`;
}

/** `1 session`, `3 sessions`. */
const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

const between = (from, to) => duration(Date.parse(to) - Date.parse(from));

function shortId(id) {
  if (id.startsWith("inferred:")) return `inferred ${id.slice(9, 17)}…`;
  return id.length > 16 ? `${id.slice(0, 12)}…${id.slice(-4)}` : id;
}

/** Who issued an external id, in the words analysts use. */
function issuerName(issuer) {
  if (/okta/i.test(issuer)) return "Okta";
  if (/sts\.windows\.net|login\.microsoftonline|microsoft/i.test(issuer)) return "Entra ID";
  if (/active.?directory|\bad\b|ldap/i.test(issuer)) return "Active Directory";
  return issuer;
}

function userLabel(user) {
  if (!user) return "unknown user";
  return user.displayName || user.userName || user.userId;
}

const userHref = (user) =>
  `#/users/${encodeURIComponent(user.userId)}?identityStoreId=${encodeURIComponent(user.identityStoreId)}`;
const sessionHref = (credentialId) => `#/sessions/${encodeURIComponent(credentialId)}`;
const addressHref = (ip) => `#/addresses/${encodeURIComponent(ip)}`;
const roleSessionHref = (id) => `#/role-sessions/${encodeURIComponent(id)}`;
const accessKeyHref = (id) => `#/access-keys/${encodeURIComponent(id)}`;

const addressLinks = (ips) => list(ips, (ip) => link(addressHref(ip), h("span", { class: "mono" }, ip)));
const roleText = (role) => `${role.accountId}/${role.roleName}`;

/** What one event means, in words; the CloudTrail name stays visible beside it. */
function describe(event) {
  const factor = event.credentialType ? ` (${event.credentialType.replaceAll(",", " + ")})` : "";
  const failed = event.outcome === "failure";
  const role = event.accountId && event.roleName ? `${event.accountId} / ${event.roleName}` : event.accountId;
  switch (event.eventName) {
    case "CredentialChallenge":
      return `Asked for a credential${factor}`;
    case "CredentialVerification":
      return failed ? `Credential rejected${factor}` : `Credential verified${factor}`;
    case "UserAuthentication":
      return failed ? `Sign-in failed${factor}` : `Signed in${factor}`;
    case "Authenticate":
      return "Opened the access portal";
    case "ListAccounts":
      return "Listed accounts";
    case "ListAccountRoles":
      return role ? `Listed roles in ${role}` : "Listed roles";
    case "ListApplications":
      return "Listed applications";
    case "ListProfilesForApplication":
      return "Listed application profiles";
    case "GetRoleCredentials":
      return role ? `Role credentials for ${role}` : "Role credentials";
    case "Federate":
      return role ? `Console sign-in to ${role}` : "Federated to an application";
    case "Logout":
      return "Signed out";
    case "CreateToken":
      return "Token issued (CLI / SDK)";
    case "CreateTokenWithIAM":
      return "Token issued to an application";
    case "ListMfaDevicesForUser":
      return "Listed MFA devices";
    case "DeleteMfaDeviceForUser":
      return "MFA device deleted";
    case "UpdateMfaDeviceForUser":
      return "MFA device renamed";
    case "StartWebAuthnDeviceRegistration":
    case "StartVirtualMfaDeviceRegistration":
      return "MFA device registration started";
    case "CompleteWebAuthnDeviceRegistration":
    case "CompleteVirtualMfaDeviceRegistration":
      return "MFA device registered";
    default:
      return event.eventName;
  }
}

const CATEGORY_LABEL = {
  "sign-in": "sign-in",
  portal: "portal",
  token: "token",
  "mfa-device": "MFA device",
  "directory-admin": "admin",
  "directory-read": "admin read",
  other: "other",
};

// ---------- status and focus ----------

function announce(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

/** A fresh view: the old content goes, the heading takes focus so keyboard and screen reader users land on it. */
function show(title, ...children) {
  const heading = h("h1", { tabindex: "-1" }, title);
  view.replaceChildren(
    heading,
    ...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false),
  );
  document.title = `${typeof title === "string" ? title : heading.textContent} · idc-audit`;
  if (focusOnRender) heading.focus();
}

let focusOnRender = false;
/** Counts navigations; answers to an older one are dropped. */
let generation = 0;

// ---------- views ----------

function homeView() {
  show(
    "Identity Center audit",
    h(
      "p",
      {},
      "Search for a person (user name, email, user id or an Okta, Entra ID or AD external id), a portal session id, an IP address, or an access key id (ASIA…) from a GuardDuty finding or a log line: it answers with the person, their portal session and their sign-in.",
    ),
    h(
      "ul",
      {},
      h(
        "li",
        {},
        link("#/alerts", "Alerts"),
        ": what the detections raised, with links to the people and sessions.",
      ),
      h("li", {}, link("#/failed-signins", "Failed sign-ins"), ": rejected credentials, newest last."),
      h(
        "li",
        {},
        link("#/coverage", "Coverage"),
        ": the canary: events attributed to a person by era, and event names or fields nobody has catalogued.",
      ),
    ),
    h(
      "p",
      { class: "note" },
      "All times are UTC. The same answers are available as JSON under ",
      h("code", {}, "api/"),
      ".",
    ),
  );
  announce("");
}

/** The value a search redirected from, kept in the box on the view it led to. */
let searchedFor;

async function searchView(query) {
  searchInput.value = query;
  searchedFor = query;
  announce(`Searching for ${query}…`);
  const result = await api("/search", { q: query });
  if (result.kind === "access-key") return location.replace(accessKeyHref(result.accessKeyId));
  if (result.kind === "role-session") return location.replace(roleSessionHref(result.roleSessionId));
  if (result.kind === "session") return location.replace(sessionHref(result.credentialId));
  if (result.kind === "address") return location.replace(addressHref(result.sourceIp));
  if (result.users.length === 1) return location.replace(userHref(result.users[0]));
  show(
    `${result.users.length} people match “${query}”`,
    table(
      `People whose ${result.kind === "external-id" ? "external id" : "id, name or email"} is ${query}`,
      ["Person", "User name", "Identity store", "User id"],
      result.users,
      {
        cells: (user) => [
          link(userHref(user), userLabel(user)),
          user.userName ?? "",
          user.identityStoreId,
          user.userId,
        ],
      },
    ),
  );
  announce(`${result.users.length} people match ${query}`);
}

function profile(user, extra = []) {
  return facts([
    ["Display name", user.displayName ?? h("span", { class: "empty" }, "unknown")],
    ["User name", user.userName ?? h("span", { class: "empty" }, "unknown")],
    ["Emails", list(user.emails)],
    [
      "External ids",
      list(user.externalIds, (external) =>
        h(
          "span",
          {},
          h("span", { class: "mono" }, external.id),
          " ",
          h("span", { title: external.issuer }, `(${issuerName(external.issuer)})`),
        ),
      ),
    ],
    ["User id", h("span", { class: "mono" }, user.userId)],
    ["Identity store", h("span", { class: "mono" }, user.identityStoreId)],
    [
      "Directory",
      user.status === "enriched"
        ? tag("found", "ok")
        : user.status === "deleted"
          ? tag("deleted from the directory", "fail")
          : user.status === "unresolved"
            ? tag("unresolved: no directory or mapping names this user yet", "muted")
            : tag("not looked up", "muted"),
    ],
    ...extra,
  ]);
}

/** A session's role sessions in the user view: how many, with writes and errors flagged. */
function roleSessionCount(roleSessions) {
  if (roleSessions.length === 0) return "0";
  const writes = roleSessions.reduce((sum, roleSession) => sum + roleSession.writeCount, 0);
  const errors = roleSessions.reduce((sum, roleSession) => sum + roleSession.errorCount, 0);
  const title = `${count(roleSessions.length, "role session")}: ${count(writes, "write")}, ${count(errors, "error")}`;
  // Marked like a failure count when any call failed; the title says how many.
  return errors > 0
    ? h("span", { class: "tag fail", title }, String(roleSessions.length))
    : h("span", { title }, String(roleSessions.length));
}

/** Role sessions of the person linked to no portal session: all of them, listed or not. */
function unlinkedCount(report) {
  return report.unlinkedRoleSessionCount ?? report.unlinkedRoleSessions?.length ?? 0;
}

async function userView(value, params) {
  announce(`Loading ${value}…`);
  const path = params.get("externalId") ? "/users" : `/users/${encodeURIComponent(value)}`;
  const query = {
    externalId: params.get("externalId"),
    issuer: params.get("issuer"),
    identityStoreId: params.get("identityStoreId"),
  };
  // One cursor pages the portal sessions and the role sessions linked to none.
  const report = await apiAll(path, ["sessions", "unlinkedRoleSessions"], query);
  const user = report.user;
  const canonical = { identityStoreId: user.identityStoreId };
  // An unresolved sign-in name (no person known yet) has no failed sign-ins or alerts of its own.
  const unresolved = user.status === "unresolved";
  const [failures, alerts] = unresolved
    ? [{ failures: [] }, []]
    : await Promise.all([
        apiAll(`/users/${encodeURIComponent(user.userId)}/failed-signins`, "failures", canonical),
        userAlerts(user),
      ]);
  const sessions = [...report.sessions].reverse();
  const withErrors = failures.failures.some((event) => event.errorCode);
  show(
    userLabel(user),
    h("p", { class: "subtitle" }, user.userName && user.displayName ? user.userName : ""),
    profile(user, [
      ["Events", String(report.eventCount)],
      [
        "Role sessions",
        `${report.roleSessionCount ?? 0}${unlinkedCount(report) ? ` (${unlinkedCount(report)} not linked to a portal session)` : ""}`,
      ],
    ]),
    h("h2", { id: "sessions" }, `Sessions (${report.sessionCount})`),
    sessions.length === 0
      ? empty("No sessions recorded.")
      : table(
          "Newest first. Keyed sessions carry AWS's session id; inferred ones group events without one, split after an idle hour.",
          [
            "Session",
            "First seen",
            "Last seen",
            "Length",
            "Events",
            "Addresses",
            "Accounts and roles",
            h("span", {}, "Role", h("br"), "sessions"),
            "Factors",
            "Failures",
          ],
          sessions,
          {
            rowClass: (session) => (session.failures > 0 ? "failed" : false),
            rowData: (session) => ({ credentialId: session.credentialId }),
            cellClass: { 4: "num", 7: "num", 9: "num" },
            cells: (session) => [
              h(
                "span",
                {},
                link(
                  sessionHref(session.credentialId),
                  h("span", { class: "mono nowrap" }, shortId(session.credentialId)),
                ),
                h("br"),
                session.inferred ? tag("inferred", "muted") : tag("keyed", "ok"),
              ),
              h("span", { class: "nowrap" }, timeElement(session.firstSeen)),
              h("span", { class: "nowrap" }, timeElement(session.lastSeen)),
              between(session.firstSeen, session.lastSeen),
              String(session.eventCount),
              addressLinks(session.sourceIps),
              session.roles.length > 0 ? list(session.roles.map(roleText)) : list(session.accounts),
              roleSessionCount(session.roleSessions ?? []),
              list(session.factors),
              session.failures > 0 ? tag(String(session.failures), "fail") : "0",
            ],
          },
        ),
    report.truncated
      ? h("p", { class: "note" }, "Only the first sessions are shown; use the API for the rest.")
      : null,
    report.unlinkedRoleSessions?.length
      ? [
          h("h2", { id: "unlinked" }, `Role sessions without a portal session (${unlinkedCount(report)})`),
          roleSessionsTable(
            report.unlinkedRoleSessions,
            "Attributed to this person, but no grant of theirs was found near their creation: the portal session may lie outside the archive.",
          ),
          report.unlinkedRoleSessions.length < unlinkedCount(report)
            ? h(
                "p",
                { class: "note" },
                `Only the first ${report.unlinkedRoleSessions.length} of ${unlinkedCount(report)} are shown; use the API for the rest.`,
              )
            : null,
        ]
      : null,
    h("h2", { id: "failed" }, `Failed sign-ins (${failures.failures.length})`),
    failures.failures.length === 0
      ? empty("No rejected credentials.")
      : table(
          "Rejected credentials attributed to this person, newest first.",
          ["Time", "Address", "Factor", ...(withErrors ? ["Error"] : []), "Sign-in workflow"],
          [...failures.failures].reverse(),
          {
            rowClass: () => "failed",
            rowData: (event) => ({ eventId: event.eventId }),
            cells: (event) => [
              timeElement(event.eventTime),
              event.sourceIp
                ? link(addressHref(event.sourceIp), h("span", { class: "mono" }, event.sourceIp))
                : "",
              event.credentialType ?? "",
              ...(withErrors ? [event.errorCode ?? ""] : []),
              h("span", { class: "mono" }, event.authWorkflowId ?? ""),
            ],
          },
        ),
    alertsSection(alerts),
  );
  announce(
    `${userLabel(user)}: ${count(report.sessionCount, "session")}, ${count(failures.failures.length, "failed sign-in")}, ${count(alerts.length, "alert")}.`,
  );
}

/** This person's alerts, newest first. */
async function userAlerts(user) {
  const result = await apiAll(`/users/${encodeURIComponent(user.userId)}/alerts`, "alerts", {
    identityStoreId: user.identityStoreId,
  });
  return [...result.alerts].reverse();
}

function alertsSection(alerts) {
  return [
    h("h2", { id: "alerts" }, `Alerts (${alerts.length})`),
    alerts.length === 0 ? empty("No alerts for this person.") : alertsTable(alerts, false),
  ];
}

const RULE_LABEL = {
  "brute-force": "Brute force",
  "password-spray": "Password spray",
  "mfa-attack": "MFA attack",
  "success-after-failures": "Sign-in after failures",
  "unknown-user-names": "Unknown user names",
};

/** The person or address an alert is about, as links into their views. */
function alertSubject(alert) {
  if (alert.subject.type === "user") {
    const label = alert.user?.displayName || alert.user?.userName || alert.subject.userId;
    return link(userHref(alert.subject), label);
  }
  const people = alert.users ?? [];
  return h(
    "span",
    {},
    "address ",
    link(addressHref(alert.subject.sourceIp), h("span", { class: "mono" }, alert.subject.sourceIp)),
    people.length > 0
      ? [
          h("br"),
          `${alert.distinctUsers ?? people.length} people: `,
          list(people.slice(0, 5), (person) => link(userHref(person), person.userName ?? person.userId)),
          people.length > 5 ? ` and ${people.length - 5} more` : null,
        ]
      : null,
  );
}

function alertsTable(alerts, withSubject) {
  return table(
    "Newest first.",
    [
      "Alert",
      "Severity",
      ...(withSubject ? ["About"] : []),
      "First seen",
      "Last seen",
      "Events",
      "Addresses",
      "Sessions",
    ],
    alerts,
    {
      rowClass: (alert) => (alert.severity === "high" || alert.severity === "critical" ? "failed" : false),
      rowData: (alert) => ({ alertId: alert.id }),
      cellClass: { [withSubject ? 5 : 4]: "num" },
      cells: (alert) => [
        h("strong", { class: "nowrap" }, RULE_LABEL[alert.rule] ?? alert.rule),
        tag(alert.severity, alert.severity),
        ...(withSubject ? [alertSubject(alert)] : []),
        h("span", { class: "nowrap" }, timeElement(alert.firstSeen)),
        h("span", { class: "nowrap" }, timeElement(alert.lastSeen)),
        String(alert.count),
        addressLinks(alert.sourceIps),
        list(alert.credentialIds, (id) =>
          link(sessionHref(id), h("span", { class: "mono nowrap" }, shortId(id))),
        ),
      ],
    },
  );
}

function timelineRow(event, start) {
  const failed = event.outcome === "failure";
  const details = [
    h("span", { class: "mono" }, event.eventName),
    event.credentialType ? h("span", {}, `factor ${event.credentialType}`) : null,
    event.accountId ? h("span", {}, `account ${event.accountId}`) : null,
    event.roleName ? h("span", {}, `permission set ${event.roleName}`) : null,
    event.sourceIp ? h("span", {}, link(addressHref(event.sourceIp), event.sourceIp)) : null,
    event.userAgent
      ? h(
          "span",
          { title: event.userAgent },
          event.userAgent.slice(0, 60) + (event.userAgent.length > 60 ? "…" : ""),
        )
      : null,
  ];
  return h(
    "li",
    {
      class: failed ? "failed" : false,
      dataset: {
        eventId: event.eventId,
        eventName: event.eventName,
        outcome: event.outcome,
        eventTime: event.eventTime,
      },
    },
    h(
      "div",
      { class: "when" },
      clockElement(event.eventTime),
      h(
        "span",
        { class: "offset", title: "since the session's first event" },
        `+${between(start, event.eventTime)}`,
      ),
    ),
    h("span", { class: `dot cat-${event.category}`, "aria-hidden": "true" }),
    h(
      "div",
      { class: "what" },
      h("span", { class: "title" }, describe(event)),
      tag(CATEGORY_LABEL[event.category] ?? event.category, `cat-${event.category}`),
      failed ? [" ", tag("FAILED", "fail")] : null,
      event.errorCode ? [" ", h("span", { class: "error" }, event.errorCode)] : null,
      h("div", { class: "detail" }, details),
    ),
  );
}

async function sessionView(credentialId) {
  announce("Loading session…");
  const session = await apiAll(`/sessions/${encodeURIComponent(credentialId)}`, "events");
  const summary = session.summary;
  const inferred = credentialId.startsWith("inferred:");
  const roleSessions = session.roleSessions ?? [];
  const marks = roleSessions.length > 0 ? await roleSessionEvents(roleSessions) : new Map();
  show(
    h("span", {}, "Session ", h("span", { class: "mono" }, shortId(credentialId))),
    session.user
      ? h("p", { class: "breadcrumb" }, "Belongs to ", link(userHref(session.user), userLabel(session.user)))
      : h("p", { class: "breadcrumb empty" }, "No user attributed"),
    facts([
      ["Session id", h("span", { class: "mono" }, credentialId)],
      [
        "Kind",
        inferred ? "inferred (events without a session id, grouped by time)" : "keyed (AWS session id)",
      ],
      ["First seen", timeElement(summary.firstSeen)],
      [
        "Last seen",
        h("span", {}, timeElement(summary.lastSeen), ` (+${between(summary.firstSeen, summary.lastSeen)})`),
      ],
      ["Events", String(summary.eventCount)],
      ["Addresses", addressLinks(summary.sourceIps)],
      ["Sign-in factors", list(summary.factors)],
      ["Accounts", list(summary.accounts)],
      ["Roles", list(summary.roles.map(roleText))],
      ["Failures", summary.failures > 0 ? tag(String(summary.failures), "fail") : "0"],
      ["Signed out", summary.signedOut ? "yes" : "no"],
    ]),
    h("h2", { id: "role-sessions" }, `Role sessions (${roleSessions.length})`),
    roleSessions.length === 0
      ? empty(
          summary.roles.length > 0
            ? "No calls in member accounts are stored for the credentials this session was granted."
            : "This session was granted no role credentials.",
        )
      : [
          lanesPicture(session, roleSessions, marks),
          roleSessionsTable(
            roleSessions,
            "What the person did with the access this session was granted, by creation; open one for its calls.",
          ),
        ],
    h("h2", { id: "timeline-heading" }, "Timeline (UTC)"),
    h("p", { class: "note" }, "Times in UTC; offsets from the first event."),
    h(
      "ol",
      { class: "timeline", "aria-labelledby": "timeline-heading" },
      session.events.map((event) => timelineRow(event, summary.firstSeen)),
    ),
    session.truncated
      ? h("p", { class: "note" }, "Only the first events are shown; use the API for the rest.")
      : null,
  );
  announce(
    `Session with ${count(summary.eventCount, "event")}${summary.failures ? `, ${summary.failures} failed` : ""}, ${count(roleSessions.length, "role session")}.`,
  );
}

// ---------- role sessions ----------

/** Axis steps, from 1 s to a day: the first that gives at most six ticks is used. */
const TICK_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
].map((seconds) => seconds * 1000);

/** Role sessions whose events are fetched to place marks, one request each; the rest are drawn as bars only. */
const MARKED_ROLE_SESSIONS = 12;

const LINK_KIND = { exact: "ok", probable: "medium", unlinked: "muted" };
const LINK_MEANING = {
  exact: "issued by this person's grant of the same account and permission set, within 2 s of its creation",
  probable: "the only grant of this person, account and permission set within 120 s of its creation",
  unlinked: "no grant of this person near its creation: the portal session may lie outside the archive",
};
const ATTRIBUTION_LABEL = {
  onBehalfOf: "named by AWS (onBehalfOf)",
  parent: "chained from another role session",
  "by-session-name": "by session name",
  ambiguous: "ambiguous session name",
  unattributed: "unattributed",
};

const linkTag = (value) =>
  h("span", { class: `tag ${LINK_KIND[value] ?? "muted"}`, title: LINK_MEANING[value] }, value);
const permissionSetOf = (roleSession) => roleSession.permissionSet ?? roleSession.roleName;
const laneKey = (roleSession) => `${roleSession.accountId}/${permissionSetOf(roleSession)}`;

/** What a role-session event was, for the picture and the tables: a write, a read, an error or the issue. */
function callKind(event) {
  if (event.errorCode) return "error";
  if (event.kind === "issue") return "issue";
  return event.readOnly === false ? "write" : event.readOnly === true ? "read" : "call";
}

/** `sts GetCallerIdentity`: the service's short name and the call. */
const callName = (event) => `${event.eventSource.replace(/\.amazonaws\.com$/, "")} ${event.eventName}`;

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/**
 * The events of the first role sessions, one page each, for the marks of the lanes picture. A lane whose
 * events could not be read is drawn without marks; only a stale navigation is passed on.
 */
async function roleSessionEvents(roleSessions) {
  const marked = roleSessions.slice(0, MARKED_ROLE_SESSIONS);
  const answers = await Promise.allSettled(
    marked.map((roleSession) =>
      api(`/role-sessions/${encodeURIComponent(roleSession.id)}`, { limit: PAGE_LIMIT }),
    ),
  );
  const events = new Map();
  for (const [index, answer] of answers.entries()) {
    if (answer.status === "rejected" && answer.reason instanceof Stale) throw answer.reason;
    if (answer.status === "fulfilled") {
      events.set(marked[index].id, { events: answer.value.events, more: Boolean(answer.value.nextCursor) });
    }
  }
  return events;
}

/**
 * The picture of a portal session: one lane for its own events, one per account and permission set its
 * grants opened, on one time axis. Bars span each role session from creation to its last call; marks are
 * its calls (a short tick reads, a tall one writes, a red cross errors), and a dashed line joins a grant to
 * the role session it issued. Each bar is a link to that role session's activity.
 */
function lanesPicture(session, roleSessions, marks) {
  const times = [
    session.summary.firstSeen,
    session.summary.lastSeen,
    ...roleSessions.flatMap((roleSession) => [roleSession.creationDate, roleSession.lastSeen]),
  ]
    .filter(Boolean)
    .map((time) => Date.parse(time))
    .filter((time) => !Number.isNaN(time));
  const start = Math.min(...times);
  const end = Math.max(start + 60_000, ...times);
  const lanes = [...new Set(roleSessions.map(laneKey))];
  const WIDTH = 1000;
  const LABEL = 210;
  const RIGHT = 24;
  const LANE = 44;
  const TOP = 6;
  const height = TOP + LANE * (lanes.length + 1) + 40;
  const x = (iso) => LABEL + ((Date.parse(iso) - start) / (end - start)) * (WIDTH - LABEL - RIGHT);
  const laneY = (index) => TOP + LANE * index + LANE / 2;
  const title = (text) => svg("title", {}, text);

  const parts = [];
  // Lane backgrounds and labels.
  const labels = [
    ["Portal session", "sign-in, portal, grants"],
    ...lanes.map((lane) => {
      const [accountId, ...rest] = lane.split("/");
      return [accountId, rest.join("/")];
    }),
  ];
  for (const [index, [first, second]] of labels.entries()) {
    const y = laneY(index);
    parts.push(
      svg("rect", {
        class: index % 2 === 0 ? "lane" : "lane alt",
        x: 0,
        y: y - LANE / 2,
        width: WIDTH,
        height: LANE,
      }),
      svg(
        "g",
        {},
        title(`${first} ${second}`),
        svg(
          "text",
          { class: index === 0 ? "lane-label portal" : "lane-label", x: 8, y: y - 3 },
          clip(first, 26),
        ),
        svg("text", { class: "lane-sublabel", x: 8, y: y + 12 }, clip(second, 30)),
      ),
    );
  }
  // The axis: round offsets from the start, the clock time at the start.
  const axisY = TOP + LANE * labels.length + 4;
  const startIso = new Date(start).toISOString();
  const step = TICK_STEPS.find((candidate) => (end - start) / candidate <= 6) ?? TICK_STEPS.at(-1);
  parts.push(svg("line", { class: "axis", x1: LABEL, x2: WIDTH - RIGHT, y1: axisY, y2: axisY }));
  for (let offset = 0; offset <= end - start; offset += step) {
    const at = new Date(start + offset).toISOString();
    const tickX = x(at);
    parts.push(svg("line", { class: "tick", x1: tickX, x2: tickX, y1: TOP, y2: axisY + 4 }));
    // The start's clock time takes the room of the first offsets after it.
    if (offset === 0 || tickX - LABEL > 110) {
      parts.push(
        svg(
          "text",
          { class: "tick-label", x: tickX, y: axisY + 18, "text-anchor": offset === 0 ? "start" : "middle" },
          offset === 0 ? utc(at).slice(11) : `+${between(startIso, at)}`,
        ),
      );
    }
  }
  // The portal session's own events.
  const portalY = laneY(0);
  const grantTimes = new Map(session.events.map((event) => [event.eventId, event.eventTime]));
  for (const event of session.events) {
    parts.push(
      svg(
        "circle",
        {
          class: `mark portal-mark cat-${event.category}${event.outcome === "failure" ? " failure" : ""}`,
          cx: x(event.eventTime),
          cy: portalY,
          r: 5,
        },
        title(`${utc(event.eventTime)} ${describe(event)}${event.outcome === "failure" ? " (FAILED)" : ""}`),
      ),
    );
  }
  // Role sessions: the grant that issued each, its span, and its calls.
  for (const roleSession of roleSessions) {
    const y = laneY(lanes.indexOf(laneKey(roleSession)) + 1);
    const grantTime = roleSession.grantEventId ? grantTimes.get(roleSession.grantEventId) : undefined;
    if (grantTime) {
      parts.push(
        svg("line", { class: "issue-line", x1: x(grantTime), x2: x(grantTime), y1: portalY + 6, y2: y - 8 }),
      );
    }
    const from = x(roleSession.creationDate || roleSession.firstSeen);
    const to = x(roleSession.lastSeen || roleSession.creationDate);
    const counts = `${count(roleSession.eventCount, "call")}, ${roleSession.writeCount} writes, ${roleSession.errorCount} errors`;
    parts.push(
      svg(
        "a",
        {
          href: roleSessionHref(roleSession.id),
          class: `rs-link link-${roleSession.link}`,
          "aria-label": `Role session ${laneKey(roleSession)} created ${utc(roleSession.creationDate)}: ${counts}`,
          "data-role-session-id": roleSession.id,
        },
        title(
          `${laneKey(roleSession)}, created ${utc(roleSession.creationDate)}, link ${roleSession.link}: ${counts}`,
        ),
        svg("rect", { class: "rs-bar", x: from, y: y - 7, width: Math.max(4, to - from), height: 14, rx: 3 }),
      ),
    );
    for (const event of marks.get(roleSession.id)?.events ?? []) {
      const kind = callKind(event);
      const at = x(event.eventTime);
      const label = title(
        `${utc(event.eventTime)} ${callName(event)} (${kind}${event.errorCode ? ` ${event.errorCode}` : ""})`,
      );
      if (kind === "error") {
        parts.push(
          svg(
            "g",
            { class: "mark call-error", "data-kind": kind },
            label,
            svg("line", { x1: at - 5, x2: at + 5, y1: y - 12, y2: y - 2 }),
            svg("line", { x1: at - 5, x2: at + 5, y1: y - 2, y2: y - 12 }),
          ),
        );
      } else if (kind === "issue") {
        parts.push(
          svg(
            "path",
            { class: "mark call-issue", "data-kind": kind, d: `M${at - 5} ${y - 16} h10 l-5 8 z` },
            label,
          ),
        );
      } else {
        const tall = kind === "write";
        parts.push(
          svg(
            "line",
            {
              class: `mark call-${kind}`,
              "data-kind": kind,
              x1: at,
              x2: at,
              y1: y - (tall ? 17 : 11),
              y2: y + (tall ? 17 : 11),
            },
            label,
          ),
        );
      }
    }
  }
  const accounts = new Set(roleSessions.map((roleSession) => roleSession.accountId)).size;
  const writes = roleSessions.reduce((sum, roleSession) => sum + roleSession.writeCount, 0);
  const errors = roleSessions.reduce((sum, roleSession) => sum + roleSession.errorCount, 0);
  const unmarked = roleSessions.filter((roleSession) => !marks.has(roleSession.id)).length;
  const cut = [...marks.values()].some((entry) => entry.more);
  const issued = [...marks.values()].some((entry) => entry.events.some((event) => event.kind === "issue"));
  return h(
    "figure",
    { class: "lanes" },
    svg(
      "svg",
      {
        viewBox: `0 0 ${WIDTH} ${height}`,
        width: "100%",
        role: "group",
        "aria-labelledby": "lanes-caption",
      },
      parts,
    ),
    h(
      "figcaption",
      { id: "lanes-caption" },
      `Where and when: the portal session and ${count(roleSessions.length, "role session")} in ${count(accounts, "account")} (${count(writes, "write")}, ${count(errors, "error")}). `,
      h(
        "span",
        { class: "legend" },
        h("span", { class: "key key-read", "aria-hidden": "true" }),
        "read ",
        h("span", { class: "key key-write", "aria-hidden": "true" }),
        "write ",
        h("span", { class: "key key-error", "aria-hidden": "true" }),
        "error ",
        h("span", { class: "key key-bar", "aria-hidden": "true" }),
        "role session, from creation to last call ",
        h("span", { class: "key key-issue", "aria-hidden": "true" }),
        "grant that issued it",
        issued
          ? [
              h("span", { class: "key key-assume", "aria-hidden": "true" }),
              "credentials issued (AssumeRoleWithSAML)",
            ]
          : null,
      ),
      unmarked > 0 ? ` The last ${unmarked} role sessions are drawn without their calls.` : "",
      cut ? " Only the first 1000 calls of a role session are marked." : "",
    ),
  );
}

function roleSessionsTable(roleSessions, caption) {
  return table(
    caption,
    [
      "Role session",
      "Account",
      "Permission set",
      "Link",
      "Attributed",
      "Created",
      "Active",
      "Calls",
      "Writes",
      "Errors",
    ],
    roleSessions,
    {
      rowData: (roleSession) => ({ roleSessionId: roleSession.id }),
      rowClass: (roleSession) => (roleSession.errorCount > 0 ? "failed" : false),
      cellClass: { 7: "num", 8: "num", 9: "num" },
      cells: (roleSession) => [
        link(roleSessionHref(roleSession.id), h("span", { class: "mono nowrap" }, shortId(roleSession.id))),
        h("span", { class: "mono" }, roleSession.accountId),
        roleSession.parentId
          ? [permissionSetOf(roleSession), " ", tag("chained", "muted")]
          : permissionSetOf(roleSession),
        linkTag(roleSession.link),
        ATTRIBUTION_LABEL[roleSession.attribution] ?? roleSession.attribution,
        h("span", { class: "nowrap" }, timeElement(roleSession.creationDate)),
        roleSession.firstSeen ? between(roleSession.creationDate, roleSession.lastSeen) : "",
        String(roleSession.eventCount),
        String(roleSession.writeCount),
        roleSession.errorCount > 0 ? tag(String(roleSession.errorCount), "fail") : "0",
      ],
    },
  );
}

function roleSessionFacts(roleSession, extra = []) {
  return facts([
    ["Role session id", h("span", { class: "mono" }, roleSession.id)],
    ["Account", h("span", { class: "mono" }, roleSession.accountId)],
    [
      "Permission set",
      roleSession.permissionSet ?? h("span", { class: "empty" }, "not an Identity Center role"),
    ],
    ["Role", h("span", { class: "mono" }, roleSession.roleName)],
    ["Session name", roleSession.sessionName],
    ["Created", timeElement(roleSession.creationDate)],
    [
      "Active",
      roleSession.firstSeen
        ? h("span", {}, timeElement(roleSession.firstSeen), " to ", timeElement(roleSession.lastSeen))
        : h("span", { class: "empty" }, "no calls stored"),
    ],
    [
      "Access keys",
      list(roleSession.accessKeyIds, (key) => link(accessKeyHref(key), h("span", { class: "mono" }, key))),
    ],
    [
      "Link to portal session",
      h("span", {}, linkTag(roleSession.link), " ", LINK_MEANING[roleSession.link] ?? ""),
    ],
    [
      "Attribution",
      h(
        "span",
        {},
        ATTRIBUTION_LABEL[roleSession.attribution] ?? roleSession.attribution,
        roleSession.candidates.length > 1
          ? [": ", list(roleSession.candidates, (candidate) => link(userHref(candidate), candidate.userId))]
          : null,
      ),
    ],
    roleSession.parentId
      ? [
          "Chained from",
          link(roleSessionHref(roleSession.parentId), h("span", { class: "mono" }, roleSession.parentId)),
        ]
      : null,
    roleSession.childIds.length > 0
      ? [
          "Chained into",
          list(roleSession.childIds, (id) => link(roleSessionHref(id), h("span", { class: "mono" }, id))),
        ]
      : null,
    [
      "Calls",
      h(
        "span",
        {},
        `${roleSession.eventCount}, ${count(roleSession.writeCount, "write")}, `,
        roleSession.errorCount > 0 ? tag(count(roleSession.errorCount, "error"), "fail") : "0 errors",
      ),
    ],
    ...extra,
  ]);
}

function ownerLine(user, credentialId) {
  return h(
    "p",
    { class: user ? "breadcrumb" : "breadcrumb empty" },
    user ? ["Belongs to ", link(userHref(user), userLabel(user))] : "No person attributed",
    credentialId
      ? [
          " · portal session ",
          link(sessionHref(credentialId), h("span", { class: "mono" }, shortId(credentialId))),
        ]
      : " · no portal session linked",
  );
}

async function roleSessionView(id) {
  announce("Loading role session…");
  const detail = await apiAll(`/role-sessions/${encodeURIComponent(id)}`, "events");
  const roleSession = detail.roleSession;
  const start = roleSession.creationDate || detail.events[0]?.eventTime;
  show(
    h("span", {}, "Role session ", h("span", { class: "mono" }, laneKey(roleSession))),
    ownerLine(detail.user, detail.credentialId),
    roleSessionFacts(roleSession),
    h("h2", { id: "calls" }, `Activity (${detail.events.length})`),
    detail.events.length === 0
      ? empty("No calls stored for this role session.")
      : table(
          "Every call made with this role session's credentials, in time order; offsets from its creation. Request parameters and responses are never kept.",
          ["Time", "Offset", "Call", "Kind", "Result", "Address", "Access key", "Region", "Resources"],
          detail.events,
          {
            rowClass: (event) => (event.errorCode ? "failed" : false),
            rowData: (event) => ({ eventId: event.eventId, kind: callKind(event) }),
            cells: (event) => [
              h("span", { class: "nowrap" }, timeElement(event.eventTime)),
              `+${between(start, event.eventTime)}`,
              h("span", { class: "mono" }, callName(event)),
              callKind(event) === "write" ? tag("write", "medium") : callKind(event),
              event.errorCode ? tag(event.errorCode, "fail") : tag("ok", "ok"),
              event.sourceIp
                ? link(addressHref(event.sourceIp), h("span", { class: "mono" }, event.sourceIp))
                : "",
              (event.accessKeyId ?? event.issuedAccessKeyId)
                ? h("span", { class: "mono" }, event.accessKeyId ?? event.issuedAccessKeyId)
                : "",
              event.region ?? "",
              list(event.resources, (arn) => h("span", { class: "mono" }, arn)),
            ],
          },
        ),
    detail.truncated
      ? h("p", { class: "note" }, "Only the first calls are shown; use the API for the rest.")
      : null,
  );
  announce(
    `Role session in ${laneKey(roleSession)}: ${count(roleSession.eventCount, "call")}, ${count(roleSession.writeCount, "write")}, ${count(roleSession.errorCount, "error")}.`,
  );
}

/** The GuardDuty pivot: an access key to the person, their directory ids, portal session and sign-in. */
async function accessKeyView(accessKeyId) {
  announce(`Loading ${accessKeyId}…`);
  const answer = await api(`/access-keys/${encodeURIComponent(accessKeyId)}`);
  const { roleSession, user, credentialId, signIn } = answer;
  show(
    h("span", {}, "Access key ", h("span", { class: "mono" }, accessKeyId)),
    h(
      "p",
      { class: "subtitle" },
      `Used in ${laneKey(roleSession)} by `,
      user ? link(userHref(user), userLabel(user)) : h("span", { class: "empty" }, "no person known"),
      ".",
    ),
    h("h2", { id: "person" }, "Person"),
    user
      ? profile(user)
      : empty(
          `No person attributed (${ATTRIBUTION_LABEL[roleSession.attribution] ?? roleSession.attribution}).`,
        ),
    h("h2", { id: "portal" }, "Portal session and sign-in"),
    credentialId
      ? h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Portal session"),
          h("dd", {}, link(sessionHref(credentialId), h("span", { class: "mono" }, shortId(credentialId)))),
          h("dt", {}, "Signed in"),
          h(
            "dd",
            {},
            signIn
              ? timeElement(signIn.eventTime)
              : h("span", { class: "empty" }, "sign-in not in the archive"),
          ),
          h("dt", {}, "Sign-in address"),
          h(
            "dd",
            {},
            signIn?.sourceIp
              ? link(addressHref(signIn.sourceIp), h("span", { class: "mono" }, signIn.sourceIp))
              : h("span", { class: "empty" }, "unknown"),
          ),
          h("dt", {}, "Factors"),
          h("dd", {}, list(signIn?.credentialTypes ?? [])),
        )
      : empty(LINK_MEANING.unlinked),
    h("h2", { id: "role-session" }, "Role session"),
    h(
      "p",
      {},
      link(roleSessionHref(roleSession.id), "Open its activity"),
      ` (${count(roleSession.eventCount, "call")}).`,
    ),
    h("div", { class: "role-session-facts" }, roleSessionFacts(roleSession)),
    answer.roleSessionIds.length > 1
      ? h(
          "p",
          { class: "note" },
          "This key was seen in more than one role session; the latest is shown. Others: ",
          list(
            answer.roleSessionIds.filter((id) => id !== roleSession.id),
            (id) => link(roleSessionHref(id), h("span", { class: "mono" }, id)),
          ),
        )
      : null,
  );
  announce(
    `${accessKeyId}: ${user ? userLabel(user) : "no person known"}, ${laneKey(roleSession)}, link ${roleSession.link}.`,
  );
}

async function addressView(ip) {
  announce(`Loading ${ip}…`);
  const report = await apiAll(`/addresses/${encodeURIComponent(ip)}`, "events");
  const events = [...report.events].reverse();
  show(
    h("span", {}, "Address ", h("span", { class: "mono" }, ip)),
    facts([
      ["Events", String(report.eventCount)],
      ["First seen", timeElement(report.events[0]?.eventTime)],
      ["Last seen", timeElement(report.events[report.events.length - 1]?.eventTime)],
      ["People", list(report.users, (user) => link(userHref(user), userLabel(user)))],
      report.unresolvedWorkflows > 0
        ? ["Not looked up", `${report.unresolvedWorkflows} sign-in workflows (too many to resolve here)`]
        : null,
    ]),
    h("h2", {}, "Events"),
    table(
      "Every event from this address, newest first.",
      ["Time", "Event", "Outcome", "Session", "Account / role"],
      events,
      {
        rowClass: (event) => (event.outcome === "failure" ? "failed" : false),
        rowData: (event) => ({ eventId: event.eventId }),
        cells: (event) => [
          timeElement(event.eventTime),
          h("span", {}, describe(event), " ", h("span", { class: "mono note" }, event.eventName)),
          event.outcome === "failure" ? tag("FAILED", "fail") : tag("ok", "ok"),
          event.credentialId
            ? link(sessionHref(event.credentialId), h("span", { class: "mono" }, shortId(event.credentialId)))
            : "",
          event.roleName ? `${event.accountId}/${event.roleName}` : (event.accountId ?? ""),
        ],
      },
    ),
  );
  announce(
    `${count(report.eventCount, "event")} from ${ip}, ${report.users.length === 1 ? "1 person" : `${report.users.length} people`} named.`,
  );
}

async function failuresView(params) {
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  announce("Loading failed sign-ins…");
  const result = await apiAll("/failed-signins", "failures", { since, until });
  const form = rangeForm("failed-signins", since, until);
  show(
    "Failed sign-ins",
    form,
    failuresChart(result.failures),
    result.failures.length === 0
      ? empty("No failed sign-ins in this range.")
      : table(
          "Rejected credentials, newest first, with the person the sign-in workflow names.",
          ["Time", "Person", "Address", "Factor", "Sign-in workflow"],
          [...result.failures].reverse(),
          {
            rowData: (failure) => ({ eventId: failure.eventId }),
            cells: (failure) => [
              timeElement(failure.eventTime),
              failure.userId
                ? link(userHref(failure), failure.userName ?? failure.userId)
                : h("span", { class: "empty" }, "no such user"),
              failure.sourceIp
                ? link(addressHref(failure.sourceIp), h("span", { class: "mono" }, failure.sourceIp))
                : "",
              failure.credentialType ?? "",
              h("span", { class: "mono" }, failure.authWorkflowId ?? ""),
            ],
          },
        ),
  );
  announce(`${count(result.failures.length, "failed sign-in")}.`);
}

async function alertsView(params) {
  const since = params.get("since") ?? "";
  announce("Loading alerts…");
  const result = await apiAll("/alerts", "alerts", { since });
  const alerts = [...result.alerts].reverse();
  show(
    "Alerts",
    h(
      "p",
      { class: "note" },
      "Brute force, password spray, MFA attacks, sign-ins after failures and unknown user names, as the detections raised them.",
    ),
    alerts.length === 0 ? empty("No alerts.") : alertsTable(alerts, true),
  );
  announce(`${count(result.alerts.length, "alert")}.`);
}

// ---------- charts (drawn here as SVG: no library, no network) ----------

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Consecutive time buckets from `first` to `last` (ISO times), by hour, day, week or month, whichever keeps them
 * under `most`: gaps are drawn as empty buckets, so the axis is time, not a list of the days that had data.
 */
function timeBuckets(first, last, most, allowHours = false) {
  const start = Date.parse(first);
  const end = Date.parse(last);
  const span = Math.max(0, end - start);
  const month = (ms) => new Date(ms).toISOString().slice(0, 7);
  if (allowHours && span / HOUR_MS < most) {
    const from = Math.floor(start / HOUR_MS) * HOUR_MS;
    const hours = Math.floor((end - from) / HOUR_MS) + 1;
    return {
      unit: "hour",
      keys: Array.from({ length: hours }, (_, index) =>
        new Date(from + index * HOUR_MS).toISOString().slice(0, 13),
      ),
      keyOf: (iso) => iso.slice(0, 13),
    };
  }
  const from = Math.floor(start / DAY_MS) * DAY_MS;
  const days = Math.floor((end - from) / DAY_MS) + 1;
  if (days <= most) {
    return {
      unit: "day",
      keys: Array.from({ length: days }, (_, index) =>
        new Date(from + index * DAY_MS).toISOString().slice(0, 10),
      ),
      keyOf: (iso) => iso.slice(0, 10),
    };
  }
  if (days <= most * 7) {
    const weekOf = (iso) => {
      const index = Math.floor((Date.parse(iso.slice(0, 10)) - from) / (7 * DAY_MS));
      return new Date(from + index * 7 * DAY_MS).toISOString().slice(0, 10);
    };
    return {
      unit: "week",
      keys: Array.from({ length: Math.ceil(days / 7) }, (_, index) =>
        new Date(from + index * 7 * DAY_MS).toISOString().slice(0, 10),
      ),
      keyOf: weekOf,
    };
  }
  const keys = [];
  for (let date = new Date(`${month(start)}-01T00:00:00Z`); date.getTime() <= end; ) {
    keys.push(date.toISOString().slice(0, 7));
    date = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
  }
  return { unit: "month", keys, keyOf: (iso) => iso.slice(0, 7) };
}

/** A round number at or above `value`, for an axis's top. */
function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * Stacked bars over time buckets, optionally with a rate (0–1) drawn as a line on a right-hand axis.
 * `buckets`: `[{ key, values: { [series]: n }, rate? }]`; `series`: `[{ key, label }]` (the CSS class
 * `seg-<key>` colours it). Each bar group carries `data-bucket` and `data-total`, and a title for pointers;
 * the caption and the tables beside it say the same in text.
 */
function stackedBars({ id, caption, series, buckets, unit, rateLabel }) {
  const WIDTH = 1000;
  const HEIGHT = 240;
  const LEFT = 56;
  const RIGHT = rateLabel ? 52 : 16;
  const TOP = 12;
  const BOTTOM = 36;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const totals = buckets.map((bucket) =>
    series.reduce((sum, entry) => sum + (bucket.values[entry.key] ?? 0), 0),
  );
  const top = niceCeiling(Math.max(0, ...totals));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.min(48, Math.max(1, slot * 0.8));
  // An hour bucket's key is `2026-07-01T00`: shown as a clock time.
  const shown = (key) => (unit === "hour" ? `${key.replace("T", " ")}:00` : key);
  const y = (value) => TOP + plotHeight - (value / top) * plotHeight;
  const parts = [];
  for (const fraction of [0, 0.5, 1]) {
    const at = y(top * fraction);
    parts.push(
      svg("line", { class: "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: at, y2: at }),
      svg(
        "text",
        { class: "tick-label", x: LEFT - 6, y: at + 4, "text-anchor": "end" },
        String(top * fraction),
      ),
    );
    if (rateLabel) {
      parts.push(
        svg(
          "text",
          { class: "tick-label rate-label", x: WIDTH - RIGHT + 6, y: at + 4 },
          `${Math.round(fraction * 100)}%`,
        ),
      );
    }
  }
  for (const [index, bucket] of buckets.entries()) {
    const x = LEFT + index * slot + (slot - barWidth) / 2;
    let base = 0;
    const segments = [];
    const lines = [];
    for (const entry of series) {
      const value = bucket.values[entry.key] ?? 0;
      if (value === 0) continue;
      segments.push(
        svg("rect", {
          class: `seg seg-${entry.key}`,
          x,
          y: y(base + value),
          width: barWidth,
          height: Math.max(0.5, y(base) - y(base + value)),
        }),
      );
      lines.push(`${entry.label} ${value}`);
      base += value;
    }
    const rate =
      bucket.rate === null || bucket.rate === undefined
        ? ""
        : `, ${rateLabel} ${(bucket.rate * 100).toFixed(1)}%`;
    parts.push(
      svg(
        "g",
        { class: "bucket", "data-bucket": bucket.key, "data-total": totals[index] },
        svg(
          "title",
          {},
          `${shown(bucket.key)}: ${totals[index]}${lines.length ? ` (${lines.join(", ")})` : ""}${rate}`,
        ),
        // A full-height, transparent target so that an empty or thin bucket still has its title.
        svg("rect", {
          class: "bucket-target",
          x: LEFT + index * slot,
          y: TOP,
          width: slot,
          height: plotHeight,
        }),
        segments,
      ),
    );
  }
  if (rateLabel) {
    // One line per run of buckets that have a rate: a bucket with nothing to attribute is a gap, not a zero.
    const runs = [[]];
    for (const [index, bucket] of buckets.entries()) {
      if (bucket.rate === null || bucket.rate === undefined) {
        if (runs[runs.length - 1].length > 0) runs.push([]);
        continue;
      }
      runs[runs.length - 1].push([
        LEFT + index * slot + slot / 2,
        TOP + plotHeight - bucket.rate * plotHeight,
      ]);
    }
    for (const points of runs) {
      if (points.length > 1) {
        parts.push(
          svg("polyline", { class: "rate-line", points: points.map((point) => point.join(",")).join(" ") }),
        );
      }
      for (const [cx, cy] of points) parts.push(svg("circle", { class: "rate-point", cx, cy, r: 2.5 }));
    }
  }
  // Three labels on the time axis: first, middle, last bucket.
  const labelled = [...new Set([0, Math.floor((buckets.length - 1) / 2), buckets.length - 1])];
  for (const index of labelled) {
    const bucket = buckets[index];
    if (!bucket) continue;
    const anchor = index === 0 ? "start" : index === buckets.length - 1 ? "end" : "middle";
    const x = anchor === "start" ? LEFT : anchor === "end" ? WIDTH - RIGHT : LEFT + index * slot + slot / 2;
    parts.push(
      svg(
        "text",
        { class: "tick-label", x, y: HEIGHT - BOTTOM + 18, "text-anchor": anchor },
        shown(bucket.key),
      ),
    );
  }
  parts.push(svg("line", { class: "axis", x1: LEFT, x2: WIDTH - RIGHT, y1: y(0), y2: y(0) }));
  return h(
    "figure",
    { class: "chart", id },
    svg(
      "svg",
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: "100%", role: "img", "aria-labelledby": `${id}-caption` },
      parts,
    ),
    h(
      "figcaption",
      { id: `${id}-caption` },
      `${caption} (one bar per ${unit}). `,
      h(
        "span",
        { class: "legend" },
        series.map((entry) => [
          h("span", { class: `key seg-${entry.key}`, "aria-hidden": "true" }),
          `${entry.label} `,
        ]),
        rateLabel ? [h("span", { class: "key key-rate", "aria-hidden": "true" }), rateLabel] : null,
      ),
    ),
  );
}

/** A since/until form that navigates to `route` with the range (the same fields as the failed sign-ins view). */
function rangeForm(route, since, until) {
  return h(
    "form",
    {
      class: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const query = new URLSearchParams();
        for (const name of ["since", "until"]) if (data.get(name)) query.set(name, String(data.get(name)));
        location.hash = `#/${route}${query.size ? `?${query}` : ""}`;
      },
    },
    h("label", { for: "since" }, "Since"),
    h("input", {
      id: "since",
      name: "since",
      value: since,
      placeholder: "2026-07-01 or 2026-07-01T12:00:00Z",
    }),
    h("span"),
    h("label", { for: "until" }, "Until"),
    h("input", { id: "until", name: "until", value: until, placeholder: "ISO-8601 time, UTC" }),
    h("button", { type: "submit" }, "Filter"),
  );
}

const SHAPE_LABELS = {
  old: "old (userName)",
  transitional: "transitional",
  new: "new (IdentityCenterUser)",
  anonymous: "anonymous",
  admin: "admin (IAM)",
};
const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

/** The canary: how many stored events resolved to a person, by shape and over time, and what is uncatalogued. */
async function coverageView(params) {
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  announce("Loading coverage…");
  const report = await api("/coverage", { since, until });
  const shapes = Object.keys(report.byShape);
  let chart = empty("No Identity Center events stored in this range.");
  if (report.days.length > 0) {
    const first = report.days[0].day;
    const last = report.days[report.days.length - 1].day;
    const buckets = timeBuckets(`${first}T00:00:00Z`, `${last}T00:00:00Z`, 120);
    const byKey = new Map(buckets.keys.map((key) => [key, { key, values: {}, expected: 0, attributed: 0 }]));
    for (const day of report.days) {
      const bucket = byKey.get(buckets.keyOf(day.day));
      if (!bucket) continue;
      for (const [shape, events] of Object.entries(day.byShape))
        bucket.values[shape] = (bucket.values[shape] ?? 0) + events;
      bucket.expected += day.expected;
      bucket.attributed += day.attributed;
    }
    const rows = [...byKey.values()].map((bucket) => ({
      ...bucket,
      rate: bucket.expected === 0 ? null : bucket.attributed / bucket.expected,
    }));
    chart = stackedBars({
      id: "coverage-chart",
      caption:
        "Identity Center events stored, by userIdentity shape, and the share of those naming or implying a person that were attributed to one",
      series: shapes.map((shape) => ({ key: shape, label: SHAPE_LABELS[shape] ?? shape })),
      buckets: rows,
      unit: buckets.unit,
      rateLabel: "attributed",
    });
  }
  show(
    "Coverage",
    h(
      "p",
      { class: "note" },
      "The canary: how many stored events resolved to a person in each era of AWS's event shapes, and the event names and userIdentity fields idc-audit has never catalogued (AWS's next change shows up here first).",
    ),
    rangeForm("coverage", since, until),
    facts([
      ["Events", String(report.events)],
      [
        "Attributed",
        `${report.attributed} of ${report.expected} that name or imply a person (${percent(report.rate)})`,
      ],
      report.since ? ["Days", `${report.since} to ${report.until}`] : null,
    ]),
    chart,
    shapes.length === 0
      ? null
      : table(
          "By shape",
          ["Shape", "Events", "Naming or implying a person", "Attributed", "Rate"],
          shapes.map((shape) => ({ shape, ...report.byShape[shape] })),
          {
            rowData: (row) => ({ shape: row.shape }),
            rowClass: (row) => (row.rate !== null && row.rate < 0.9 ? "failed" : false),
            cells: (row) => [
              SHAPE_LABELS[row.shape] ?? row.shape,
              String(row.events),
              String(row.expected),
              String(row.attributed),
              percent(row.rate),
            ],
          },
        ),
    h("h2", { id: "unknown-names" }, `Event names the catalogue does not know (${report.unknown.length})`),
    report.unknown.length === 0
      ? empty("None: every stored event name is catalogued.")
      : table(
          "Stored as category other; add them to the catalogue (packages/core/src/cloudtrail/catalogue.ts).",
          ["Event name", "Source", "Events", "First seen"],
          report.unknown,
          {
            rowClass: () => "failed",
            rowData: (name) => ({ eventName: name.eventName }),
            cells: (name) => [
              h("span", { class: "mono" }, name.eventName),
              name.eventSource,
              String(name.count),
              timeElement(name.firstSeen),
            ],
          },
        ),
    h(
      "h2",
      { id: "new-fields" },
      `userIdentity fields never seen in their shape (${report.newFields.length})`,
    ),
    report.newFields.length === 0
      ? empty("None: every userIdentity field is one its shape is known to carry.")
      : table(
          "Field paths outside the known shapes (packages/core/src/normalize/fields.ts).",
          ["Field", "Events", "First seen"],
          report.newFields,
          {
            rowClass: () => "failed",
            rowData: (field) => ({ path: field.path }),
            cells: (field) => [
              h("span", { class: "mono" }, field.path),
              String(field.count),
              timeElement(field.firstSeen),
            ],
          },
        ),
  );
  announce(
    `${count(report.events, "event")}, ${percent(report.rate)} attributed, ${count(report.unknown.length, "unknown name")}, ${count(report.newFields.length, "new field")}.`,
  );
}

/** Failed sign-ins per hour (a span of up to four days) or per day, split by whether the name was a person. */
function failuresChart(failures) {
  if (failures.length === 0) return null;
  const buckets = timeBuckets(failures[0].eventTime, failures[failures.length - 1].eventTime, 96, true);
  const byKey = new Map(buckets.keys.map((key) => [key, { key, values: {} }]));
  for (const failure of failures) {
    const bucket = byKey.get(buckets.keyOf(failure.eventTime));
    if (!bucket) continue;
    const kind = failure.userId ? "named" : "unnamed";
    bucket.values[kind] = (bucket.values[kind] ?? 0) + 1;
  }
  return stackedBars({
    id: "failures-chart",
    caption: "Failed sign-ins",
    series: [
      { key: "named", label: "for a person" },
      { key: "unnamed", label: "no such user" },
    ],
    buckets: [...byKey.values()],
    unit: buckets.unit,
  });
}

// ---------- routing ----------

/** `#/users/bob%40example.com?identityStoreId=…` → `["users", "bob@example.com"]` and its parameters. */
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const mark = hash.indexOf("?");
  const path = mark === -1 ? hash : hash.slice(0, mark);
  const params = new URLSearchParams(mark === -1 ? "" : hash.slice(mark + 1));
  const segments = path
    .split("/")
    .filter(Boolean)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
  return { segments, params };
}

async function render() {
  const current = ++generation;
  const { segments, params } = parseHash();
  const [first, second] = segments;
  if (first !== "search") {
    searchInput.value = searchedFor ?? "";
    searchedFor = undefined;
  }
  view.setAttribute("aria-busy", "true");
  try {
    if (first === undefined) homeView();
    else if (first === "search" && second) await searchView(second);
    else if (first === "users" && (second || params.get("externalId")))
      await userView(second ?? params.get("externalId"), params);
    else if (first === "sessions" && second) await sessionView(second);
    else if (first === "addresses" && second) await addressView(second);
    else if (first === "role-sessions" && second) await roleSessionView(second);
    else if (first === "access-keys" && second) await accessKeyView(second);
    else if (first === "failed-signins") await failuresView(params);
    else if (first === "alerts") await alertsView(params);
    else if (first === "coverage") await coverageView(params);
    else {
      show("Not found", empty("This page does not exist."));
      announce("Page not found.", true);
    }
  } catch (error) {
    if (error instanceof Stale || current !== generation) return;
    const message = error instanceof ApiFailure ? error.message : `Could not load: ${error.message}`;
    show(
      error instanceof ApiFailure && error.status === 404 ? "Nothing found" : "Something went wrong",
      h("p", {}, message),
    );
    announce(message, true);
  } finally {
    if (current === generation) view.removeAttribute("aria-busy");
  }
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = searchInput.value.trim();
  if (!value) {
    announce("Type something to search for.", true);
    searchInput.focus();
    return;
  }
  const target = `#/search/${encodeURIComponent(value)}`;
  if (location.hash === target) render();
  else location.hash = target;
});

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    searchInput.focus();
    searchInput.select();
  }
});

window.addEventListener("hashchange", () => {
  focusOnRender = true;
  render();
});
render();
