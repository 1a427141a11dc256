import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { IngestCounts } from "@idc-audit/core/ingest";
import { steadySpray, synthDirectory, synthEvents, writeArchive } from "@idc-audit/core/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, spawnCli } from "../support/cli.ts";
import { eventsDir, loadEvent } from "../support/fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SYNTH = { events: 3000, users: 40, seed: 11 } as const;
const archive = join(scratch, "archive");
const directoryFile = join(scratch, "directory.json");

type Counts = IngestCounts;
interface UserReport {
  user: { userId: string; userName: string | null };
  eventCount: number;
  sessions: { credentialId: string; inferred: boolean; eventCount: number }[];
}

/** Sessions, user views and failures of every user: the answers that must not depend on delivery. */
async function answers(dataDir: string, userNames: string[]) {
  const users: Record<string, unknown> = {};
  const timelines: Record<string, unknown> = {};
  for (const name of userNames) {
    const report = json<UserReport>(await runCli(["user", name, "--data-dir", dataDir, "--json"]));
    users[name] = report;
    for (const session of report.sessions.filter((entry) => !entry.inferred).slice(0, 2)) {
      timelines[session.credentialId] = json(
        await runCli(["timeline", session.credentialId, "--data-dir", dataDir, "--json"]),
      );
    }
  }
  const failures = json(await runCli(["failed-signins", "--data-dir", dataDir, "--json"]));
  // The canary's counters: the same totals whatever the order, batching and duplicates of delivery.
  const coverage = json(await runCli(["coverage", "--data-dir", dataDir, "--json"]));
  return { users, timelines, failures, coverage };
}

/**
 * Runs the CLI and, like `head -c 1000`, reads 1,000 bytes of one of its output streams, then closes that pipe
 * while the CLI still has much more to write.
 */
async function closeEarly(args: string[], closed: "stdout" | "stderr") {
  const child = spawnCli(args);
  child.stdin.end();
  // What the CLI writes on its other stream, read to the end.
  let other = "";
  (closed === "stdout" ? child.stderr : child.stdout).on("data", (chunk) => (other += chunk));
  let received = 0;
  const pipe = child[closed];
  pipe.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received >= 1000) pipe.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, received, other };
}

