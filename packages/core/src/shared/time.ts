import { UsageError } from "./errors.ts";

/**
 * A date and time with no zone designator (`Z`, `+02:00`), which `Date.parse` would read in local time. The
 * separator may be `T`, `t` or a space, as people type it.
 */
const WITHOUT_ZONE = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * Accepts an ISO time or a date (`2026-07-01`) and returns the canonical form stored keys use. A time without a
 * zone is UTC, as every time idc-audit prints is: the answer must not depend on the analyst's machine.
 */
export function parseTime(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const zoneless = WITHOUT_ZONE.exec(value);
  const time = Date.parse(zoneless ? `${zoneless[1]}T${zoneless[2]}Z` : value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(
      `${option} ${value} is not an ISO-8601 time (e.g. 2026-07-01 or 2026-07-01T12:00:00Z)`,
    );
  }
  return isoTime(time);
}

/** CloudTrail's time format (`2026-07-01T12:00:00Z`, milliseconds only when there are any): what keys sort on. */
export function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}
