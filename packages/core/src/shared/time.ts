import { UsageError } from "./errors.ts";

/**
 * ISO-8601 as people type it: a date, or a date and a time (separated by `T`, `t` or a space) with or without
 * seconds, fractions and a zone (`Z`, `+02:00`, `+0200`). Nothing else: `Date.parse` also takes forms it reads
 * in the machine's local time, and rolls impossible dates (`2026-06-31`) over into the next month.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Accepts an ISO time or a date (`2026-07-01`) and returns the canonical form stored keys use. A time without a
 * zone is UTC, as every time idc-audit prints is: the answer must not depend on the analyst's machine.
 */
export function parseTime(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const time = isoTimeMs(value);
  if (time === undefined) {
    throw new UsageError(
      `${option} ${value} is not an ISO-8601 time (e.g. 2026-07-01 or 2026-07-01T12:00:00Z)`,
    );
  }
  return isoTime(time);
}

/** The time an ISO-8601 text names (`ISO_TIME`), when it names a real one. */
function isoTimeMs(value: string): number | undefined {
  const match = ISO_TIME.exec(value);
  if (!match) return undefined;
  const [
    ,
    year,
    month,
    day,
    hour = "0",
    minute = "0",
    second = "0",
    fraction = "",
    ,
    sign,
    zoneHours,
    zoneMinutes,
  ] = match;
  const numbers = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = numbers;
  const ms = Math.floor(Number(`0${fraction}`) * 1000);
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const parsed = new Date(utc);
  // Fields out of range (month 13, 31 June, 24:00, 60 seconds) would roll over: refused instead.
  if (
    parsed.getUTCFullYear() !== y ||
    parsed.getUTCMonth() !== mo - 1 ||
    parsed.getUTCDate() !== d ||
    parsed.getUTCHours() !== h ||
    parsed.getUTCMinutes() !== mi ||
    parsed.getUTCSeconds() !== s
  )
    return undefined;
  if (sign === undefined) return utc;
  const offsetHours = Number(zoneHours);
  const offsetMinutes = Number(zoneMinutes);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return sign === "+" ? utc - offsetMs : utc + offsetMs;
}

/** CloudTrail's time format (`2026-07-01T12:00:00Z`, milliseconds only when there are any): what keys sort on. */
export function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}