describe("idc-audit CLI on a generated archive", () => {
  beforeAll(async () => {
    await writeArchive(archive, { ...SYNTH, recordsPerFile: 250 });
    writeFileSync(directoryFile, JSON.stringify(synthDirectory(SYNTH)));
  });

  it("fixes how far its heaps grow past what a collection keeps, unless node is given a growth of its own", async () => {
    // V8 prints the factor of each new heap limit it sets after a full collection: "Limit: … (2.0)".
    const factors = async (nodeArgs: string[]) => {
      const result = await runCli(["normalize", archive], { nodeArgs: ["--trace-gc-verbose", ...nodeArgs] });
      expect(result.code).toBe(0);
      return [...result.stdout.matchAll(/\] Limit: old size: .*\((\d+\.\d+)\)$/gm)].map((match) => match[1]);
    };
    const fixed = await factors([]);
    expect(fixed.length).toBeGreaterThan(0);
    expect(new Set(fixed)).toEqual(new Set(["2.0"]));
    const own = await factors(["--heap-growing-percent=150"]);
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own)).toEqual(new Set(["2.5"]));
  });

  it("accounts for every record, and re-ingesting shuffled and duplicated deliveries changes no answer", async () => {
    const ordered = join(scratch, "ordered");
    const first = json<Counts>(
      await runCli(["ingest", archive, "--data-dir", ordered, "--directory", directoryFile, "--json"]),
    );
    expect(first.read).toBe(SYNTH.events);
    expect(first.read).toBe(first.stored + first.duplicates + first.ignored + first.rejected);
    expect(first.stored).toBeGreaterThan(SYNTH.events * 0.8);

    // The same events, shuffled, split differently and partly duplicated, as NDJSON on stdin.
    const records = [...synthEvents(SYNTH)];
    let seed = 5;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const shuffled = records.map((record) => ({ record, key: random() })).sort((a, b) => a.key - b.key);
    const deliveries = [
      ...shuffled.map((entry) => entry.record),
      ...records.filter((_, index) => index % 7 === 0),
    ];
    const stdin = deliveries.map((record) => JSON.stringify(record)).join("\n");
    const shuffledDir = join(scratch, "shuffled");
    const second = json<Counts>(
      await runCli(
        [
          "ingest",
          "-",
          "--data-dir",
          shuffledDir,
          "--directory",
          directoryFile,
          "--json",
          "--batch-size",
          "97",
        ],
        {
          stdin,
        },
      ),
    );
    expect(second.read).toBe(deliveries.length);
    expect(second.stored).toBe(first.stored);
    // Every extra delivery is a duplicate, except those of other services' events: they stay ignored.
    const extraIgnored = second.ignored - first.ignored;
    expect(second.duplicates).toBe(first.duplicates + (deliveries.length - records.length) - extraIgnored);

    const userNames = synthDirectory(SYNTH)
      .Users.slice(0, 6)
      .map((user) => String(user.UserName));
    const expected = await answers(ordered, userNames);
    expect(Object.keys(expected.timelines).length).toBeGreaterThan(3);
    // The generator writes only catalogued names and known fields.
    expect(expected.coverage).toMatchObject({ newFields: [], unknown: [] });
    expect((expected.coverage as { events: number }).events).toBeGreaterThan(SYNTH.events / 2);
    expect(await answers(shuffledDir, userNames)).toEqual(expected);
  });

  it("ends quietly with exit 0 when its reader closes the pipe early (| head)", async () => {
    const { code, received, other: stderr } = await closeEarly(["normalize", archive], "stdout");
    expect(received).toBeGreaterThanOrEqual(1000);
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });

  it("ends quietly with exit 0 when its stderr pipe is closed early (2>&1 | head)", async () => {
    // Prepare: files of invalid lines, each reported on stderr, far more than a pipe holds.
    const garbage = join(scratch, "garbage");
    mkdirSync(garbage, { recursive: true });
    const event = JSON.stringify(loadEvent("new/Logout__success.json"));
    for (let file = 0; file < 5; file += 1)
      writeFileSync(join(garbage, `bad-${file}.json`), `${event}\n${"not json\n".repeat(900)}`);
    const { code, received } = await closeEarly(["normalize", garbage], "stderr");
    expect(received).toBeGreaterThanOrEqual(1000);
    expect(code).toBe(0);
  });

  it("re-ingesting the same archive stores nothing new", async () => {
    const dataDir = join(scratch, "twice");
    json(await runCli(["ingest", archive, "--data-dir", dataDir, "--directory", directoryFile, "--json"]));
    const again = json<Counts>(
      await runCli(["ingest", archive, "--data-dir", dataDir, "--directory", directoryFile, "--json"]),
    );
    expect(again.stored).toBe(0);
    expect(again.duplicates).toBe(again.read - again.ignored - again.rejected);
  });
});

/** A spray's records, in the order given, ingested in batches of `batchSize`; then `alerts` on the same store. */
async function ingestSpray(
  name: string,
  spray: ReturnType<typeof steadySpray>,
  records: readonly unknown[],
  batchSize: number,
) {
  const input = join(scratch, `${name}.ndjson`);
  writeFileSync(input, records.map((record) => JSON.stringify(record)).join("\n"));
  const directory = join(scratch, `${name}-directory.json`);
  writeFileSync(directory, JSON.stringify(spray.directory));
  const dataDir = join(scratch, name);
  const ingested = await runCli([
    ...["ingest", input, "--data-dir", dataDir, "--directory", directory, "--batch-size", String(batchSize)],
  ]);
  const listed = await runCli(["alerts", "--data-dir", dataDir]);
  return { ingested, listed };
}

/** The alert lines of `ingest`'s or `alerts`' output, sorted. */
const alertLines = (output: string) =>
  output
    .split("\n")
    .filter((line) => line.startsWith("  "))
    .sort();

