/**
 * Settings of the distributed backfill and the daily reconciliation. Pure: no SST globals, so the offline
 * tests import it directly.
 */

/** Log objects per invocation of the backfill-map function: CloudTrail's files hold up to a few thousand records. */
export const OBJECTS_PER_BATCH = 50;
/** A few failed batches (throttling that outlived the retries, an unreadable object) do not stop years of work. */
export const TOLERATED_FAILURE_PERCENTAGE = 5;
/** Where the Map's result writer puts its manifest and its SUCCEEDED / FAILED files, in the results bucket. */
export const RESULT_PREFIX = "backfill-results";
/** Results are for finding failed objects after a run; they are not kept forever. */
export const RESULT_RETENTION_DAYS = 90;

/** 01:30 UTC: CloudTrail has delivered the previous day's objects (typically within 5-15 minutes). */
export const RECONCILE_SCHEDULE = "cron(30 1 * * ? *)";
export const RECONCILE_SERVICE = "idc-audit-reconcile";
export const MISSING_METRIC = "MissingEvents";
