import type { EventBridgeEvent } from "aws-lambda";
import {
  answerFinding,
  type FindingAlert,
  type FindingAnswer,
  type FindingReference,
  type FindingSeverity,
  type FindingSink,
  findingsOf,
} from "../roles/finding.ts";

export type { FindingAlert, FindingSeverity, FindingSink };

import type { Runtime } from "../runtime/index.ts";
import { RejectedRecordError, UsageError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { ItemType } from "../timeline/items.ts";
import { Keys } from "../timeline/keys.ts";
import { containerRuntime, openedOnce } from "./container.ts";

export const GUARDDUTY_FINDING = "GuardDuty Finding";

/** GuardDuty finding ids are 32 hex digits today; anything longer or stranger is not used in a table key. */
const FINDING_ID = /^[A-Za-z0-9._:-]{1,256}$/;

export function severityOf(severity: number | null): FindingSeverity {
  if (severity === null || severity < 4) return "low";
  if (severity < 7) return "medium";
  if (severity < 9) return "high";
  return "critical";
}

/** The alert of an answered finding; undefined when no role session of the key is stored. */
export function findingAlertOf(answer: FindingAnswer): FindingAlert | undefined {
  const { roleSession, user } = answer;
  if (!roleSession) return undefined;
  return {
    kind: "guardduty-finding",
    severity: severityOf(answer.finding.severity),
    finding: answer.finding,
    person: user
      ? {
          identityStoreId: user.identityStoreId,
          userId: user.userId,
          userName: user.userName,
          displayName: user.displayName,
          emails: user.emails,
        }
      : null,
    externalIds: user?.externalIds ?? [],
    credentialId: answer.credentialId ?? null,
    signIn: answer.signIn ?? null,
    roleSession: {
      id: roleSession.id,
      accountId: roleSession.accountId,
      roleName: roleSession.roleName,
      permissionSet: roleSession.permissionSet,
      sessionName: roleSession.sessionName,
      creationDate: roleSession.creationDate,
      link: roleSession.link,
      attribution: roleSession.attribution,
    },
  };
}

export const FindingOutcome = {
  Published: "published",
  /** Published by an earlier delivery of the same finding id. */
  AlreadyPublished: "already-published",
  /** The finding is not about an access key (an instance, a bucket…). */
  NoAccessKey: "no-access-key",
  /** No role session of the key is stored (yet): a later update of the finding is answered again. */
  Unanswered: "unanswered",
} as const;
export type FindingOutcome = (typeof FindingOutcome)[keyof typeof FindingOutcome];

export interface GuardDutyFindingDependencies {
  readonly logger: AuditLogger;
  /** Defaults to the alert topic named by `ALERT_TOPIC_ARN`. */
  readonly sink?: FindingSink;
  readonly openRuntime?: () => Promise<Runtime>;
}

/**
 * The GuardDuty finding function: an EventBridge "GuardDuty Finding" event → the person, external ids, portal
 * session and sign-in behind the finding's access key → one message on the alert topic per finding id. The
 * marker is written after publishing, as the detector's paging markers are: a crash (or two deliveries at the
 * same moment) can publish twice, never zero times. An event that is not a finding is rejected (thrown, so
 * Lambda's asynchronous retries end in the failure destination, which keeps it); a store or SNS failure
 * throws too, and is retried.
 */
export function createGuardDutyFindingHandler(dependencies: GuardDutyFindingDependencies) {
  const { logger } = dependencies;
  const runtime = containerRuntime(dependencies.openRuntime, logger);
  const sink = openedOnce(async () => dependencies.sink ?? (await snsSinkFromEnvironment(process.env)));

  return async (
    event: EventBridgeEvent<string, unknown>,
  ): Promise<{ outcomes: { findingId: string; outcome: FindingOutcome }[] }> => {
    let findings: FindingReference[];
    try {
      findings = readFindings(event);
    } catch (error) {
      // Named by event id and reason only: the event itself is kept by the failure queue, not the logs.
      logger.error("event rejected", {
        eventId: (error as RejectedRecordError).eventId,
        reason: (error as Error).message,
      });
      throw error;
    }
    // The alert sink is opened with the runtime, before any finding is answered: a sink that cannot open
    // (no topic configured) fails the invocation, whether or not a finding would have been published.
    const [{ store, roleQueries }, publisher] = await Promise.all([runtime(), sink()]);
    const outcomes: { findingId: string; outcome: FindingOutcome }[] = [];
    for (const finding of findings) {
      const facts = {
        eventId: event.id,
        findingId: finding.findingId,
        findingType: finding.type,
        severity: finding.severity,
        accountId: finding.accountId,
        identityCenterRole: finding.identityCenterRole,
      };
      let outcome: FindingOutcome;
      if (finding.accessKeyId === null) {
        outcome = FindingOutcome.NoAccessKey;
        logger.info("finding skipped: it names no access key", facts);
      } else if ((await store.query(Keys.findingPublished(finding.findingId).pk)).length > 0) {
        outcome = FindingOutcome.AlreadyPublished;
        logger.info("finding already published", facts);
      } else {
        const alert = findingAlertOf(await answerFinding(roleQueries, finding));
        if (!alert) {
          outcome = FindingOutcome.Unanswered;
          // Not marked: GuardDuty re-sends the finding when the activity recurs, by when the trail's objects
          // holding the role session may have been ingested. Findings about other temporary keys (an instance
          // role's) are expected not to be answered: info, not a warning.
          const level = finding.identityCenterRole ? "warn" : "info";
          logger[level]("finding not answered: no role session of its access key is stored", {
            ...facts,
            accessKeyId: finding.accessKeyId,
          });
        } else {
          await publisher.publish(alert);
          await store.putIfAbsent({
            ...Keys.findingPublished(finding.findingId),
            type: ItemType.FindingPublished,
            findingId: finding.findingId,
            roleSessionId: alert.roleSession.id,
          });
          outcome = FindingOutcome.Published;
          logger.info("finding answered and published", {
            ...facts,
            roleSessionId: alert.roleSession.id,
            link: alert.roleSession.link,
            attribution: alert.roleSession.attribution,
          });
        }
      }
      outcomes.push({ findingId: finding.findingId, outcome });
    }
    return { outcomes };
  };
}

/** The findings of one EventBridge event, or a rejection naming the event and the reason. */
function readFindings(event: EventBridgeEvent<string, unknown>): FindingReference[] {
  const eventId = typeof event?.id === "string" ? event.id : undefined;
  if (event?.["detail-type"] !== GUARDDUTY_FINDING) {
    throw new RejectedRecordError(
      `event ${eventId ?? "(no id)"} has detail-type ${JSON.stringify(event?.["detail-type"] ?? null)}, not "${GUARDDUTY_FINDING}"`,
      { eventId },
    );
  }
  let findings: FindingReference[];
  try {
    findings = findingsOf(event);
  } catch (error) {
    const reason = error instanceof UsageError ? error.message : String(error);
    throw new RejectedRecordError(`event ${eventId}: ${reason}`, { cause: error, eventId });
  }
  for (const finding of findings) {
    if (!FINDING_ID.test(finding.findingId)) {
      throw new RejectedRecordError(`event ${eventId}: the finding id is not a GuardDuty finding id`, {
        eventId,
      });
    }
  }
  return findings;
}

/** The SNS SDK is loaded only where findings are published to a topic. */
async function snsSinkFromEnvironment(env: NodeJS.ProcessEnv): Promise<FindingSink> {
  const topicArn = env.ALERT_TOPIC_ARN;
  if (!topicArn) throw new UsageError("ALERT_TOPIC_ARN is not set");
  const { SnsFindingSink } = await import("../detect/sns.ts");
  return SnsFindingSink.forTopic(topicArn);
}