describe("idc-audit ingest's new alerts", () => {
  it("prints an alert whose first event came last under the id it is stored with", async () => {
    // Prepare: 60 failures 10 s apart, for the one person of the directory and for a name that matches nobody,
    // newest first, in batches of 10 records: each alert is raised on its last failures, then starts earlier
    // (and is named anew) with every later batch.
    const spray = steadySpray({
      failures: 60,
      everyMs: 10_000,
      users: 1,
      seed: 19,
      sourceIp: "198.18.0.80",
      start: "2026-06-05T00:00:00Z",
    });
    // Act
    const { ingested, listed } = await ingestSpray("reversed", spray, [...spray.records].reverse(), 10);
    // Assess: the alerts as `alerts` lists them, ids included (before, as first raised: ids stored nowhere).
    expect(ingested.code).toBe(0);
    expect(alertLines(listed.stdout).length).toBeGreaterThan(0);
    expect(alertLines(ingested.stdout)).toEqual(alertLines(listed.stdout));
  });

  it("prints each alert as it stands once the whole input is in, not as it was first paged", async () => {
    // Prepare: a failure every 10 s for 4 hours from one address, alternately for the one person in the directory
    // and a name that matches nobody; ingested in batches of 200 records, so that both alerts are paged early.
    const spray = steadySpray({
      failures: 1500,
      everyMs: 10_000,
      users: 1,
      seed: 17,
      sourceIp: "198.18.0.79",
      start: "2026-06-04T00:00:00Z",
    });
    // Act
    const { ingested, listed } = await ingestSpray("brute-force", spray, spray.records, 200);
    // Assess: two new alerts, printed with every failure of the attack, as `alerts` lists them.
    expect(ingested.code).toBe(0);
    expect(ingested.stdout).toContain("2 new alerts");
    expect(alertLines(ingested.stdout)).toEqual(alertLines(listed.stdout));
    expect(alertLines(ingested.stdout).join("\n")).toContain(`brute-force`);
    expect(alertLines(ingested.stdout).join("\n")).toContain(`${spray.expected.passwordSpray} events`);
  });
});

