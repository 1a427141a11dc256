// Screenshots of the analyst page for the README: the bundled fixture archive plus synthetic traffic with the
// planted attacks of the detection tests, so every view has something to show.
//   node --import tsx scripts/screenshots.ts
// Drives Debian's Chromium (`apt-get install chromium`) through playwright-core; never downloads a browser.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "@idc-audit/core/api";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { ExportDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import { type NormalizedRecord, normalize } from "@idc-audit/core/normalize";
import { openRuntime } from "@idc-audit/core/runtime";
import { plantAttacks, synthDirectory, synthEvents } from "@idc-audit/core/synth";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS } from "../test/support/browser.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const SYNTH = { events: 1500, users: 60, seed: 21 } as const;

const fixtures = JSON.parse(await readFile(join(root, "events/directory.json"), "utf8")) as {
  Users: unknown[];
};
const directory = ExportDirectory.fromJson({ Users: [...fixtures.Users, ...synthDirectory(SYNTH).Users] });
const runtime = await openRuntime({ inMemory: true, directory });
const profile = await mkdtemp(join(tmpdir(), "idc-audit-shots-"));
const server = await startServer(runtime, { port: 0 });
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: FLAGS,
  viewport: { width: 1280, height: 860 },
});
try {
  await ingestStream(readInputs([join(root, "events/archive")]), runtime.pipeline);
  const synthetic: NormalizedRecord[] = [...synthEvents(SYNTH), ...plantAttacks(SYNTH).records].flatMap(
    (raw) => {
      const result = normalize(raw);
      return result.status === "audited" ? [result.record] : [];
    },
  );
  await runtime.pipeline.ingest(synthetic);

  // The person who signed in after a run of failures: a user view with sessions, failures and an alert.
  const alert = (await runtime.alerts()).find((entry) => entry.rule === "success-after-failures");
  if (alert?.subject.type !== "user") throw new Error("the planted success-after-failures alert is missing");
  const userName = alert.user?.userName ?? alert.subject.userId;

  const page = browser.pages()[0] ?? (await browser.newPage());
  const settle = async (ready: string) => {
    await page.waitForSelector(ready);
    await page.waitForSelector("#view:not([aria-busy])");
  };
  const shoot = async (file: string) => {
    await page.screenshot({ path: join(root, "docs", file), fullPage: true });
    process.stdout.write(`docs/${file}\n`);
  };

  await page.goto(server.openUrl);
  await page.getByLabel("Search", { exact: true }).fill(userName);
  await page.keyboard.press("Enter");
  await settle("#alerts");
  await shoot("screenshot-user.png");

  // The session the alert points at, opened from the user view as an analyst would.
  await page.locator("#alerts ~ div table a[href^='#/sessions/']").first().click();
  await settle("ol.timeline li");
  await shoot("screenshot-session.png");

  await page.goto(`${server.openUrl}#/alerts`);
  await settle("table");
  await shoot("screenshot-alerts.png");

  // The canary's view (shapes by day, the attribution rate) and the failed sign-ins chart.
  await page.goto(`${server.openUrl}#/coverage`);
  await settle("#coverage-chart");
  await shoot("screenshot-coverage.png");
  await page.goto(`${server.openUrl}#/failed-signins`);
  await settle("#failures-chart");
  await shoot("screenshot-failed-signins.png");

  // The GuardDuty pivot: the fixture archive's role-session key, typed into the search box.
  await page.goto(server.openUrl);
  await page.getByLabel("Search", { exact: true }).fill("ASIA3EXAMPLEROLEKEY1");
  await page.keyboard.press("Enter");
  await settle("#person");
  await shoot("screenshot-access-key.png");

  // The portal session that key came from: its lanes of role sessions.
  await page.locator("#portal + dl a[href^='#/sessions/']").click();
  await settle("figure.lanes");
  await shoot("screenshot-role-sessions.png");
} finally {
  await browser.close();
  await server.close();
  await runtime.close();
  await rm(profile, { recursive: true, force: true });
}
