import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "@idc-audit/core/api";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { readCoverage } from "@idc-audit/core/coverage";
import { classifyItem, ingestBatch, ingestStream } from "@idc-audit/core/ingest";
import { normalize } from "@idc-audit/core/normalize";
import type { Runtime } from "@idc-audit/core/runtime";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS } from "../support/browser.ts";
import { ALICE, BOB, eventsDir, loadEvent } from "../support/fixtures.ts";
import { fixtureDirectory, memoryRuntime } from "../support/store.ts";

let runtime: Runtime;
let server: RunningServer;
let browser: BrowserContext;
let page: Page;
let profile: string;
/** Requests the page tried to make anywhere but this server: it must work offline, with no CDN. */
const elsewhere: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  runtime = await memoryRuntime(await fixtureDirectory());
  await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
  server = await startServer(runtime, { port: 0 });
  profile = await mkdtemp(join(tmpdir(), "idc-audit-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  await browser.route("**/*", (route) => {
    if (route.request().url().startsWith(server.url)) return route.continue();
    elsewhere.push(route.request().url());
    return route.abort();
  });
  page = browser.pages()[0] ?? (await browser.newPage());
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await runtime?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Waits until the view the last navigation asked for is on screen. */
async function settled(ready: string) {
  await page.waitForSelector(ready);
  await page.waitForSelector("#view:not([aria-busy])");
}

/** `2026-07-01 00:02:11`, as the timeline prints an event time (the heading says UTC). */
const clock = (iso: string) => new Date(iso).toISOString().slice(0, 19).replace("T", " ");

function offset(from: string, to: string): string {
  const seconds = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  if (seconds < 60) return `+${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return `+${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
}

describe("analyst web page in Chromium", () => {
  it("searches a person by email, opens a session, and shows its timeline exactly as stored", async () => {
    const report = await runtime.queries.user(BOB);
    const credentialId = (
      loadEvent("new/GetRoleCredentials__success.json").userIdentity as { credentialId: string }
    ).credentialId;
    const timeline = await runtime.queries.session(credentialId);

    await page.goto(server.openUrl);
    // The key went into the server's cookie, out of the address bar and the history.
    expect(page.url()).toBe(server.url);
    await page.getByLabel("Search", { exact: true }).fill(BOB.userName);
    await page.keyboard.press("Enter");
    await settled("#sessions");

    // The user view, with focus on its heading and the result announced.
    await expect(page.locator("h1").textContent()).resolves.toBe("Bob Smith");
    await expect(page.evaluate("document.activeElement.tagName")).resolves.toBe("H1");
    await expect(page.locator("#status").textContent()).resolves.toBe(
      `Bob Smith: ${report.sessions.length} sessions, 0 failed sign-ins, 0 alerts.`,
    );
    await expect(page.locator("dl.facts").textContent()).resolves.toContain("00u1abcdEFGHijkl2345 (Okta)");
    const rows = page.locator("#sessions + div tbody tr");
    await expect(
      rows.evaluateAll((list) => list.map((row) => row.getAttribute("data-credential-id"))),
    ).resolves.toEqual(report.sessions.map((session) => session.credentialId).reverse());
    const sessionRow = page.locator(`#sessions + div tbody tr[data-credential-id="${credentialId}"]`);
    await expect(sessionRow.textContent()).resolves.toContain("444455556666/AdministratorAccess");

    // Open the session from its row, by keyboard.
    await sessionRow.locator("a[href^='#/sessions/']").focus();
    await page.keyboard.press("Enter");
    await settled("ol.timeline li");

    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/sessions/${credentialId}`);
    await expect(page.locator(".breadcrumb a").textContent()).resolves.toBe("Bob Smith");
    const shown = await page.locator("ol.timeline > li").evaluateAll((items) =>
      items.map((item) => {
        return {
          eventId: item.getAttribute("data-event-id"),
          eventName: item.getAttribute("data-event-name"),
          outcome: item.getAttribute("data-outcome"),
          time: item.querySelector("time")?.textContent,
          offset: item.querySelector(".offset")?.textContent,
          title: item.querySelector(".title")?.textContent,
          failed: item.classList.contains("failed"),
        };
      }),
    );
    const first = timeline.events[0]?.eventTime ?? "";
    expect(shown).toEqual(
      timeline.events.map((event) => ({
        eventId: event.eventId,
        eventName: event.eventName,
        outcome: event.outcome,
        time: clock(event.eventTime),
        offset: offset(first, event.eventTime),
        title: expect.any(String),
        failed: event.outcome === "failure",
      })),
    );
    const titles = shown.map((row) => row.title);
    expect(titles).toContain("Role credentials for 444455556666 / AdministratorAccess");
    expect(titles).toContain("Signed in (PASSWORD)");
    expect(titles.at(-1)).toBe("Signed out");
  });

  it("highlights a failed sign-in in a session and returns to the search box with /", async () => {
    const report = await runtime.queries.user(ALICE);
    const inferred = report.sessions.find((session) => session.inferred);
    const timeline = await runtime.queries.session(inferred?.credentialId ?? "");
    const failures = timeline.events.filter((event) => event.outcome === "failure");
    expect(failures.length).toBeGreaterThan(0);

    await page.goto(`${server.openUrl}#/sessions/${encodeURIComponent(inferred?.credentialId ?? "")}`);
    await settled("ol.timeline li");

    const failed = page.locator("ol.timeline > li.failed");
    await expect(
      failed.evaluateAll((items) => items.map((item) => item.getAttribute("data-event-id"))),
    ).resolves.toEqual(failures.map((event) => event.eventId));
    await expect(failed.first().textContent()).resolves.toContain("FAILED");
    await expect(failed.first().textContent()).resolves.toContain("Credential rejected (PASSWORD)");

    await page.locator("body").press("/");
    await expect(page.evaluate("document.activeElement.id")).resolves.toBe("search-input");
  });

  it("finds a session by its id and an address by IP from the search box, and explains what it cannot find", async () => {
    await page.goto(server.openUrl);
    await page.getByLabel("Search", { exact: true }).fill("198.51.100.77");
    await page.getByRole("button", { name: "Search" }).click();
    await settled("table");
    await expect(page.locator("h1").textContent()).resolves.toBe("Address 198.51.100.77");
    await expect(page.locator("dl.facts").textContent()).resolves.toContain("Alice Martin");

    const inferred = (await runtime.queries.user(ALICE)).sessions.find((session) => session.inferred);
    await page.getByLabel("Search", { exact: true }).fill(inferred?.credentialId ?? "");
    await page.keyboard.press("Enter");
    await settled("ol.timeline li");
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/sessions/${inferred?.credentialId}`);
    await expect(page.locator(".breadcrumb a").textContent()).resolves.toBe("Alice Martin");

    await page.getByLabel("Search", { exact: true }).fill("nobody-at-all");
    await page.keyboard.press("Enter");
    // The page stays where it is (no view is rendered, so nothing goes busy): wait for the search's answer.
    await expect
      .poll(() => page.locator("#status").textContent(), { timeout: 10_000 })
      .toBe("nothing known matches nobody-at-all");
    expect(elsewhere).toEqual([]);
  });

  it("draws a portal session's role sessions as lanes and opens one's activity from its bar, by keyboard", async () => {
    const credentialId = (
      loadEvent("new/GetRoleCredentials__success.json").userIdentity as { credentialId: string }
    ).credentialId;
    const { roleSessions } = await runtime.roleQueries.sessionWithRoles(credentialId);
    const [roleSession] = roleSessions;
    if (!roleSession) throw new Error("the fixture archive's role session is missing");
    const detail = await runtime.roleQueries.roleSession(roleSession.id);

    await page.goto(`${server.openUrl}#/sessions/${encodeURIComponent(credentialId)}`);
    await settled("ol.timeline li");

    // One lane for the portal session, one for the account and permission set its grant opened.
    const lanes = page.locator("figure.lanes");
    await expect(lanes.locator("rect.lane").count()).resolves.toBe(2);
    await expect(
      lanes
        .locator("text.lane-label, text.lane-sublabel")
        .evaluateAll((texts) => texts.map((t) => t.textContent)),
    ).resolves.toEqual(["Portal session", "sign-in, portal, grants", "444455556666", "AdministratorAccess"]);
    const bar = lanes.locator(`a.rs-link[data-role-session-id="${roleSession.id}"]`);
    await expect(bar.getAttribute("aria-label")).resolves.toContain("444455556666/AdministratorAccess");
    // A mark per call, by kind: the fixture's calls are reads.
    await expect(
      lanes
        .locator("[data-kind]")
        .evaluateAll((marks) => marks.map((mark) => mark.getAttribute("data-kind"))),
    ).resolves.toEqual(detail?.events.map((event) => (event.readOnly === false ? "write" : "read")));
    await expect(lanes.locator(".portal-mark").count()).resolves.toBe(
      (await runtime.queries.session(credentialId)).events.length,
    );
    const row = page.locator(`tr[data-role-session-id="${roleSession.id}"]`);
    await expect(row.textContent()).resolves.toContain("AdministratorAccess");
    await expect(row.locator(".tag").textContent()).resolves.toBe("exact");
    await expect(page.locator("#status").textContent()).resolves.toBe(
      "Session with 9 events, 1 role session.",
    );

    await bar.focus();
    await page.keyboard.press("Enter");
    await settled("#calls + div tbody tr");

    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/role-sessions/${roleSession.id}`);
    await expect(page.locator(".breadcrumb a").first().textContent()).resolves.toBe("Bob Smith");
    await expect(
      page
        .locator("#calls + div tbody tr")
        .evaluateAll((rows) => rows.map((tr) => tr.getAttribute("data-event-id"))),
    ).resolves.toEqual(detail?.events.map((event) => event.eventId));
    await expect(page.locator("#calls + div tbody").textContent()).resolves.toContain(
      "sts GetCallerIdentity",
    );
    expect(elsewhere).toEqual([]);
  });

  it("answers an access key from the search box with the person, their Okta id, portal session and sign-in", async () => {
    const answer = await runtime.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1");

    await page.goto(server.openUrl);
    await page.getByLabel("Search", { exact: true }).fill("ASIA3EXAMPLEROLEKEY1");
    await page.keyboard.press("Enter");
    await settled("#person");

    expect(new URL(page.url()).hash).toBe("#/access-keys/ASIA3EXAMPLEROLEKEY1");
    await expect(page.locator("h1").textContent()).resolves.toBe("Access key ASIA3EXAMPLEROLEKEY1");
    await expect(page.evaluate("document.activeElement.tagName")).resolves.toBe("H1");
    const person = page.locator("#person + dl.facts");
    await expect(person.textContent()).resolves.toContain("Bob Smith");
    await expect(person.textContent()).resolves.toContain("00u1abcdEFGHijkl2345 (Okta)");
    await expect(page.locator(".subtitle a").getAttribute("href")).resolves.toBe(
      `#/users/${BOB.userId}?identityStoreId=${BOB.identityStoreId}`,
    );
    const portal = page.locator("#portal + dl.facts");
    await expect(portal.locator("a[href^='#/sessions/']").getAttribute("href")).resolves.toBe(
      `#/sessions/${encodeURIComponent(answer?.credentialId ?? "")}`,
    );
    await expect(portal.textContent()).resolves.toContain("203.0.113.24");
    await expect(page.locator("#status").textContent()).resolves.toBe(
      "ASIA3EXAMPLEROLEKEY1: Bob Smith, 444455556666/AdministratorAccess, link exact.",
    );
    expect(elsewhere).toEqual([]);
  });
  it("draws the coverage view: events per day by shape, the attribution rate, unknown names and new fields", async () => {
    // Prepare: one event of a name nobody catalogued and one with a userIdentity field never seen.
    const unknown = loadEvent("new/ListAccounts__success.json");
    unknown.eventID = "f0000000-0000-4000-8000-000000000001";
    unknown.eventName = "ListAccountsV2";
    const withField = loadEvent("new/ListAccountRoles__success.json");
    withField.eventID = "f0000000-0000-4000-8000-000000000002";
    (withField.userIdentity as Record<string, unknown>).sessionScope = "portal";
    await runtime.pipeline.ingest(
      [unknown, withField].map((raw) => {
        const result = normalize(raw);
        if (result.status !== "audited") throw new Error("fixture not audited");
        return result.record;
      }),
    );
    const report = await readCoverage(runtime.store);

    // Act: from the navigation, as a user would.
    await page.goto(server.openUrl);
    await page.getByRole("link", { name: "Coverage", exact: true }).first().click();
    await settled("#coverage-chart");

    // Assess: every event is in one bar, each bar's parts add up, the rate is drawn where it is defined.
    expect(new URL(page.url()).hash).toBe("#/coverage");
    const chart = page.locator("#coverage-chart");
    const buckets = await chart.locator("g.bucket").evaluateAll((groups) =>
      groups.map((group) => ({
        key: group.getAttribute("data-bucket"),
        total: Number(group.getAttribute("data-total")),
        parts: group.querySelectorAll("rect.seg").length,
      })),
    );
    expect(buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(report.events);
    const daysWithEvents = new Set(report.days.map((day) => day.day.slice(0, 7)));
    expect(buckets.filter((bucket) => bucket.total > 0).length).toBeGreaterThanOrEqual(
      Math.min(daysWithEvents.size, report.days.length),
    );
    for (const bucket of buckets) expect(bucket.parts > 0).toBe(bucket.total > 0);
    const shapes = await chart
      .locator("rect.seg")
      .evaluateAll((rects) => [...new Set(rects.map((rect) => rect.getAttribute("class")))].sort());
    expect(shapes).toEqual(
      Object.keys(report.byShape)
        .map((shape) => `seg seg-${shape}`)
        .sort(),
    );
    await expect(chart.locator("circle.rate-point").count()).resolves.toBeGreaterThan(0);
    await expect(chart.locator("figcaption").textContent()).resolves.toContain("one bar per");
    await expect(page.locator("dl.facts").textContent()).resolves.toContain(
      `${report.attributed} of ${report.expected} that name or imply a person`,
    );
    await expect(
      page
        .locator("#unknown-names + div tbody tr")
        .evaluateAll((rows) => rows.map((row) => row.dataset.eventName)),
    ).resolves.toEqual(["ListAccountsV2"]);
    await expect(
      page.locator("#new-fields + div tbody tr").evaluateAll((rows) => rows.map((row) => row.dataset.path)),
    ).resolves.toEqual(["sessionScope"]);
    await expect(page.locator("#status").textContent()).resolves.toBe(
      `${report.events} events, ${((report.rate ?? 0) * 100).toFixed(1)}% attributed, 1 unknown name, 1 new field.`,
    );
    expect(elsewhere).toEqual([]);
  });

  it("charts failed sign-ins per hour or day above their table, every failure in one bar", async () => {
    const failures = await runtime.queries.failedSignIns();
    expect(failures.length).toBeGreaterThan(0);
    await page.goto(`${server.openUrl}#/failed-signins`);
    await settled("#failures-chart");
    const chart = page.locator("#failures-chart");
    const totals = await chart
      .locator("g.bucket")
      .evaluateAll((groups) => groups.map((group) => Number(group.getAttribute("data-total"))));
    expect(totals.reduce((sum, total) => sum + total, 0)).toBe(failures.length);
    const named = await chart.locator("rect.seg-named").count();
    const unnamed = await chart.locator("rect.seg-unnamed").count();
    expect(named).toBeGreaterThan(0);
    expect(named + unnamed).toBeGreaterThanOrEqual(totals.filter((total) => total > 0).length);
    await expect(chart.locator("figcaption").textContent()).resolves.toMatch(
      /one bar per (hour|day|week|month)/,
    );
    // The chart comes before the table of the same failures.
    await expect(
      page.locator("#view").evaluate((view) => {
        const figure = view.querySelector("#failures-chart");
        const table = view.querySelector("table");
        return Boolean(
          figure &&
            table && // 4: DOCUMENT_POSITION_FOLLOWING (the tests' types have no DOM).
            figure.compareDocumentPosition(table) & 4,
        );
      }),
    ).resolves.toBe(true);
    expect(elsewhere).toEqual([]);
  });

  // Last: it stores a role session the tests above do not expect.
  it("lists a person's role sessions linked to no portal session, with their count", async () => {
    // Prepare: Bob's member-account call of the fixture archive, made again a day later by a session no grant of
    // his is near (its portal session lies outside the archive).
    let archived: Record<string, unknown> | undefined;
    for await (const item of readInputs([
      join(eventsDir, "archive", "AWSLogs", "o-abc123example", "444455556666"),
    ]))
      if (item.kind === "record") archived ??= item.record;
    const record = structuredClone(archived) as Record<string, unknown> & {
      userIdentity: { accessKeyId: string; sessionContext: { attributes: { creationDate: string } } };
    };
    record.eventID = "0a1b2c3d-0000-4000-8000-00000000d1a1";
    record.eventTime = "2026-07-02T09:01:00Z";
    record.userIdentity.accessKeyId = "ASIA3EXAMPLEROLEKEY9";
    record.userIdentity.sessionContext.attributes.creationDate = "2026-07-02T09:00:00Z";
    const classified = classifyItem({ kind: "record", record, location: "test" });
    if (classified.kind !== "role") throw new Error(`the call was ${classified.kind}`);
    await ingestBatch(runtime.pipeline, { records: [], roleEvents: [classified.event] });
    const report = await runtime.roleQueries.userWithRoles(BOB);
    expect(report.unlinkedRoleSessions.map((view) => view.id)).toEqual([classified.event.roleSessionId]);

    // Act
    await page.goto(server.openUrl);
    await page.getByLabel("Search", { exact: true }).fill(BOB.userName);
    await page.keyboard.press("Enter");
    await settled("#unlinked");

    // Assess: counted beside the linked one, and listed with its call.
    await expect(page.locator("dl.facts").textContent()).resolves.toContain(
      `${report.roleSessionCount} (1 not linked to a portal session)`,
    );
    await expect(page.locator("#unlinked").textContent()).resolves.toBe(
      "Role sessions without a portal session (1)",
    );
    const rows = page.locator("#unlinked + div tbody tr");
    await expect(
      rows.evaluateAll((list) => list.map((row) => row.getAttribute("data-role-session-id"))),
    ).resolves.toEqual([classified.event.roleSessionId]);
    expect(elsewhere).toEqual([]);
  });
});