describe("idc-audit CLI contract", () => {
  const dataDir = join(scratch, "fixtures");

  it("ingests the bundled archive and lists rejected inputs, keeping them in the dead-letter file", async () => {
    const result = await runCli([
      "ingest",
      join(eventsDir, "archive"),
      join(eventsDir, "malformed"),
      "--data-dir",
      dataDir,
      "--directory",
      join(eventsDir, "directory.json"),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/read \d+ records: \d+ stored, 1 duplicates, \d+ ignored, \d+ rejected/);
    expect(result.stdout).toContain("truncated.json");
    const deadLetter = readFileSync(join(dataDir, "dead-letter.ndjson"), "utf8").trim().split("\n");
    expect(deadLetter.length).toBeGreaterThanOrEqual(8);
    for (const line of deadLetter)
      expect(JSON.parse(line)).toMatchObject({ location: expect.any(String), reason: expect.any(String) });
    // Names, emails, addresses and rejected records: readable by their user only (before, 755 and 644).
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect([dataDir, join(dataDir, "dynamodb"), join(dataDir, "dead-letter.ndjson")].map(mode)).toEqual([
      "700",
      "700",
      "600",
    ]);
  });

  it("refuses to answer a query from a data dir that holds no store, naming it, and creates nothing there", async () => {
    const typo = join(scratch, "fixturse");
    for (const args of [["failed-signins"], ["alerts", "--json"], ["user", "bobsmith@example.com"]]) {
      const result = await runCli([...args, "--data-dir", typo]);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toContain(`no idc-audit store in ${typo}`);
      if (args.includes("--json")) expect(JSON.parse(result.stdout).error).toContain("no idc-audit store");
    }
    expect(existsSync(typo)).toBe(false);
  });

  it("says once, at the end, that the directory failed and what to do", async () => {
    // Prepare: live Identity Store lookups that cannot be made (no region anywhere).
    const { AWS_REGION: _region, AWS_DEFAULT_REGION: _default, ...env } = process.env;
    // Act
    const result = await runCli(
      [
        "ingest",
        join(eventsDir, "old"),
        "--identity-store-id",
        "d-1234567890",
        "--data-dir",
        join(scratch, "no-region"),
      ],
      { env },
    );
    // Assess: the events stored, and each kind of failure named once with its count and reason (before, nothing
    // was said).
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/read \d+ records: \d+ stored/);
    expect(result.stderr).toMatch(
      /^idc-audit: warning: user name lookup failed \(\d+ times\): DirectoryError$/m,
    );
    expect(result.stderr).toMatch(/^idc-audit: warning: identity store lookup failed.*Region is missing$/m);
    expect(result.stderr).toContain("then run idc-audit enrich with them");
    expect(result.stderr.split("\n").filter((line) => line.includes("user name lookup failed"))).toHaveLength(
      1,
    );
  });

  it("names the people of an archive ingested with no directory once enrich is given an export, and their role session once ingested again with it", async () => {
    // Prepare: the bundled archive ingested with no directory.
    const late = join(scratch, "directory-later");
    const bob = ["user", "94d00cd8-e9e6-4810-b177-b08e84725435", "--data-dir", late, "--json"];
    const directory = ["--directory", join(eventsDir, "directory.json")];
    expect((await runCli(["ingest", join(eventsDir, "archive"), "--data-dir", late])).code).toBe(0);
    const before = json<{ user: { status: string }; roleSessionCount: number }>(await runCli(bob));
    // Act: enrich with the export; then the same archive again, with it.
    const enriched = await runCli(["enrich", "--data-dir", late, ...directory]);
    const named = json<{ user: { status: string; displayName: string } }>(await runCli(bob));
    const again = await runCli(["ingest", join(eventsDir, "archive"), "--data-dir", late, ...directory]);
    const after = json<{ roleSessionCount: number }>(await runCli(bob));
    // Assess: before, unenriched with no role session (both stayed so for good: enrich retried nobody, and the
    // second ingest's duplicates touched nothing); then his name, then his role session.
    expect(before).toMatchObject({ user: { status: "unenriched" }, roleSessionCount: 0 });
    expect(enriched.stdout).toMatch(/refreshed [1-9]\d* from the export/);
    expect(named.user).toMatchObject({ status: "enriched", displayName: "Bob Smith" });
    expect(again.stdout).toMatch(/0 stored, \d+ duplicates/);
    expect(after.roleSessionCount).toBe(1);
  });

  it("says why demo found nothing to show", async () => {
    const empty = join(scratch, "empty-archive");
    mkdirSync(empty, { recursive: true });
    const result = await runCli(["demo", empty, "--data-dir", join(scratch, "demo-empty")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`idc-audit: no portal session in ${empty}`);
  });

  it("says what to change, exit 2, for options and files it cannot use", async () => {
    const file = join(scratch, "not-a-folder");
    writeFileSync(file, "");
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const cases: [string[], string][] = [
        [["export", "--format", "ocsf", "--out", file], `--out ${file} is a file`],
        [
          ["finding", join(eventsDir, "new", "Logout__success.json")],
          "Logout__success.json: the document is not a GuardDuty finding",
        ],
        [["user", "bob", "--external-id", "X"], "not both"],
        [["normalize", join(eventsDir, "new"), "--out", scratch], "--out goes with --format ocsf"],
        [["serve", "--port", String(port)], `port ${port} is in use`],
      ];
      for (const [args, message] of cases) {
        const result = await runCli([...args, "--data-dir", dataDir]);
        expect(result.code, args.join(" ")).toBe(2);
        expect(result.stderr, args.join(" ")).toContain(message);
      }
    } finally {
      busy.close();
    }
  });

  it("exits 2 when --since is after --until", async () => {
    for (const command of ["failed-signins", "alerts", "coverage", "export"]) {
      const result = await runCli([
        command,
        "--since",
        "2026-07-02",
        "--until",
        "2026-07-01",
        "--data-dir",
        dataDir,
      ]);
      expect(result.code, command).toBe(2);
      expect(result.stderr).toContain("--since 2026-07-02T00:00:00Z is after --until 2026-07-01T00:00:00Z");
    }
  });

  it("prints a session timeline as JSON, ordered by time then event id", async () => {
    const event = loadEvent("new/GetRoleCredentials__success.json");
    const credentialId = (event.userIdentity as { credentialId: string }).credentialId;
    const timeline = json<{
      credentialId: string;
      user: { userName: string };
      events: { eventTime: string; eventId: string; eventName: string }[];
    }>(await runCli(["timeline", credentialId, "--data-dir", dataDir, "--json"]));
    expect(timeline.credentialId).toBe(credentialId);
    expect(timeline.user.userName).toBe("bobsmith@example.com");
    expect(timeline.events.map((entry) => entry.eventName)).toContain("GetRoleCredentials");
    const order = timeline.events.map((entry) => `${entry.eventTime}#${entry.eventId}`);
    expect(order).toEqual([...order].sort());
  });

  it("pivots from an Okta external id to the person's sessions", async () => {
    const report = json<UserReport>(
      await runCli([
        "user",
        "--external-id",
        "00u1abcdEFGHijkl2345",
        "--issuer",
        "https://example.okta.com",
        "--data-dir",
        dataDir,
        "--json",
      ]),
    );
    expect(report.user.userName).toBe("bobsmith@example.com");
    expect(report.sessions.length).toBeGreaterThanOrEqual(3);
    expect(report.eventCount).toBe(report.sessions.reduce((sum, session) => sum + session.eventCount, 0));
  });

  it("asks the directory for an external id that no stored profile carries yet", async () => {
    const bare = join(scratch, "no-directory");
    json(await runCli(["ingest", join(eventsDir, "new"), "--data-dir", bare, "--json"]));
    const unknown = await runCli(["user", "--external-id", "00u1abcdEFGHijkl2345", "--data-dir", bare]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no user known");
    const report = json<UserReport>(
      await runCli([
        "user",
        "--external-id",
        "00u1abcdEFGHijkl2345",
        "--issuer",
        "https://example.okta.com",
        "--directory",
        join(eventsDir, "directory.json"),
        "--data-dir",
        bare,
        "--json",
      ]),
    );
    expect(report.user.userId).toBe("94d00cd8-e9e6-4810-b177-b08e84725435");
    expect(report.eventCount).toBeGreaterThan(5);
  });

  it("normalizes to NDJSON without storing anything", async () => {
    const result = await runCli(["normalize", join(eventsDir, "envelopes/cloudtrail-log.json.gz")]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toHaveProperty("eventId");
  });

  it("exits 1 with a message, and an error document with --json, for a session it holds no events of", async () => {
    const human = await runCli(["timeline", "no-such-session", "--data-dir", dataDir]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/idc-audit: no events for session no-such-session/);
    const asJson = await runCli(["timeline", "no-such-session", "--data-dir", dataDir, "--json"]);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual({ error: "no events for session no-such-session" });
  });

  it("exits 2 with a clear message on bad usage", async () => {
    const missing = await runCli(["ingest", join(scratch, "no-such-folder"), "--data-dir", dataDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file or folder");
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    const badTime = await runCli(["failed-signins", "--since", "yesterday", "--data-dir", dataDir]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("ISO-8601");
  });

  it("exits non-zero with a clear message when the store cannot be reached", async () => {
    const result = await runCli([
      "timeline",
      "x",
      "--endpoint",
      "http://127.0.0.1:9",
      "--table",
      "t",
      "--region",
      "us-east-1",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/idc-audit: StoreError: DescribeTable failed/);
  });

  it("answers coverage: unknown names and new userIdentity fields once each, as JSON and as text", async () => {
    const dataDir = join(scratch, "coverage");
    const base = loadEvent("new/ListAccounts__success.json");
    const variant = (id: number, change: (raw: Record<string, unknown>) => void) => {
      const raw = structuredClone(base);
      raw.eventID = `d0000000-0000-4000-8000-${String(id).padStart(12, "0")}`;
      change(raw);
      return JSON.stringify(raw);
    };
    const lines = [
      JSON.stringify(base),
      variant(1, (raw) => {
        raw.eventName = "https://portal.sso.us-east-1.amazonaws.com/instance/appinstances?code=secret";
      }),
      variant(2, (raw) => {
        raw.eventName = "https://portal.sso.us-east-1.amazonaws.com/instance/appinstances?code=other";
      }),
      variant(3, (raw) => {
        (raw.userIdentity as Record<string, unknown>).sessionScope = "portal";
      }),
    ];
    const ingest = await runCli(["ingest", "-", "--data-dir", dataDir, "--json"], {
      stdin: `${lines.join("\n")}\n`,
    });
    expect(ingest.code).toBe(0);
    const report = json<{
      events: number;
      rate: number;
      unknown: unknown[];
      newFields: unknown[];
    }>(await runCli(["coverage", "--data-dir", dataDir, "--json"]));
    expect(report.events).toBe(4);
    expect(report.rate).toBe(1);
    expect(report.unknown).toEqual([
      {
        eventSource: "sso.amazonaws.com",
        eventName: "https://portal.sso.us-east-1.amazonaws.com/instance/appinstances",
        count: 2,
        firstSeen: base.eventTime,
      },
    ]);
    expect(report.newFields).toEqual([{ path: "sessionScope", count: 1, firstSeen: base.eventTime }]);
    const text = await runCli(["coverage", "--data-dir", dataDir]);
    expect(text.stdout).toContain("4 of 4 that name or imply a person attributed (100.0%)");
    expect(text.stdout).toContain("sessionScope  1 events");
    expect(text.stdout).not.toContain("secret");
  });

  it("reads gzip from stdin like a file", async () => {
    const gz = gzipSync(readFileSync(join(eventsDir, "envelopes/cloudtrail-log.json")));
    writeFileSync(join(scratch, "x.json.gz"), gz);
    const fromFile = await runCli(["normalize", join(scratch, "x.json.gz")]);
    const fromStdin = await runCli(["normalize", "-"], { stdin: gz });
    expect(fromFile.code).toBe(0);
    expect(fromStdin.code).toBe(0);
    const lines = fromStdin.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((line) => typeof JSON.parse(line).eventId === "string")).toBe(true);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });
});
