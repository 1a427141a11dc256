import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import { isRecord, jsonErrorReason, parseUntrustedJson } from "../shared/json.ts";
import { type ObjectSource, parseS3Uri } from "./s3.ts";

/** Where a record came from: `file:line` plus `#Records[i]` inside a CloudTrail log file. */
export type Location = string;

export type ReadItem =
  | { readonly kind: "record"; readonly record: Record<string, unknown>; readonly location: Location }
  | {
      readonly kind: "rejected";
      readonly location: Location;
      readonly reason: string;
      readonly eventId?: string;
    };

export interface ReadOptions {
  /**
   * Largest decompressed (or plain) size of one input file: reading stops there, saying so. Lines and documents
   * have bounds of their own (`MAX_LINE_BYTES`, `MAX_DOCUMENT_BYTES`), so this bounds time, not memory.
   */
  readonly maxFileBytes?: number;
}

const MiB = 1024 * 1024;
/** CloudTrail writes log files of a few MB; reading stops 256 MiB into a decompressed file (a gzip bomb). */
export const DEFAULT_MAX_FILE_BYTES = 256 * MiB;
/**
 * Largest JSON document held whole to be parsed, other than a one-line CloudTrail log file (which is read
 * record by record past `MAX_WHOLE_LOG_FILE_BYTES`): a pretty-printed document, an array, an envelope. A larger
 * one is rejected, saying so, without being held: parsed, JSON takes 5-10 times its size in memory, and the
 * whole process is to stay under 512 MB.
 */
export const MAX_DOCUMENT_BYTES = 16 * MiB;
/**
 * Largest NDJSON line (one record, or one EventBridge envelope): CloudTrail caps a record at 256 KB, so 1 MiB
 * leaves room for envelopes and escapes. A longer line is skipped without being held, and rejected saying so.
 */
export const MAX_LINE_BYTES = 1 * MiB;
/**
 * Lines a whole (pretty-printed) document may have. Each line is held until the document ends, so without a cap
 * a small gzip of "a\n" lines grows an array past V8's limit and aborts the process (not a catchable error).
 */
export const MAX_DOCUMENT_LINES = 1_000_000;
/** Invalid NDJSON lines one file may have before it is abandoned, with that said, as not CloudTrail's. */
export const MAX_INVALID_LINES = 1_000;

/** A line longer than the bound it was read under: its bytes were counted and dropped, never held. */
interface LongLine {
  readonly bytes: number;
}

/**
 * A CloudTrail log file (`{"Records":[…]}` on one line) too large to hold whole: its records, one at a time, as
 * a scan of its bytes finds them. `fault`, once the scan is over, says why it stopped early, if it did.
 */
interface LogFileRecords {
  readonly records: AsyncIterable<string | LongLine>;
  readonly fault: () => string | undefined;
}

/** What a line reader gives: a line's text, a line that was too long to hold, or a large log file's records. */
type Line = string | LongLine | LogFileRecords;

/**
 * A one-line log file longer than this is not held whole but scanned record by record: held and parsed whole,
 * a log file takes 5-10 times its size in memory (60 MiB of records took ~600 MiB of heap).
 */
export const MAX_WHOLE_LOG_FILE_BYTES = 8 * MiB;
const LOG_FILE_START = Buffer.from('{"Records":[');

/** Where the line reader should stop holding the current line, told by the one reading the lines. */
interface LineBound {
  bytes: number;
}

const INPUT_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;

/** Expands one JSON document into CloudTrail records: a log file, an EventBridge envelope, an array or one event. */
export function* recordsOfDocument(document: unknown, location: Location): Generator<ReadItem> {
  if (isRecord(document) && Array.isArray(document.Records)) {
    for (const [index, entry] of document.Records.entries()) {
      yield* recordOf(entry, `${location}#Records[${index}]`);
    }
    return;
  }
  if (Array.isArray(document)) {
    for (const [index, entry] of document.entries())
      yield* recordsOfDocument(entry, `${location}#[${index}]`);
    return;
  }
  yield* recordOf(document, location);
}

