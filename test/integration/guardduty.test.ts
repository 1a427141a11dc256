/**
 * The GuardDuty finding function over the embedded store holding the fixture archive: EventBridge "GuardDuty
 * Finding" events in, one SNS message per answered finding id out (SNS mocked with aws-sdk-client-mock).
 */
import { join } from "node:path";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { ingestStream } from "@idc-audit/core/ingest";
import { createGuardDutyFindingHandler, type FindingAlert } from "@idc-audit/core/lambda";
import type { Runtime } from "@idc-audit/core/runtime";
import { type AuditLogger, RejectedRecordError } from "@idc-audit/core/shared";
import { FINDING_RESPONDER_ACTIONS, Keys } from "@idc-audit/core/timeline";
import type { EventBridgeEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SnsFindingSink } from "../../packages/core/src/detect/sns.ts";
import { BOB, eventsDir, loadEvent } from "../support/fixtures.ts";
import {
  consoleExport,
  eventBridgeFinding,
  PUBLISHED_FINDING,
  ROLE_FINDING_CLI,
  ROLE_FINDING_EVENTBRIDGE,
} from "../support/guardduty.ts";
import { changeClientSteps, fixtureDirectory, memoryRuntime } from "../support/store.ts";

const TOPIC = "arn:aws:sns:us-east-1:111122223333:idc-audit-alerts";
const ROLE_KEY = "ASIA3EXAMPLEROLEKEY1";
const OKTA = { issuer: "https://example.okta.com", id: "00u1abcdEFGHijkl2345" };

type Event = EventBridgeEvent<string, unknown>;

let runtime: Runtime;
const actions = new Set<string>();
const sns = mockClient(SNSClient);

beforeAll(async () => {
  runtime = await memoryRuntime(await fixtureDirectory());
  await ingestStream(readInputs([join(eventsDir, "archive")]), runtime.pipeline);
  // Records the DynamoDB operations the handler sends, as IAM action names (cleared before each test).
  changeClientSteps(runtime.store.client, (stack) =>
    stack.add(
      (next, context) => async (args) => {
        actions.add(`dynamodb:${String(context.commandName).replace(/Command$/, "")}`);
        return next(args);
      },
      { step: "initialize", name: "recordFindingActions" },
    ),
  );
});
afterAll(async () => {
  sns.restore();
  await runtime.close();
});
beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "message-1" });
  actions.clear();
});

function recordingLogger() {
  const lines: { level: string; message: string; data: Record<string, unknown> }[] = [];
  const record = (level: string) => (message: string, data?: Record<string, unknown>) =>
    lines.push({ level, message, data: data ?? {} });
  const logger: AuditLogger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
  return { logger, lines };
}

