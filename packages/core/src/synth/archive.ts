/**
 * Writes a synthetic stream as a CloudTrail S3 archive:
 * `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<stamp>_<n>.json.gz`,
 * each file `{"Records": [...]}`. Files are written as the stream goes, so memory stays flat for any size.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { type SynthOptions, synthEvents } from "./events.ts";

const gzipAsync = promisify(gzip);

export interface ArchiveOptions extends SynthOptions {
  /** Records per log file (default 500). */
  recordsPerFile?: number;
  /** Write under `AWSLogs/<organizationId>/…`, as an organization trail does. */
  organizationId?: string;
}

interface OpenFile {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly records: Record<string, unknown>[];
  latest: string;
}

/** `2026-07-01T00:08:20Z` → `20260701T0810Z`-style delivery stamp (to the minute). */
function stamp(eventTime: string): string {
  return `${eventTime.slice(0, 4)}${eventTime.slice(5, 7)}${eventTime.slice(8, 10)}T${eventTime.slice(11, 13)}${eventTime.slice(14, 16)}Z`;
}

export async function writeArchive(
  dir: string,
  options: ArchiveOptions,
): Promise<{ files: number; records: number }> {
  const perFile = options.recordsPerFile ?? 500;
  if (!Number.isSafeInteger(perFile) || perFile < 1)
    throw new RangeError(`recordsPerFile must be positive: ${perFile}`);
  const root =
    options.organizationId === undefined
      ? join(dir, "AWSLogs")
      : join(dir, "AWSLogs", options.organizationId);
  const open = new Map<string, OpenFile>();
  const madeDirs = new Set<string>();
  let files = 0;
  let records = 0;
  let currentDay = "";

  const flush = async (key: string, file: OpenFile): Promise<void> => {
    open.delete(key);
    const folder = join(root, file.account, "CloudTrail", file.region, ...file.day.split("-"));
    if (!madeDirs.has(folder)) {
      await mkdir(folder, { recursive: true });
      madeDirs.add(folder);
    }
    files += 1;
    const name = `${file.account}_CloudTrail_${file.region}_${stamp(file.latest)}_${String(files).padStart(6, "0")}.json.gz`;
    await writeFile(join(folder, name), await gzipAsync(JSON.stringify({ Records: file.records })));
  };

  for (const record of synthEvents(options)) {
    const eventTime = String(record.eventTime);
    const day = eventTime.slice(0, 10);
    if (day > currentDay) {
      // The stream moves forward in time: earlier days' files are complete.
      for (const [key, file] of [...open]) if (file.day < day) await flush(key, file);
      currentDay = day;
    }
    const account = String(record.recipientAccountId);
    const region = String(record.awsRegion);
    const key = `${account}/${region}/${day}`;
    let file = open.get(key);
    if (file === undefined) {
      file = { account, region, day, records: [], latest: eventTime };
      open.set(key, file);
    }
    file.records.push(record);
    if (eventTime > file.latest) file.latest = eventTime;
    records += 1;
    if (file.records.length >= perFile) await flush(key, file);
  }
  for (const [key, file] of [...open]) await flush(key, file);
  return { files, records };
}