function* recordOf(value: unknown, location: Location): Generator<ReadItem> {
  if (!isRecord(value)) {
    yield { kind: "rejected", location, reason: "record is not a JSON object" };
    return;
  }
  // A digest file given by name (a folder's are skipped): said as such, not as an event missing every field.
  if (typeof value.digestStartTime === "string" && Array.isArray(value.logFiles)) {
    yield {
      kind: "rejected",
      location,
      reason:
        "a CloudTrail digest file (it proves the log files' integrity and holds no events): give the log files",
    };
    return;
  }
  // An EventBridge envelope carries the CloudTrail record in `detail`.
  if (typeof value["detail-type"] === "string" && "detail" in value) {
    const detail = value.detail;
    if (!isRecord(detail)) {
      yield { kind: "rejected", location, reason: "EventBridge envelope has no object in detail" };
      return;
    }
    yield { kind: "record", record: detail, location };
    return;
  }
  yield { kind: "record", record: value, location };
}

/** Counts bytes through the stream and fails it once the limit is passed (a gzip bomb stops here). */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(
        new Error(
          `input is larger than ${this.limit} bytes once decompressed: the rest of the file was not read`,
        ),
      );
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Splits a byte stream into lines (LF or CRLF) without ever holding more of one line than `bound.bytes`: a
 * longer line's bytes are counted and dropped up to its end, and it is given as a `LongLine`. (`readline`
 * holds a line whole however long it is: a gzip bomb of one endless line filled memory up to the file limit.)
 * A first line that starts as a CloudTrail log file and grows past `MAX_WHOLE_LOG_FILE_BYTES` is handed, with
 * the rest of the stream, to a scan that gives its records one by one.
 */
async function* boundedLines(chunks: AsyncIterable<Buffer>, bound: LineBound): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let held = 0;
  let skipped = -1; // bytes of an over-long line dropped so far; -1 while the current line is held
  let lines = 0;
  const take = (piece: Buffer) => {
    if (skipped >= 0) {
      skipped += piece.length;
      return;
    }
    if (held + piece.length > bound.bytes) {
      skipped = held + piece.length;
      parts = [];
      held = 0;
      return;
    }
    if (piece.length > 0) {
      parts.push(piece);
      held += piece.length;
    }
  };
  const end = (): Line => {
    lines += 1;
    if (skipped >= 0) {
      const line = { bytes: skipped };
      skipped = -1;
      return line;
    }
    let text = (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, held)).toString("utf8");
    if (text.endsWith("\r")) text = text.slice(0, -1);
    parts = [];
    held = 0;
    return text;
  };
  const iterator = chunks[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = next.value;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      take(chunk.subarray(start, newline));
      yield end();
      start = newline + 1;
    }
    // Copied: a stream may reuse its chunk's memory, and a slice would keep the whole chunk alive.
    if (start < chunk.length) take(Buffer.from(chunk.subarray(start)));
    if (lines === 0 && skipped < 0 && held > MAX_WHOLE_LOG_FILE_BYTES && startsLogFile(parts)) {
      const start = parts;
      parts = [];
      held = 0;
      yield scanLogFile(start, iterator);
      return;
    }
  }
  if (held > 0 || skipped >= 0) yield end();
}

