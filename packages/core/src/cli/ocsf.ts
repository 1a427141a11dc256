import { once } from "node:events";
import { createWriteStream, existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { readInputs } from "../cloudtrail/reader.ts";
import { auditEventToOcsf, type OcsfEvent, roleEventToOcsf } from "../export/ocsf.ts";
import { writeSecurityLake } from "../export/parquet.ts";
import { type ExportRange, exportFromStore } from "../export/store.ts";
import { classifyItem } from "../ingest/run.ts";
import type { Runtime } from "../runtime/index.ts";
import { UsageError } from "../shared/errors.ts";

/** `--format` of `normalize` and `export`. */
export const ExportFormat = { Json: "json", Ocsf: "ocsf", OcsfParquet: "ocsf-parquet" } as const;
export type ExportFormat = (typeof ExportFormat)[keyof typeof ExportFormat];

export function exportFormat(value: string | undefined, fallback: ExportFormat): ExportFormat {
  if (value === undefined) return fallback;
  const known = Object.values(ExportFormat) as string[];
  if (!known.includes(value)) throw new UsageError(`--format must be one of ${known.join(", ")}`);
  return value as ExportFormat;
}

/** Usage errors of `export`, found before the store is opened. */
export function checkExportOptions(format: ExportFormat, out: string | undefined): void {
  if (format === ExportFormat.Json)
    throw new UsageError("export needs --format ocsf or --format ocsf-parquet");
  if (format === ExportFormat.OcsfParquet && (out === undefined || out === "-"))
    throw new UsageError("--format ocsf-parquet needs --out DIR");
  if (out !== undefined && out !== "-" && existsSync(out) && !statSync(out).isDirectory())
    throw new UsageError(`--out ${out} is a file: --out names a folder (created if need be)`);
}

function line(stream: Writable, text: string): void {
  stream.write(`${text}\n`);
}

/** The NDJSON file `--out DIR` writes: one name, so an export is found where it was asked for. */
export const NDJSON_FILE = "idc-audit.ocsf.ndjson";

/** Where OCSF goes: NDJSON on stdout or in DIR, or Parquet in Security Lake's layout under DIR. */
async function deliver(
  events: readonly OcsfEvent[],
  format: ExportFormat,
  out: string | undefined,
  stdout: Writable,
  stderr: Writable,
  window?: ExportRange,
): Promise<void> {
  if (format === ExportFormat.OcsfParquet) {
    if (out === undefined || out === "-") throw new UsageError("--format ocsf-parquet needs --out DIR");
    const written = await writeSecurityLake(out, events, window);
    for (const file of written) line(stderr, `wrote ${file.events} events to ${join(out, file.path)}`);
    return;
  }
  if (out === undefined || out === "-") {
    for (const event of events) await writeLine(stdout, JSON.stringify(event));
    return;
  }
  await mkdir(out, { recursive: true });
  const file = createWriteStream(join(out, NDJSON_FILE));
  // Line by line with back-pressure: one string of a large export would double its memory, or pass V8's limit.
  for (const event of events) await writeLine(file, JSON.stringify(event));
  file.end();
  await finished(file);
  line(stderr, `wrote ${events.length} events to ${join(out, NDJSON_FILE)}`);
}

/** Writes a line, waiting for the stream to drain when its buffer is full. */
async function writeLine(stream: Writable, text: string): Promise<void> {
  if (!stream.write(`${text}\n`)) await once(stream, "drain");
}

/**
 * `normalize --format ocsf|ocsf-parquet PATH…`: the files' events as OCSF, stateless. Only what an event says
 * itself is used (the person it names); attribution needs the store (`export`). Returns the count of records
 * rejected, reported on stderr like plain `normalize`.
 */
export async function normalizeToOcsf(
  paths: readonly string[],
  format: ExportFormat,
  out: string | undefined,
  io: { readonly stdin: Readable; readonly stdout: Writable; readonly stderr: Writable },
): Promise<void> {
  const events: OcsfEvent[] = [];
  let ignored = 0;
  let rejected = 0;
  const streaming = format === ExportFormat.Ocsf && (out === undefined || out === "-");
  for await (const item of readInputs([...paths], { stdin: io.stdin })) {
    const classified = classifyItem(item);
    let event: OcsfEvent | undefined;
    if (classified.kind === "audited") event = auditEventToOcsf(classified.record.event);
    else if (classified.kind === "role") event = roleEventToOcsf(classified.event);
    else if (classified.kind === "ignored" || classified.kind === "chain-candidate") ignored += 1;
    else {
      rejected += 1;
      line(io.stderr, `rejected ${classified.rejection.location}: ${classified.rejection.reason}`);
    }
    if (event && streaming) await writeLine(io.stdout, JSON.stringify(event));
    else if (event) events.push(event);
  }
  if (!streaming) await deliver(events, format, out, io.stdout, io.stderr);
  line(io.stderr, `${ignored} ignored, ${rejected} rejected`);
}

/** `export --format ocsf|ocsf-parquet [--since T] [--until T] [--out DIR|-]`: the store's events as OCSF. */
export async function exportStore(
  runtime: Runtime,
  range: ExportRange,
  format: ExportFormat,
  out: string | undefined,
  io: { readonly stdout: Writable; readonly stderr: Writable },
): Promise<number> {
  if (format === ExportFormat.Json)
    throw new UsageError("export needs --format ocsf or --format ocsf-parquet");
  const { events, counts } = await exportFromStore(runtime.store, runtime.roleQueries, range);
  await deliver(events, format, out, io.stdout, io.stderr, range);
  line(
    io.stderr,
    `exported ${events.length} events: ${counts.identityCenterEvents} Identity Center, ${counts.roleSessionEvents} calls of ${counts.roleSessions} role sessions`,
  );
  return events.length;
}