function handlerFor(logger: AuditLogger = recordingLogger().logger) {
  const sink = new SnsFindingSink(
    new SNSClient({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
    TOPIC,
  );
  return createGuardDutyFindingHandler({ logger, sink, openRuntime: async () => runtime });
}

/** The stored role-session finding as EventBridge delivers it, under a finding id of its own. */
function roleFinding(findingId: string): Event {
  const event = loadEvent(ROLE_FINDING_EVENTBRIDGE) as unknown as Event & { detail: Record<string, unknown> };
  event.detail.id = findingId;
  return event;
}

const published = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
const markers = async (findingId: string) => runtime.store.query(Keys.findingPublished(findingId).pk);

describe("GuardDuty finding handler", () => {
  it("publishes the person, external ids, portal session and sign-in address behind the finding's key", async () => {
    const result = await handlerFor()(loadEvent(ROLE_FINDING_EVENTBRIDGE) as unknown as Event);
    expect(result.outcomes).toEqual([
      { findingId: "9e4f5a6b7c8d9e0f1a2b3c4d5example", outcome: "published" },
    ]);
    const messages = published();
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.TopicArn).toBe(TOPIC);
    expect(message?.MessageAttributes?.severity?.StringValue).toBe("medium");
    expect(message?.MessageAttributes?.rule?.StringValue).toBe("guardduty-finding");
    expect(String(message?.Subject).length).toBeLessThanOrEqual(100);
    expect(message?.Subject).toContain(BOB.userName);
    const alert = JSON.parse(String(message?.Message)) as FindingAlert;
    expect(alert.finding).toMatchObject({ accessKeyId: ROLE_KEY, identityCenterRole: true });
    expect(alert.person).toEqual({
      identityStoreId: BOB.identityStoreId,
      userId: BOB.userId,
      userName: BOB.userName,
      displayName: "Bob Smith",
      emails: [BOB.userName],
    });
    expect(alert.externalIds).toEqual([OKTA]);
    expect(alert.credentialId).toMatch(/^AAAAAGQZMrf8/);
    expect(alert.signIn).toEqual({
      eventTime: "2026-07-01T00:02:19Z",
      sourceIp: "203.0.113.24",
      credentialTypes: ["PASSWORD"],
    });
    expect(alert.roleSession).toMatchObject({
      accountId: "444455556666",
      permissionSet: "AdministratorAccess",
      sessionName: BOB.userName,
      link: "exact",
    });
    expect(await markers("9e4f5a6b7c8d9e0f1a2b3c4d5example")).toHaveLength(1);
  });

  it("publishes a finding id once, however often EventBridge delivers it", async () => {
    const handler = handlerFor();
    const outcomes = [];
    for (let delivery = 0; delivery < 3; delivery += 1) {
      outcomes.push(...(await handler(roleFinding("0a0a0a0a0a0a0a0a0a0a0a0a0aonce01"))).outcomes);
    }
    expect(outcomes.map((entry) => entry.outcome)).toEqual([
      "published",
      "already-published",
      "already-published",
    ]);
    expect(published()).toHaveLength(1);
  });

  it("writes the marker only after publishing: a failed publish throws and the next delivery publishes", async () => {
    sns.on(PublishCommand).rejectsOnce(new Error("SNS unavailable")).resolves({ MessageId: "message-2" });
    const handler = handlerFor();
    const findingId = "0b0b0b0b0b0b0b0b0b0b0b0b0bretry1";
    await expect(handler(roleFinding(findingId))).rejects.toThrow(/SNS unavailable/);
    expect(await markers(findingId)).toHaveLength(0);
    expect((await handler(roleFinding(findingId))).outcomes).toEqual([{ findingId, outcome: "published" }]);
    expect(published()).toHaveLength(2);
    expect(await markers(findingId)).toHaveLength(1);
  });

  it("publishes nothing, and marks nothing, for the published AWS sample: its key is no stored role session's", async () => {
    const { logger, lines } = recordingLogger();
    const event = eventBridgeFinding(consoleExport(PUBLISHED_FINDING)) as Event;
    const result = await handlerFor(logger)(event);
    expect(result.outcomes).toEqual([
      { findingId: "1ab92989eaf0e742df4a014d5example", outcome: "unanswered" },
    ]);
    expect(published()).toHaveLength(0);
    expect(await markers("1ab92989eaf0e742df4a014d5example")).toHaveLength(0);
    const [line] = lines;
    expect(line?.message).toMatch(/not answered/);
    // An IAM user's key: not answering it is expected, so it is not a warning.
    expect(line?.level).toBe("info");
    expect(line?.data).toMatchObject({
      findingId: "1ab92989eaf0e742df4a014d5example",
      accessKeyId: "ASIASZ4SI7REEEXAMPLE",
    });
  });

  it("warns, and marks nothing, when a finding about an AWSReservedSSO_ role names a key not stored yet", async () => {
    const { logger, lines } = recordingLogger();
    const event = roleFinding("0f0f0f0f0f0f0f0f0f0f0f0f0fnotyet") as Event & {
      detail: { resource: { accessKeyDetails: Record<string, unknown> } };
    };
    event.detail.resource.accessKeyDetails.accessKeyId = "ASIA3EXAMPLENOTSTORED";
    const result = await handlerFor(logger)(event);
    expect(result.outcomes).toEqual([
      { findingId: "0f0f0f0f0f0f0f0f0f0f0f0f0fnotyet", outcome: "unanswered" },
    ]);
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ["warn", "finding not answered: no role session of its access key is stored"],
    ]);
    expect(published()).toHaveLength(0);
    expect(await markers("0f0f0f0f0f0f0f0f0f0f0f0f0fnotyet")).toHaveLength(0);
  });

  it("fails, saying why, when no alert topic is configured, even for a finding it would not publish", async () => {
    const before = process.env.ALERT_TOPIC_ARN;
    delete process.env.ALERT_TOPIC_ARN;
    try {
      const handler = createGuardDutyFindingHandler({
        logger: recordingLogger().logger,
        openRuntime: async () => runtime,
      });
      const event = eventBridgeFinding(consoleExport(PUBLISHED_FINDING)) as Event;
      await expect(handler(event)).rejects.toThrow("ALERT_TOPIC_ARN is not set");
    } finally {
      if (before !== undefined) process.env.ALERT_TOPIC_ARN = before;
    }
  });

  it("skips a finding that names no access key (an instance finding)", async () => {
    const finding = consoleExport(ROLE_FINDING_CLI);
    finding.id = "0c0c0c0c0c0c0c0c0c0c0c0c0instance";
    finding.resource = { resourceType: "Instance", instanceDetails: { instanceId: "i-99999999" } };
    const result = await handlerFor()(eventBridgeFinding(finding) as Event);
    expect(result.outcomes).toEqual([{ findingId: finding.id, outcome: "no-access-key" }]);
    expect(published()).toHaveLength(0);
  });

  it("rejects an event that is not a GuardDuty finding, naming the event and the reason", async () => {
    const cloudTrail = loadEvent("envelopes/eventbridge__GetRoleCredentials.json") as unknown as Event;
    const { logger, lines } = recordingLogger();
    const error = await handlerFor(logger)(cloudTrail).catch((thrown: unknown) => thrown);
    expect(lines.map((line) => [line.level, line.message, line.data.eventId])).toEqual([
      ["error", "event rejected", cloudTrail.id],
    ]);
    expect(error).toBeInstanceOf(RejectedRecordError);
    expect((error as RejectedRecordError).eventId).toBe(cloudTrail.id);
    expect((error as Error).message).toMatch(
      /detail-type "AWS Service Event via CloudTrail", not "GuardDuty Finding"/,
    );
    const noId = eventBridgeFinding({ resource: {} }, "event-without-finding-id") as Event;
    await expect(handlerFor()(noId)).rejects.toThrow(/event-without-finding-id: .*not a GuardDuty finding/);
    expect(published()).toHaveLength(0);
  });

  it("logs the finding's ids and outcome, never the person, the portal session or the sign-in address", async () => {
    const { logger, lines } = recordingLogger();
    await handlerFor(logger)(roleFinding("0d0d0d0d0d0d0d0d0d0d0d0d0dlogs01"));
    expect(lines.map((line) => line.message)).toEqual(["finding answered and published"]);
    const logged = JSON.stringify(lines);
    expect(logged).toContain("0d0d0d0d0d0d0d0d0d0d0d0d0dlogs01");
    for (const secret of [BOB.userName, BOB.userId, "Bob Smith", "203.0.113.24", "AAAAAGQZMrf8", OKTA.id]) {
      expect(logged).not.toContain(secret);
    }
  });

  it("sends only the DynamoDB actions the function is granted", async () => {
    await handlerFor()(roleFinding("0e0e0e0e0e0e0e0e0e0e0e0e0eacts01"));
    await handlerFor()(roleFinding("0e0e0e0e0e0e0e0e0e0e0e0e0eacts01"));
    expect([...actions].sort()).toEqual([...FINDING_RESPONDER_ACTIONS].sort());
  });
});