function startsLogFile(parts: readonly Buffer[]): boolean {
  const first = parts[0];
  return (
    first !== undefined &&
    first.length >= LOG_FILE_START.length &&
    first.subarray(0, LOG_FILE_START.length).equals(LOG_FILE_START)
  );
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * The records of a log file, `{"Records":[…]}`, from its bytes: each element of `Records` is cut out by
 * counting brackets outside strings, held up to `MAX_LINE_BYTES` (a longer one is counted and dropped) and
 * given as text. Memory holds one record, however large the file. `held` starts with `{"Records":[`.
 */
function scanLogFile(held: Buffer[], rest: AsyncIterator<Buffer>): LogFileRecords {
  let fault: string | undefined;
  async function* records(): AsyncGenerator<string | LongLine> {
    let depth = 2; // inside the Records array
    let inString = false;
    let escaped = false;
    let after = false; // the Records array has closed
    let element: Buffer[] = [];
    let elementBytes = 0;
    let elementStart = -1; // where the element began in the current chunk; -1 when none is open
    let elementSkipped = -1;
    const keep = (piece: Buffer) => {
      if (elementSkipped >= 0) {
        elementSkipped += piece.length;
        return;
      }
      if (elementBytes + piece.length > MAX_LINE_BYTES) {
        elementSkipped = elementBytes + piece.length;
        element = [];
        elementBytes = 0;
        return;
      }
      element.push(piece);
      elementBytes += piece.length;
    };
    const finish = (): string | LongLine => {
      const done: string | LongLine =
        elementSkipped >= 0
          ? { bytes: elementSkipped }
          : Buffer.concat(element, elementBytes).toString("utf8");
      element = [];
      elementBytes = 0;
      elementSkipped = -1;
      return done;
    };
    const scan = function* (chunk: Buffer, from: number): Generator<string | LongLine> {
      for (let index = from; index < chunk.length; index += 1) {
        const byte = chunk[index] as number;
        if (after) {
          if (depth === 1 && byte === CLOSE_BRACE) depth = 0;
          else if (!isJsonSpace(byte)) {
            fault = "content after the log file's Records array: not read";
            return;
          }
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) inString = false;
          continue;
        }
        if (depth === 2 && elementStart === -1) {
          // Between elements.
          if (isJsonSpace(byte) || byte === COMMA) continue;
          if (byte === CLOSE_BRACKET) {
            depth = 1;
            after = true;
            continue;
          }
          elementStart = index;
        }
        if (byte === QUOTE) inString = true;
        else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
        else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
          if (depth === 2) {
            // A primitive element ends at the array's end.
            keep(chunk.subarray(elementStart, index));
            elementStart = -1;
            yield finish();
            depth = 1;
            after = true;
            continue;
          }
          depth -= 1;
          if (depth === 2) {
            keep(chunk.subarray(elementStart, index + 1));
            elementStart = -1;
            yield finish();
          }
        } else if (byte === COMMA && depth === 2) {
          // A primitive element ends at the next comma.
          keep(chunk.subarray(elementStart, index));
          elementStart = -1;
          yield finish();
        }
      }
      if (elementStart !== -1) {
        keep(Buffer.from(chunk.subarray(elementStart)));
        elementStart = 0;
      }
    };
    const start = Buffer.concat(held);
    held.length = 0;
    yield* scan(start, LOG_FILE_START.length);
    if (elementStart !== -1) elementStart = 0;
    while (fault === undefined) {
      const next = await rest.next();
      if (next.done) break;
      yield* scan(next.value, 0);
      if (elementStart !== -1) elementStart = 0;
    }
    if (fault === undefined && depth !== 0) fault = "the log file ends inside its Records array (truncated)";
  }
  return { records: records(), fault: () => fault };
}

/**
 * Reads one stream of JSON, plain or gzip (told by its first bytes, whatever the stream's name says: stdin, a
 * pipe, a large file, an S3 object): NDJSON (one document a line) is streamed line by line; a pretty-printed
 * document (whose first line is not JSON on its own) is read whole, up to `MAX_DOCUMENT_BYTES`.
 */
export async function* readStream(
  source: Readable,
  name: string,
  options: ReadOptions = {},
): AsyncGenerator<ReadItem> {
  const limit = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const input = await gunzippedIfGzip(source);
  const limited = input.pipe(new ByteLimit(limit));
  input.on("error", (error) => limited.destroy(error));
  const bound: LineBound = { bytes: MAX_DOCUMENT_BYTES };
  yield* readLines(boundedLines(limited, bound), name, () => input.destroy(), bound);
}

/** Why a line was not read, in the words of the bound it passed. */
function longLineReason(line: LongLine, mode: "unknown" | "lines"): string {
  return mode === "lines"
    ? `line of ${line.bytes} bytes is longer than the ${MAX_LINE_BYTES} bytes an NDJSON record may have: not read`
    : `line of ${line.bytes} bytes is longer than the ${MAX_DOCUMENT_BYTES} bytes a JSON document may have: not read`;
}

