import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { recordsOfDocument } from "../cloudtrail/reader.ts";
import { type BatchCoverage, emptyCoverage } from "../coverage/counts.ts";
import {
  classifyItem,
  emptyCounts,
  type IngestCounts,
  ingestBatch,
  MixedBatchBuilder,
} from "../ingest/run.ts";
import type { NormalizedRecord } from "../normalize/types.ts";
import type { RoleEvent } from "../roles/types.ts";
import type { Runtime } from "../runtime/index.ts";
import { classify, describeError } from "../shared/errors.ts";
import { jsonErrorReason, parseUntrustedJson } from "../shared/json.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { type AuditMetrics, IngestMetric } from "../shared/metrics.ts";
import { containerRuntime } from "./container.ts";

/** SQS bodies are EventBridge envelopes of a few KB; a body this large is not one. */
const MAX_BODY_BYTES = 256 * 1024;

export interface SqsIngestDependencies {
  readonly logger: AuditLogger;
  /** Per-batch metrics (Powertools `Metrics`, embedded metric format); none when absent. */
  readonly metrics?: AuditMetrics;
  /** Opens the runtime once per container; defaults to the function's environment. */
  readonly openRuntime?: () => Promise<Runtime>;
}

type MessageVerdict =
  | {
      readonly kind: "records";
      readonly records: NormalizedRecord[];
      readonly roleEvents: RoleEvent[];
      readonly chainCandidates: RoleEvent[];
      readonly ignored: number;
    }
  | { readonly kind: "poison"; readonly reason: string; readonly eventId?: string };

/** One SQS message: one EventBridge envelope carrying one CloudTrail event. */
export function readMessage(message: SQSRecord): MessageVerdict {
  if (Buffer.byteLength(message.body, "utf8") > MAX_BODY_BYTES) {
    return { kind: "poison", reason: `body is larger than ${MAX_BODY_BYTES} bytes` };
  }
  let document: unknown;
  try {
    document = parseUntrustedJson(message.body);
  } catch (error) {
    return { kind: "poison", reason: jsonErrorReason(error) };
  }
  const batch = new MixedBatchBuilder();
  let ignored = 0;
  for (const item of recordsOfDocument(document, `sqs:${message.messageId}`)) {
    const classified = classifyItem(item);
    if (classified.kind === "rejected") {
      return {
        kind: "poison",
        reason: classified.rejection.reason,
        ...(classified.rejection.eventId ? { eventId: classified.rejection.eventId } : {}),
      };
    }
    if (!batch.add(classified)) ignored += 1;
  }
  return { kind: "records", ...batch.take(), ignored };
}

/**
 * The ingest function: SQS messages whose bodies are EventBridge envelopes, through the same pipeline as the
 * CLI. A poison message fails alone (partial batch response) and reaches the dead-letter queue after the
 * queue's receive limit; a store failure fails the messages it concerned, to be retried.
 */
export function createSqsIngestHandler(dependencies: SqsIngestDependencies) {
  const { logger } = dependencies;
  const runtime = containerRuntime(dependencies.openRuntime, logger);

  return async (event: SQSEvent): Promise<SQSBatchResponse & { counts: IngestCounts }> => {
    const { pipeline } = await runtime();
    const failures: SQSBatchItemFailure[] = [];
    const counts = emptyCounts();
    let coverage = emptyCoverage();
    const accepted: {
      messageId: string;
      records: NormalizedRecord[];
      roleEvents: RoleEvent[];
      chainCandidates: RoleEvent[];
    }[] = [];
    for (const message of event.Records) {
      const verdict = readMessage(message);
      if (verdict.kind === "poison") {
        counts.read += 1;
        counts.rejected += 1;
        logger.error("message rejected", {
          messageId: message.messageId,
          eventId: verdict.eventId,
          reason: verdict.reason,
        });
        failures.push({ itemIdentifier: message.messageId });
        continue;
      }
      counts.read +=
        verdict.records.length + verdict.roleEvents.length + verdict.chainCandidates.length + verdict.ignored;
      counts.ignored += verdict.ignored;
      accepted.push({
        messageId: message.messageId,
        records: verdict.records,
        roleEvents: verdict.roleEvents,
        chainCandidates: verdict.chainCandidates,
      });
    }
    const records = accepted.flatMap((entry) => entry.records);
    const roleEvents = accepted.flatMap((entry) => entry.roleEvents);
    const chainCandidates = accepted.flatMap((entry) => entry.chainCandidates);
    if (records.length > 0 || roleEvents.length > 0 || chainCandidates.length > 0) {
      try {
        const result = await ingestBatch(pipeline, { records, roleEvents, chainCandidates });
        counts.stored += result.stored.length + result.storedRoleEvents.length;
        counts.duplicates += result.duplicates;
        counts.ignored += result.ignored;
        coverage = result.coverage;
        for (const stored of [...result.stored, ...result.storedRoleEvents]) {
          logger.debug("event stored", { eventId: stored.eventId, eventName: stored.eventName });
        }
      } catch (error) {
        // Every write is idempotent, so the whole remainder is retried; nothing is half-counted as stored.
        logger.error("batch not stored", { kind: classify(error), error: describeError(error) });
        for (const { messageId } of accepted) failures.push({ itemIdentifier: messageId });
      }
    }
    logger.info("batch processed", { ...counts, failed: failures.length, ...coverageLog(coverage) });
    if (dependencies.metrics) {
      publishBatchMetrics(dependencies.metrics, coverage, {
        rejected: counts.rejected,
        failed: failures.length - counts.rejected,
        duplicates: counts.duplicates,
      });
    }
    return { batchItemFailures: failures, counts };
  };
}

function coverageLog(coverage: BatchCoverage): Record<string, number> {
  return {
    attributed: coverage.attributed,
    unattributed: coverage.unattributed,
    unknownNames: coverage.unknownNames,
    newFields: coverage.newFields,
  };
}

/**
 * One embedded-metric record per batch, every metric present even when zero: the alarms' metric math divides
 * and sums them, and a missing point would read as no data instead of nothing wrong.
 */
export function publishBatchMetrics(
  metrics: AuditMetrics,
  coverage: BatchCoverage,
  messages: { readonly rejected: number; readonly failed: number; readonly duplicates: number },
): void {
  metrics.addMetric(IngestMetric.Events, "Count", coverage.events);
  metrics.addMetric(IngestMetric.Attributed, "Count", coverage.attributed);
  metrics.addMetric(IngestMetric.Unattributed, "Count", coverage.unattributed);
  metrics.addMetric(IngestMetric.LateAttributed, "Count", coverage.lateAttributed);
  metrics.addMetric(IngestMetric.UnknownNames, "Count", coverage.unknownNames);
  metrics.addMetric(IngestMetric.NewFields, "Count", coverage.newFields);
  metrics.addMetric(IngestMetric.Rejected, "Count", messages.rejected);
  metrics.addMetric(IngestMetric.Failed, "Count", messages.failed);
  metrics.addMetric(IngestMetric.Duplicates, "Count", messages.duplicates);
  metrics.publishStoredMetrics();
}
