/**
 * The metrics surface core needs: Powertools' `Metrics` is one (embedded metric format: each published set is
 * one JSON line on stdout that CloudWatch turns into metrics, no API call). Counts only.
 */
export interface AuditMetrics {
  addMetric(name: string, unit: "Count", value: number): unknown;
  /** Writes the metrics added since the last call, as one record. */
  publishStoredMetrics(): unknown;
}

/** The ingest function's per-batch metric names: what the canary's alarms (infra/monitoring.ts) watch. */
export const IngestMetric = {
  /** Identity Center events stored for the first time. */
  Events: "Events",
  /** Of those that name or imply a person, resolved to one by the end of the batch. */
  Attributed: "Attributed",
  /** Of those that name or imply a person, not (yet) resolved. */
  Unattributed: "Unattributed",
  /** Events stored earlier, unresolved, resolved by this batch. */
  LateAttributed: "LateAttributed",
  /** Events whose name the catalogue does not know (stored as `other`). */
  UnknownNames: "UnknownNames",
  /** Events carrying a `userIdentity` field their shape is not known to have. */
  NewFields: "NewFields",
  /** Messages that are not an event (they reach the dead-letter queue after the receive limit). */
  Rejected: "Rejected",
  /** Messages whose batch could not be stored (retried). */
  Failed: "Failed",
  Duplicates: "Duplicates",
} as const;

/**
 * The service the ingest function publishes under, and the namespace it falls back to; deployed, each stage
 * publishes in `idc-audit/<stage>` (POWERTOOLS_METRICS_NAMESPACE, infra/functions.ts), which its alarms read.
 */
export const METRICS_NAMESPACE = "idc-audit";
export const INGEST_SERVICE = "idc-audit-ingest";