/** Bytes of a line read from a whole file, counted only when its length leaves the bound in doubt. */
function lineBytes(line: string, bound: number): number {
  return line.length * 3 <= bound ? line.length : Buffer.byteLength(line);
}

/**
 * The records of a sequence of lines, from a stream or from a file read whole. NDJSON (one document a line)
 * is handled line by line; a pretty-printed document (whose first line is not JSON on its own) is read whole.
 * `stop` abandons the source when the input is hopeless. `bound`, when the lines come from a stream, is how
 * much of the next line the stream may hold: a document's worth until the file turns out to be NDJSON.
 */
async function* readLines(
  lines: AsyncIterable<Line> | Iterable<Line>,
  name: string,
  stop: () => void,
  bound: LineBound = { bytes: MAX_DOCUMENT_BYTES },
): AsyncGenerator<ReadItem> {
  let mode: "unknown" | "lines" | "document" = "unknown";
  let documentText: string[] = [];
  let documentBytes = 0;
  let documentStart = 0;
  let lineNumber = 0;
  let invalidLines = 0;
  let longLines = 0;
  try {
    for await (let line of lines) {
      lineNumber += 1;
      // A line read from a whole file is measured here against the bound a stream would have applied.
      if (typeof line === "string" && line.length > MAX_LINE_BYTES / 3) {
        const bytes = lineBytes(line, bound.bytes);
        if (bytes > bound.bytes) line = { bytes };
      }
      if (typeof line === "object" && "records" in line) {
        yield* readLogFileRecords(line, `${name}:${lineNumber}`);
        mode = "lines";
        continue;
      }
      if (mode === "document") {
        if (typeof line !== "string" || documentText.length >= MAX_DOCUMENT_LINES) {
          documentText = [];
          stop();
          yield {
            kind: "rejected",
            location: `${name}:${documentStart}`,
            reason:
              typeof line === "string"
                ? `document has more than ${MAX_DOCUMENT_LINES} lines`
                : `document is larger than the ${MAX_DOCUMENT_BYTES} bytes a JSON document may have: not read`,
          };
          return;
        }
        documentText.push(line);
        documentBytes += line.length + 1;
        bound.bytes = Math.max(0, MAX_DOCUMENT_BYTES - documentBytes);
        continue;
      }
      if (typeof line !== "string") {
        longLines += 1;
        yield {
          kind: "rejected",
          location: `${name}:${lineNumber}`,
          reason: longLineReason(line, mode),
        };
        continue;
      }
      const trimmed = line.trim();
      if (trimmed.length === 0) continue;
      let document: unknown;
      try {
        document = parseUntrustedJson(trimmed);
      } catch (error) {
        if (mode === "unknown") {
          mode = "document";
          documentStart = lineNumber;
          documentText = [line];
          documentBytes = line.length + 1;
          bound.bytes = Math.max(0, MAX_DOCUMENT_BYTES - documentBytes);
          continue;
        }
        invalidLines += 1;
        if (invalidLines > MAX_INVALID_LINES) {
          // A file of garbage would otherwise fill the dead-letter file line by line.
          stop();
          yield {
            kind: "rejected",
            location: `${name}:${lineNumber}`,
            reason: `more than ${MAX_INVALID_LINES} invalid lines: the rest of the file was not read`,
          };
          return;
        }
        yield {
          kind: "rejected",
          location: `${name}:${lineNumber}`,
          reason: jsonErrorReason(error),
        };
        continue;
      }
      if (mode === "unknown") {
        // One document a line: from now on a line is one record, and a record is held up to its own bound.
        mode = "lines";
        bound.bytes = MAX_LINE_BYTES;
      }
      yield* recordsOfDocument(document, `${name}:${lineNumber}`);
    }
  } catch (error) {
    // The stream failed while the line after the last one read was coming in.
    yield {
      kind: "rejected",
      location: `${name}:${lineNumber + 1}`,
      reason: `unreadable input: ${messageOf(error)}`,
    };
    return;
  }
  if (mode === "document") {
    const text = documentText.join("\n");
    documentText = [];
    let document: unknown;
    try {
      document = parseUntrustedJson(text);
    } catch (error) {
      yield* salvageLines(text.split("\n"), name, documentStart, jsonErrorReason(error));
      return;
    }
    yield* recordsOfDocument(document, `${name}:${documentStart}`);
  } else if (mode === "unknown" && longLines === 0) {
    yield { kind: "rejected", location: name, reason: "empty input: no JSON document" };
  }
}

