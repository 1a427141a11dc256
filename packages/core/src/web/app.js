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

/** Every item of a paginated list (`field`), following `nextCursor`; the first page's document is kept. */
async function apiAll(path, field, params = {}) {
  const first = await api(path, { ...params, limit: PAGE_LIMIT });
  const items = [...first[field]];
  let cursor = first.nextCursor;
  let pages = 1;
  while (cursor && pages < MAX_PAGES) {
    const next = await api(path, { ...params, limit: PAGE_LIMIT, cursor });
    items.push(...next[field]);
    cursor = next.nextCursor;
    pages += 1;
  }
  return { ...first, [field]: items, truncated: Boolean(cursor) };
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
      "Search for a person (user name, email, user id or an Okta, Entra ID or AD external id), a portal session id or an IP address.",
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
          : tag("not looked up", "muted"),
    ],
    ...extra,
  ]);
}

async function userView(value, params) {
  announce(`Loading ${value}…`);
  const path = params.get("externalId") ? "/users" : `/users/${encodeURIComponent(value)}`;
  const query = {
    externalId: params.get("externalId"),
    issuer: params.get("issuer"),
    identityStoreId: params.get("identityStoreId"),
  };
  const report = await apiAll(path, "sessions", query);
  const user = report.user;
  const canonical = { identityStoreId: user.identityStoreId };
  const [failures, alerts] = await Promise.all([
    apiAll(`/users/${encodeURIComponent(user.userId)}/failed-signins`, "failures", canonical),
    userAlerts(user),
  ]);
  const sessions = [...report.sessions].reverse();
  const withErrors = failures.failures.some((event) => event.errorCode);
  show(
    userLabel(user),
    h("p", { class: "subtitle" }, user.userName && user.displayName ? user.userName : ""),
    profile(user, [["Events", String(report.eventCount)]]),
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
            "Factors",
            "Failures",
          ],
          sessions,
          {
            rowClass: (session) => (session.failures > 0 ? "failed" : false),
            rowData: (session) => ({ credentialId: session.credentialId }),
            cellClass: { 4: "num", 8: "num" },
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
              list(session.factors),
              session.failures > 0 ? tag(String(session.failures), "fail") : "0",
            ],
          },
        ),
    report.truncated
      ? h("p", { class: "note" }, "Only the first sessions are shown; use the API for the rest.")
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
    `Session with ${count(summary.eventCount, "event")}${summary.failures ? `, ${summary.failures} failed` : ""}.`,
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
  const form = h(
    "form",
    {
      class: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const query = new URLSearchParams();
        for (const name of ["since", "until"]) if (data.get(name)) query.set(name, String(data.get(name)));
        location.hash = `#/failed-signins${query.size ? `?${query}` : ""}`;
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
  show(
    "Failed sign-ins",
    form,
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
    else if (first === "failed-signins") await failuresView(params);
    else if (first === "alerts") await alertsView(params);
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
