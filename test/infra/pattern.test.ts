/**
 * The ingest rules' patterns (infra/pattern.ts, from the core catalogue) against every fixture event in
 * events/: each Identity Center event matches exactly one rule, other services' events match none, and the
 * split rules accept exactly what the catalogue's single pattern accepts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  EVENT_PATTERN_MAX_LENGTH,
  guardDutyFindingPattern,
  ingestRulePatterns,
  roleSessionRulePattern,
} from "../../infra/pattern.ts";
import {
  auditedEvents,
  catalogue,
  eventBridgePattern,
  storedCategory,
} from "../../packages/core/src/cloudtrail/catalogue.ts";
import { classifyItem } from "../../packages/core/src/ingest/run.ts";
import { type Json, matches, type Pattern } from "./event-pattern.ts";
import { ROOT } from "./synth-helper.ts";

type Event = Record<string, Json>;

const EVENTS = path.join(ROOT, "events");
const AUDITED_DIRS = ["old", "transitional", "new", "admin"];

/** The EventBridge envelope CloudTrail puts a record in on the default bus. */
function envelope(record: Event): Event {
  const eventSource = String(record.eventSource);
  return {
    version: "0",
    id: "00000000-0000-0000-0000-000000000000",
    "detail-type": "AWS API Call via CloudTrail",
    source: `aws.${eventSource.split(".")[0]}`,
    account: "111122223333",
    time: String(record.eventTime ?? "2026-01-01T00:00:00Z"),
    region: String(record.awsRegion ?? "us-east-1"),
    resources: [],
    detail: record,
  };
}

