/**
 * The alarms' names and thresholds (infra/monitoring.ts creates them). Pure: no SST globals, so tests and the
 * key policy (encryption.ts) import it directly.
 */

/** Below this share (in %) of the events that name or imply a person, attributed within the hour, it alarms. */
export const ATTRIBUTION_RATE_THRESHOLD = 90;
/** Hours with fewer such events are not judged: a handful of failed sign-ins at night is not a trend. */
export const ATTRIBUTION_MIN_EVENTS = 20;

/** The attribution rate as metric math over the ingest function's per-hour sums. */
export const ATTRIBUTION_RATE_EXPRESSION = `IF((attributed + unattributed) >= ${ATTRIBUTION_MIN_EVENTS}, 100 * (attributed + late) / (attributed + unattributed), 100)`;

/** The name of an alarm of this stage; `alarmName(stage, "*")` is the pattern the key policy names. */
export function alarmName(stage: string, suffix: string): string {
  return `idc-audit-${stage}-${suffix}`;
}