/** The records of a log file too large to hold whole, each parsed on its own, each fault said where it is. */
async function* readLogFileRecords(file: LogFileRecords, location: Location): AsyncGenerator<ReadItem> {
  let index = 0;
  try {
    for await (const element of file.records) {
      const at = `${location}#Records[${index}]`;
      index += 1;
      if (typeof element !== "string") {
        yield {
          kind: "rejected",
          location: at,
          reason: `record of ${element.bytes} bytes is longer than the ${MAX_LINE_BYTES} bytes a record may have: not read`,
        };
        continue;
      }
      let entry: unknown;
      try {
        entry = parseUntrustedJson(element);
      } catch (error) {
        yield { kind: "rejected", location: at, reason: jsonErrorReason(error) };
        continue;
      }
      yield* recordOf(entry, at);
    }
  } catch (error) {
    yield {
      kind: "rejected",
      location: `${location}#Records[${index}]`,
      reason: `unreadable input: ${messageOf(error)}`,
    };
    return;
  }
  const fault = file.fault();
  if (fault !== undefined)
    yield { kind: "rejected", location: `${location}#Records[${index}]`, reason: fault };
}

/**
 * A document that does not parse may be NDJSON whose first line is broken: keep every line that parses on its
 * own and reject the others one by one. If no line parses, it was one broken document: reject it once.
 */