const isObject = (value: unknown): value is Event =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** EventBridge events in a parsed fixture: an envelope as is, a record or a `{Records}` log file wrapped. */
function eventsOf(parsed: unknown): Event[] {
  if (Array.isArray(parsed)) return parsed.flatMap(eventsOf);
  if (!isObject(parsed)) return [];
  if (Array.isArray(parsed.Records)) return parsed.Records.filter(isObject).map(envelope);
  if (isObject(parsed.detail) && typeof parsed.source === "string") return [parsed];
  if (typeof parsed.eventSource === "string") return [envelope(parsed)];
  return [];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** Every event in the fixture files under `dir` (.json, .json.gz, .ndjson/.jsonl), with the file it came from. */
function fixtureEvents(dir: string): { file: string; event: Event }[] {
  return filesUnder(dir).flatMap((file) => {
    const name = path.basename(file);
    if (name.endsWith(".expected.json")) return [];
    let text: string;
    if (name.endsWith(".gz")) text = gunzipSync(readFileSync(file)).toString("utf8");
    else if (/\.(json|ndjson|jsonl)$/.test(name)) text = readFileSync(file, "utf8");
    else return [];
    const docs = /\.(ndjson|jsonl)$/.test(name.replace(/\.gz$/, ""))
      ? text.split("\n").filter((line) => line.trim() !== "")
      : [text];
    return docs.flatMap((doc) =>
      eventsOf(JSON.parse(doc)).map((event) => ({ file: path.relative(ROOT, file), event })),
    );
  });
}

const single = eventBridgePattern() as Pattern;
const rules = ingestRulePatterns() as Pattern[];
const matchingRules = (event: Event) => rules.filter((rule) => matches(rule, event)).length;
/** Whether the normalizer stores the event as an Identity Center event (a known name, or `other`). */
const audited = (event: Event) => {
  const detail = event.detail as Event;
  return storedCategory(String(detail.eventSource), String(detail.eventName)) !== undefined;
};

describe("ingest rule patterns", () => {
  it("fit EventBridge's default pattern size quota and use only supported operators", () => {
    expect(JSON.stringify(single).length).toBeGreaterThan(0);
    for (const rule of rules)
      expect(JSON.stringify(rule).length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_LENGTH);
    // The matcher throws on unknown operators: run every rule once.
    for (const rule of rules) matches(rule, envelope({ eventSource: "x", eventName: "y" }));
  });

  it("are the catalogue pattern split by event source, with the full source list on each", () => {
    const branches = (single.detail as { $or: Json[] }).$or;
    const splitBranches = rules.flatMap((rule) => {
      const detail = rule.detail as Record<string, Json>;
      return Array.isArray(detail.$or) ? detail.$or : [detail];
    });
    expect(splitBranches).toEqual(branches);
    for (const rule of rules) expect(rule.source).toEqual(single.source);
  });

  it("accept every catalogue event from its own source and nothing from another source", () => {
    for (const { eventSource, eventName } of auditedEvents()) {
      expect(matchingRules(envelope({ eventSource, eventName })), `${eventSource} ${eventName}`).toBe(1);
    }
    for (const source of catalogue) {
      for (const other of catalogue) {
        for (const eventName of Object.keys(other.events)) {
          const event = envelope({ eventSource: source.eventSource, eventName });
          expect(matchingRules(event) === 1, `${source.eventSource} ${eventName}`).toBe(audited(event));
        }
      }
    }
  });

  it("match every event name of an Identity Center service, known or not, and only signin's three", () => {
    for (const source of catalogue) {
      for (const eventName of ["AnEventAwsAddsTomorrow", "https://portal.sso.us-east-1.amazonaws.com/x"]) {
        const event = envelope({ eventSource: source.eventSource, eventName });
        expect(matchingRules(event), `${source.eventSource} ${eventName}`).toBe(source.everyEvent ? 1 : 0);
        expect(matchingRules(event) === 1).toBe(audited(event));
      }
    }
    const signIn = (eventName: string) => envelope({ eventSource: "signin.amazonaws.com", eventName });
    expect(matchingRules(signIn("ConsoleLogin"))).toBe(0);
    expect(matchingRules(signIn("GetSigninToken"))).toBe(0);
    expect(matchingRules(signIn("CredentialVerification"))).toBe(1);
    expect(matchingRules(envelope({ eventSource: "s3.amazonaws.com", eventName: "ListBuckets" }))).toBe(0);
  });

  it("split equivalently when the limit forces several rules", () => {
    // The longest single-branch rule: any smaller limit cannot be met, this one forces a split.
    const branches = (single.detail as { $or: Pattern[] }).$or;
    const longest = Math.max(
      ...branches.map((branch) => JSON.stringify({ ...single, detail: branch }).length),
    );
    const small = ingestRulePatterns(single, longest) as Pattern[];
    expect(small.length).toBeGreaterThan(rules.length);
    for (const { eventSource, eventName } of auditedEvents()) {
      const event = envelope({ eventSource, eventName });
      expect(small.filter((rule) => matches(rule, event))).toHaveLength(1);
    }
    expect(() => ingestRulePatterns(single, longest - 1)).toThrow(/alone is longer/);
  });
});

describe("fixtures in events/", () => {
  it("exist (events/{old,transitional,new,admin,ignored,roles})", () => {
    for (const dir of [...AUDITED_DIRS, "ignored", "roles"]) {
      expect(fixtureEvents(path.join(EVENTS, dir)).length, `events/${dir}`).toBeGreaterThan(0);
    }
  });

  it.each(AUDITED_DIRS)("events/%s: every Identity Center event matches exactly one ingest rule", (dir) => {
    for (const { file, event } of fixtureEvents(path.join(EVENTS, dir))) {
      expect(matchingRules(event), file).toBe(1);
      expect(matches(single, event), file).toBe(true);
    }
  });

  it("events/ignored: other services' events match no rule", () => {
    for (const { file, event } of fixtureEvents(path.join(EVENTS, "ignored"))) {
      expect(matchingRules(event), file).toBe(0);
    }
  });

  it("envelopes, the archive and the AWS docs samples: matched exactly when the catalogue audits them", () => {
    const checked = ["envelopes", "archive", "aws-docs"].flatMap((dir) => {
      const base = path.join(EVENTS, dir);
      // The docs samples published with a trailing comma are bad input on purpose (also in malformed/).
      return filesUnder(base).flatMap((file) => {
        try {
          return fixtureEvents(file === base ? base : path.dirname(file)).filter(
            (entry) => entry.file === path.relative(ROOT, file),
          );
        } catch {
          return [];
        }
      });
    });
    expect(checked.length).toBeGreaterThan(0);
    for (const { file, event } of checked) {
      expect(matchingRules(event), file).toBe(audited(event) ? 1 : 0);
      expect(matches(single, event), file).toBe(audited(event));
    }
  });
});

const rolePattern = roleSessionRulePattern() as Pattern;
/** What the ingest code makes of an event: an Identity Center event, a role-session event, or neither. */
const kindOf = (event: Event) =>
  classifyItem({ kind: "record", record: event.detail as Record<string, unknown>, location: "fixture" }).kind;

describe("role-session rule pattern", () => {
  it("fits the pattern size quota and uses only supported operators", () => {
    expect(JSON.stringify(rolePattern).length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_LENGTH);
    matches(rolePattern, envelope({ eventSource: "x", eventName: "y" }));
  });

  it("matches every fixture event the ingest code reads as a role session, and no other", () => {
    const dirs = [...AUDITED_DIRS, "ignored", "roles", "envelopes", "archive"];
    const events = dirs.flatMap((dir) => fixtureEvents(path.join(EVENTS, dir)));
    let roleEvents = 0;
    for (const { file, event } of events) {
      const role = kindOf(event) === "role";
      if (role) roleEvents += 1;
      expect(matches(rolePattern, event), `${file} ${String((event.detail as Event).eventName)}`).toBe(role);
    }
    // events/roles' four and the member account's calls in the archive, at least.
    expect(roleEvents).toBeGreaterThanOrEqual(6);
  });

  it("matches AssumeRoleWithSAML only into an AWSReservedSSO_ role, by the requested role's ARN", () => {
    const found = fixtureEvents(path.join(EVENTS, "roles")).find(
      (entry) => (entry.event.detail as Event).eventName === "AssumeRoleWithSAML",
    );
    if (!found) throw new Error("events/roles has no AssumeRoleWithSAML");
    const { event } = found;
    expect(matches(rolePattern, event)).toBe(true);
    const detail = event.detail as { requestParameters: Record<string, Json> };
    const other = structuredClone(event) as Event & { detail: typeof detail };
    other.detail.requestParameters.roleArn = "arn:aws:iam::444455556666:role/saml/OktaAdmin";
    expect(matches(rolePattern, other)).toBe(false);
  });

  it("matches no Identity Center event of the catalogue (those reach the queue by the catalogue rules)", () => {
    for (const dir of ["old", "transitional", "new"]) {
      for (const { file, event } of fixtureEvents(path.join(EVENTS, dir))) {
        expect(matches(rolePattern, event), file).toBe(false);
      }
    }
  });
});

describe("GuardDuty finding rule pattern", () => {
  const guardDuty = guardDutyFindingPattern() as Pattern;
  const guardDutyEvents = () => {
    const variant = JSON.parse(
      readFileSync(path.join(EVENTS, "guardduty", "eventbridge__sso-role-session.json"), "utf8"),
    ) as Event & { detail: { resource: Record<string, Json> } };
    return { variant };
  };

  it("matches the role-session finding as EventBridge delivers it", () => {
    expect(matches(guardDuty, guardDutyEvents().variant)).toBe(true);
  });

  it("matches findings about any temporary key (a role chained from an Identity Center session too)", () => {
    const { variant } = guardDutyEvents();
    const chained = structuredClone(variant);
    (chained.detail.resource.accessKeyDetails as Record<string, Json>).userName = "deploy-role";
    expect(matches(guardDuty, chained)).toBe(true);
  });

  it("does not match findings without a temporary key, nor other events", () => {
    const { variant } = guardDutyEvents();
    const longTerm = structuredClone(variant);
    (longTerm.detail.resource.accessKeyDetails as Record<string, Json>).accessKeyId = "AKIAIOSFODNN7EXAMPLE";
    expect(matches(guardDuty, longTerm)).toBe(false);
    const instance = structuredClone(variant);
    instance.detail.resource = { resourceType: "Instance", instanceDetails: { instanceId: "i-99999999" } };
    expect(matches(guardDuty, instance)).toBe(false);
    for (const { file, event } of fixtureEvents(path.join(EVENTS, "envelopes"))) {
      expect(matches(guardDuty, event), file).toBe(false);
    }
  });
});
