import { UsageError } from "../shared/errors.ts";

/** Days `YYYY-MM-DD`, both ends included; either may be open. */
export interface DayRange {
  readonly since?: string;
  readonly until?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** CloudTrail log object keys carry their delivery day: `…/CloudTrail/<region>/YYYY/MM/DD/<file>`. */
const KEY_DAY = /\/(\d{4})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** A `--since`/`--until` day, checked: `2026-07-01` (a time is refused: objects are filed by day). */
export function parseDay(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const day = value.trim();
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || isoDay(Date.parse(day)) !== day) {
    throw new UsageError(`${option} ${value} is not a day of the form 2026-07-01`);
  }
  return day;
}

export function dayRange(since: string | undefined, until: string | undefined): DayRange {
  const range = { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
  if (range.since !== undefined && range.until !== undefined && range.since > range.until) {
    throw new UsageError(`--since ${range.since} is after --until ${range.until}`);
  }
  return range;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The day before `now` (UTC): what the daily reconciliation checks. */
export function previousDay(now: Date): string {
  return isoDay(now.getTime() - 86_400_000);
}

/** The delivery day in a CloudTrail log object's key, or undefined when the key has none. */
export function dayOfKey(key: string): string | undefined {
  const match = KEY_DAY.exec(key);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/**
 * Whether a log object belongs to the range. A key without a day (not CloudTrail's layout) is kept: leaving it
 * out could hide events, reading it costs one object.
 */
export function keyInRange(key: string, range: DayRange): boolean {
  const day = dayOfKey(key);
  if (day === undefined) return true;
  if (range.since !== undefined && day < range.since) return false;
  if (range.until !== undefined && day > range.until) return false;
  return true;
}

/** Lists the "folders" right under a prefix; S3's `Delimiter: "/"`. */
export type FolderLister = (prefix: string) => AsyncIterable<string>;

/**
 * The key prefixes holding one day's log objects under a trail prefix (`AWSLogs/` or `<prefix>/AWSLogs/`):
 * `…/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/`. Found by listing folders down to the regions, so a daily
 * check lists a few hundred keys, not years of them.
 */
export async function* dayPrefixes(list: FolderLister, prefix: string, day: string): AsyncGenerator<string> {
  const datePath = `${day.slice(0, 4)}/${day.slice(5, 7)}/${day.slice(8, 10)}/`;
  async function* below(folder: string, depth: number): AsyncGenerator<string> {
    for await (const child of list(folder)) {
      if (child.endsWith("/CloudTrail/")) {
        for await (const region of list(child)) yield `${region}${datePath}`;
      } else if (depth < 2 && !/\/CloudTrail-[^/]+\/$/.test(child)) {
        // An organization id, then an account: at most two levels above CloudTrail/.
        yield* below(child, depth + 1);
      }
    }
  }
  yield* below(prefix, 0);
}