function* salvageLines(
  lines: string[],
  name: string,
  firstLine: number,
  reason: string,
): Generator<ReadItem> {
  const parsed: { line: number; document: unknown }[] = [];
  const broken: number[] = [];
  for (const [offset, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    try {
      parsed.push({ line: firstLine + offset, document: parseUntrustedJson(trimmed) });
    } catch {
      broken.push(firstLine + offset);
    }
  }
  if (parsed.length === 0) {
    yield { kind: "rejected", location: `${name}:${firstLine}`, reason };
    return;
  }
  for (const line of broken)
    yield { kind: "rejected", location: `${name}:${line}`, reason: "invalid JSON line" };
  for (const { line, document } of parsed) yield* recordsOfDocument(document, `${name}:${line}`);
}

/**
 * Files up to this size on disk (CloudTrail's are a few MB, most a few KB) are read whole: far fewer async hops
 * than a stream.
 */
const WHOLE_FILE_BYTES = 8 * MiB;
/**
 * A file read whole is inflated whole only up to this size; a larger one (a large log file, an NDJSON export, a
 * bomb) is streamed instead, with every line bounded and a large log file read record by record.
 */
const WHOLE_TEXT_BYTES = MAX_WHOLE_LOG_FILE_BYTES;

/**
 * A file's bytes when it was read whole, the stream of a pipe that was opened (a pipe cannot be opened twice
 * for the same data), or `"stream"` when it is to be streamed from its path (too large, or unreadable: the
 * stream meets the failure again and says so).
 */
type Loaded = Buffer | Readable | "stream";

/**
 * Reads a small file whole: open, size, read, close, the four calls `fs.readFile` makes, with the size
 * checked before anything is read. Failures are not reported here: `readFile` meets them again and says so.
 */
function preload(path: string, options: ReadOptions): Promise<Loaded> {
  const limit = Math.min(WHOLE_FILE_BYTES, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  return readSmallFile(path, limit).catch(() => "stream" as const);
}

async function readSmallFile(path: string, limit: number): Promise<Loaded> {
  const handle = await open(path, "r");
  let streaming = false;
  try {
    const info = await handle.stat();
    // A pipe or device (`<(zcat …)`, /dev/stdin) has no size to trust: it is streamed, like standard input,
    // from this handle (the stream closes it).
    if (!info.isFile()) {
      streaming = true;
      return handle.createReadStream();
    }
    if (info.size > limit) return "stream";
    const size = info.size;
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // CloudTrail never rewrites a log file; one that shrank while being read is read as far as it went.
    return filled < size ? bytes.subarray(0, filled) : bytes;
  } finally {
    if (!streaming) await handle.close();
  }
}

/**
 * Reads a regular file found in a folder whole, synchronously. Real archives hold a file per account, region
 * and 5 minutes, most of a few KB: the four asynchronous calls per file (open, size, read, close, each a hop
 * through libuv's thread pool and a promise) cost more than reading and parsing the file (1.4x the floor's CPU
 * on 16-record files); done synchronously they are four system calls. Files larger than `WHOLE_FILE_BYTES`
 * are streamed.
 */
function readRegularFile(path: string, options: ReadOptions): Loaded {
  const limit = Math.min(WHOLE_FILE_BYTES, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, "r");
    const size = fstatSync(descriptor).size;
    if (size > limit) return "stream";
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(descriptor, bytes, filled, size - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return filled < size ? bytes.subarray(0, filled) : bytes;
  } catch {
    return "stream";
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

export async function* readFile(
  path: string,
  options: ReadOptions = {},
  loaded?: Loaded,
): AsyncGenerator<ReadItem> {
  const limit = Math.min(WHOLE_TEXT_BYTES, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  const raw = loaded ?? (await preload(path, options));
  if (raw instanceof Readable) {
    yield* readStream(raw, path, options);
    return;
  }
  if (raw !== "stream" && raw.length <= limit) {
    const gzip = startsLikeGzip(raw);
    let text: string | undefined;
    try {
      text = (gzip ? gunzipSync(raw, { maxOutputLength: limit }) : raw).toString("utf8");
    } catch {
      // Too large to inflate whole, or damaged: the stream path reads what it can, bounded line by line, and
      // says why it stopped.
      text = undefined;
    }
    if (text !== undefined) {
      const single = singleLineDocument(text);
      if (single !== undefined) {
        yield* recordsOfDocument(single, `${path}:1`);
        return;
      }
      yield* readLines(text.split(/\r?\n/), path, () => {});
      return;
    }
  }
  yield* readStream(createReadStream(path), path, options);
}

/**
 * CloudTrail writes each log file as one JSON document on one line. Such a file is parsed as it is, without
 * splitting it into lines first; anything else (NDJSON, pretty-printed, broken) goes the line by line way,
 * which gives the same records and says where each bad line is.
 */
function singleLineDocument(text: string): unknown {
  const newline = text.indexOf("\n");
  if (newline !== -1 && text.slice(newline).trim().length > 0) return undefined;
  if (text.charCodeAt(0) !== 0x7b /* { */) return undefined;
  try {
    return parseUntrustedJson(text);
  } catch {
    return undefined;
  }
}

/**
 * A stream that may be gzip (`cat x.json.gz | idc-audit ingest -`, a large file, a pipe) is told by its first
 * two bytes; the bytes read to tell are given back in front of the rest. When the reader stops early (a file
 * of garbage), the source is closed with it. A source that fails before its first bytes gives a stream that
 * fails the same way when read, so the failure is reported where every read failure is.
 */
async function gunzippedIfGzip(input: Readable): Promise<Readable> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  try {
    while (headLength < 2) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = Buffer.from(next.value);
      head.push(chunk);
      headLength += chunk.length;
    }
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return new Readable({
      read() {
        this.destroy(failure);
      },
    });
  }
  async function* replayed(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  const bytes = Readable.from(replayed(), { objectMode: false });
  const start = Buffer.concat(head);
  const output = startsLikeGzip(start) ? gunzipped(bytes) : bytes;
  output.once("close", () => input.destroy());
  return output;
}

/** gzip's magic number, the first two bytes of every gzip member. */
function startsLikeGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzipped(raw: Readable): Readable {
  const gunzip = createGunzip();
  raw.on("error", (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** One S3 object, streamed (CloudTrail writes `.json.gz`; the name says whether to gunzip). */
export async function* readObject(
  source: ObjectSource,
  bucket: string,
  key: string,
  options: ReadOptions = {},
): AsyncGenerator<ReadItem> {
  const name = `s3://${bucket}/${key}`;
  let body: Readable;
  try {
    body = await source.open(bucket, key);
  } catch (error) {
    yield { kind: "rejected", location: name, reason: `cannot read object: ${messageOf(error)}` };
    return;
  }
  yield* readStream(body, name, options);
}

/**
 * Every input file below a folder, depth first, in a stable order, yielded lazily. Symbolic links are followed
 * (an archive assembled from links to synced buckets), each folder read once: a link back up the tree is not
 * a loop. A link that leads nowhere is yielded when its name is an input file's, so that reading it says so.
 */
export async function* walk(dir: string, visited: Set<string> = new Set()): AsyncGenerator<string> {
  const real = await realpath(dir).catch(() => dir);
  if (visited.has(real)) return;
  visited.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    let directory = entry.isDirectory();
    let file = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      directory = target?.isDirectory() ?? false;
      file = target === undefined || target.isFile();
    }
    // Digest files prove log integrity; they hold no events.
    if (directory && entry.name !== "CloudTrail-Digest") yield* walk(path, visited);
    else if (file && INPUT_FILE.test(entry.name)) yield path;
  }
}

/**
 * Reads every record from files, folders (recursively) and `-` (standard input), one at a time: memory holds
 * one file at most, however large the archive.
 */
export async function* readInputs(
  paths: readonly string[],
  options: ReadOptions & {
    stdin?: Readable;
    onFile?: (path: string) => void;
    objects?: ObjectSource;
    /** Which files and S3 keys below a folder or prefix to read (a day range); all of them without it. */
    keep?: (pathOrKey: string) => boolean;
  } = {},
): AsyncGenerator<ReadItem> {
  for (const path of paths) {
    if (path.startsWith("s3://")) {
      if (!options.objects) throw new Error("reading s3:// inputs needs an object source");
      const location = parseS3Uri(path);
      for await (const key of options.objects.list(location)) {
        if (options.keep && !options.keep(key)) continue;
        options.onFile?.(`s3://${location.bucket}/${key}`);
        yield* readObject(options.objects, location.bucket, key, options);
      }
      continue;
    }
    if (path === "-") {
      options.onFile?.(path);
      yield* readStream(options.stdin ?? process.stdin, "<stdin>", options);
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      yield { kind: "rejected", location: path, reason: `cannot read input: ${messageOf(error)}` };
      continue;
    }
    if (info.isDirectory()) {
      let files = 0;
      for await (const file of walk(path)) {
        files += 1;
        if (options.keep && !options.keep(file)) continue;
        options.onFile?.(file);
        yield* readFile(file, options, readRegularFile(file, options));
      }
      // Said, not passed over: "read 0 records" of a mistyped folder is no answer (nor "0 missing" of reconcile).
      if (files === 0)
        yield {
          kind: "rejected",
          location: path,
          reason:
            "the folder holds no input file (*.json, *.jsonl, *.ndjson, optionally .gz; CloudTrail-Digest is skipped)",
        };
    } else {
      options.onFile?.(path);
      yield* readFile(path, options);
    }
  }
}

/** Lists input files without reading them, for progress reporting. */
export async function countInputFiles(paths: readonly string[]): Promise<number> {
  let count = 0;
  for (const path of paths) {
    if (path === "-" || path.startsWith("s3://")) continue;
    try {
      const info = await stat(path);
      if (info.isDirectory()) for await (const _file of walk(path)) count += 1;
      else count += 1;
    } catch {
      count += 1;
    }
  }
  return count;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
