import { COVERAGE_DAYS_PARTITION, CoverageSort, Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore } from "../timeline/store.ts";
import { SHAPES, UNKNOWN_NAME_SEPARATOR } from "./counts.ts";

export interface ShapeCoverage {
  events: number;
  /** Events that name or imply a person. */
  expected: number;
  attributed: number;
  /** `attributed / expected`, `null` when nothing expected a person. */
  rate: number | null;
}

export interface DayCoverage extends ShapeCoverage {
  readonly day: string;
  /** Events stored of each shape that day. */
  readonly byShape: Record<string, number>;
}

export interface CoverageReport {
  /** The first and last day counted (items are kept per day: `--since`/`--until` count whole days). */
  readonly since: string | null;
  readonly until: string | null;
  readonly events: number;
  readonly expected: number;
  readonly attributed: number;
  readonly rate: number | null;
  readonly byShape: Record<string, ShapeCoverage>;
  readonly days: DayCoverage[];
  readonly unknown: { eventSource: string; eventName: string; count: number; firstSeen: string }[];
  readonly newFields: { path: string; count: number; firstSeen: string }[];
}

const rateOf = (attributed: number, expected: number) =>
  expected === 0 ? null : Math.round((attributed / expected) * 10_000) / 10_000;

type Sightings = Map<string, { count: number; firstSeen: string }>;

function sight(map: Sightings, key: string, time: string) {
  const seen = map.get(key);
  if (!seen) map.set(key, { count: 1, firstSeen: time });
  else {
    seen.count += 1;
    if (time < seen.firstSeen) seen.firstSeen = time;
  }
}

/**
 * The canary's answer: how many stored Identity Center events resolved to a person, by day and shape, and the
 * names and `userIdentity` fields nobody has catalogued. One `Query` for the days in the range, then one per
 * day of that day's small items (one per event, projected to a few attributes, and the join markers): never a
 * scan, never an event's payload.
 */
export async function readCoverage(
  store: TableStore,
  since?: string,
  until?: string,
): Promise<CoverageReport> {
  const days = await store.query(COVERAGE_DAYS_PARTITION, {
    // DynamoDB refuses an empty string in a key condition: the open start is a day before any.
    between: [since?.slice(0, 10) ?? "0000-01-01", until?.slice(0, 10) ?? "9999"],
  });
  const byShape: Record<string, ShapeCoverage> = {};
  const dayList: DayCoverage[] = [];
  const unknown: Sightings = new Map();
  const fields: Sightings = new Map();
  // Each day is folded as soon as it is read: memory holds the days being read (4), not the whole range.
  await mapLimit(
    days.map((item) => item.sk),
    4,
    async (day) => {
      const items = await store.query(Keys.coveragePartition(day), {
        attributes: ["shape", "expects", "self", "unknown", "fields", "time"],
      });
      const total = foldDay(day, items, byShape, unknown, fields);
      if (total.events > 0) dayList.push(total);
    },
  );
  dayList.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));

  let events = 0;
  let expected = 0;
  let attributed = 0;
  for (const total of Object.values(byShape)) {
    total.rate = rateOf(total.attributed, total.expected);
    events += total.events;
    expected += total.expected;
    attributed += total.attributed;
  }
  const orderedShapes: Record<string, ShapeCoverage> = {};
  for (const shape of [...SHAPES, ...Object.keys(byShape).sort()]) {
    const total = byShape[shape];
    if (total && !(shape in orderedShapes)) orderedShapes[shape] = total;
  }
  return {
    since: dayList[0]?.day ?? null,
    until: dayList.at(-1)?.day ?? null,
    events,
    expected,
    attributed,
    rate: rateOf(attributed, expected),
    byShape: orderedShapes,
    days: dayList,
    unknown: sorted(unknown).map(([key, count, firstSeen]) => {
      const at = key.indexOf(UNKNOWN_NAME_SEPARATOR);
      return { eventSource: key.slice(0, at), eventName: key.slice(at + 1), count, firstSeen };
    }),
    newFields: sorted(fields).map(([path, count, firstSeen]) => ({ path, count, firstSeen })),
  };
}

/** Most frequent first, then by name: what changed most is read first. */
function sorted(map: Sightings): [string, number, string][] {
  return [...map]
    .map(([key, { count, firstSeen }]): [string, number, string] => [key, count, firstSeen])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** One day's coverage items folded into the day's counts, and into the range's counts by shape and sightings. */
function foldDay(
  day: string,
  items: readonly Item[],
  byShape: Record<string, ShapeCoverage>,
  unknown: Sightings,
  fields: Sightings,
): DayCoverage {
  const attributed = new Set<string>();
  const nobody = new Set<string>();
  for (const item of items) {
    if (item.sk.startsWith(CoverageSort.Attributed))
      attributed.add(item.sk.slice(CoverageSort.Attributed.length));
    else if (item.sk.startsWith(CoverageSort.Nobody)) nobody.add(item.sk.slice(CoverageSort.Nobody.length));
  }
  const total: DayCoverage = { day, events: 0, expected: 0, attributed: 0, rate: null, byShape: {} };
  for (const item of items) {
    if (!item.sk.startsWith(CoverageSort.Event)) continue;
    const eventId = item.sk.slice(CoverageSort.Event.length);
    const shape = String(item.shape);
    byShape[shape] ??= { events: 0, expected: 0, attributed: 0, rate: null };
    const ofShape = byShape[shape];
    const isAttributed = item.self === true || attributed.has(eventId);
    // A sign-in step whose workflow turned out to be for a name AWS hid implied nobody after all.
    const expected = item.expects === true && (isAttributed || !nobody.has(eventId));
    for (const counts of [total, ofShape]) {
      counts.events += 1;
      if (expected) counts.expected += 1;
      if (expected && isAttributed) counts.attributed += 1;
    }
    total.byShape[shape] = (total.byShape[shape] ?? 0) + 1;
    const time = String(item.time ?? "");
    if (typeof item.unknown === "string") sight(unknown, item.unknown, time);
    if (Array.isArray(item.fields)) for (const path of item.fields) sight(fields, String(path), time);
  }
  total.rate = rateOf(total.attributed, total.expected);
  return total;
}
