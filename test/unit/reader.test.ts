import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import {
  MAX_DOCUMENT_BYTES,
  MAX_LINE_BYTES,
  MAX_WHOLE_LOG_FILE_BYTES,
  type ReadItem,
  readInputs,
} from "@idc-audit/core/cloudtrail";
import { afterAll, describe, expect, it } from "vitest";
import { eventsDir, loadEvent } from "../support/fixtures.ts";

async function collect(paths: string[], options: Parameters<typeof readInputs>[1] = {}): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const item of readInputs(paths, options)) items.push(item);
  return items;
}

const records = (items: ReadItem[]) => items.filter((item) => item.kind === "record");
const rejections = (items: ReadItem[]) => items.filter((item) => item.kind === "rejected");

const scratch = mkdtempSync(join(tmpdir(), "idc-audit-reader-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("reading inputs", () => {
  it("reads a single pretty-printed event", async () => {
    const items = await collect([join(eventsDir, "new/ListAccounts__success.json")]);
    expect(records(items)).toHaveLength(1);
    expect(rejections(items)).toHaveLength(0);
  });

  it("reads a CloudTrail log file, plain and gzipped, with each record's position", async () => {
    const plain = await collect([join(eventsDir, "envelopes/cloudtrail-log.json")]);
    const gzipped = await collect([join(eventsDir, "envelopes/cloudtrail-log.json.gz")]);
    expect(records(plain).length).toBeGreaterThan(1);
    expect(records(gzipped).map((item) => item.kind === "record" && item.record.eventID)).toEqual(
      records(plain).map((item) => item.kind === "record" && item.record.eventID),
    );
    expect(plain[1]?.location).toMatch(/cloudtrail-log\.json:1#Records\[1\]$/);
  });

  it("unwraps EventBridge envelopes", async () => {
    const items = await collect([join(eventsDir, "envelopes/eventbridge__GetRoleCredentials.json")]);
    const [first] = records(items);
    expect(first?.kind === "record" && first.record.eventName).toBe("GetRoleCredentials");
  });

  it("streams NDJSON of envelopes and events line by line", async () => {
    const items = await collect([join(eventsDir, "envelopes/mixed.ndjson")]);
    expect(records(items).length).toBeGreaterThan(1);
    for (const item of records(items)) {
      expect(item.kind === "record" && typeof item.record.eventID).toBe("string");
    }
  });

  it("reads standard input", async () => {
    const event = loadEvent("new/Logout__success.json");
    const stdin = Readable.from([
      `${JSON.stringify(event)}\n${JSON.stringify({ detail: event, "detail-type": "x" })}\n`,
    ]);
    const items = await collect(["-"], { stdin });
    expect(records(items)).toHaveLength(2);
    expect(items[1]?.location).toBe("<stdin>:2");
  });

  it("reads gzip on standard input, even when its first chunk is a single byte", async () => {
    const event = loadEvent("new/Logout__success.json");
    const gz = gzipSync(`${JSON.stringify(event)}\n${JSON.stringify(event)}\n`);
    const stdin = Readable.from([gz.subarray(0, 1), gz.subarray(1, 7), gz.subarray(7)]);
    const items = await collect(["-"], { stdin });
    expect(records(items)).toHaveLength(2);
    expect(items.map((item) => item.location)).toEqual(["<stdin>:1", "<stdin>:2"]);
  });

  it("streams a path that is a pipe, gzip or not, since a pipe has no size to read it by", async () => {
    const event = loadEvent("new/Logout__success.json");
    const ndjson = `${JSON.stringify(event)}\n${JSON.stringify(event)}\n`;
    for (const [name, bytes] of [
      ["plain.fifo", Buffer.from(ndjson)],
      ["gzip.fifo", gzipSync(ndjson)],
    ] as const) {
      const fifo = join(scratch, name);
      execFileSync("mkfifo", [fifo]);
      // The writer blocks until the reader opens the pipe; it runs alongside the read.
      const written = new Promise<void>((resolve, reject) =>
        createWriteStream(fifo).on("error", reject).end(bytes, resolve),
      );
      const items = await collect([fifo]);
      await written;
      expect(rejections(items)).toEqual([]);
      expect(items.map((item) => item.location)).toEqual([`${fifo}:1`, `${fifo}:2`]);
    }
  });

  it("reports standard input that fails before its first bytes as an unreadable input", async () => {
    const stdin = new Readable({
      read() {
        this.destroy(new Error("EIO: input/output error, read"));
      },
    });
    const items = await collect(["-"], { stdin });
    expect(items).toEqual([
      { kind: "rejected", location: "<stdin>:1", reason: "unreadable input: EIO: input/output error, read" },
    ]);
  });

  it("closes standard input when it gives up on a stream of garbage", async () => {
    const event = JSON.stringify(loadEvent("new/Logout__success.json"));
    let sent = 0;
    // Never ends: one event, then invalid lines for as long as anyone reads.
    const stdin = new Readable({
      read() {
        sent += 1;
        this.push(sent === 1 ? `${event}\n` : "not json\n".repeat(100));
      },
    });
    const items = await collect(["-"], { stdin });
    expect(records(items)).toHaveLength(1);
    expect(rejections(items).at(-1)?.reason).toMatch(/invalid lines: the rest of the file was not read/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stdin.destroyed).toBe(true);
  });

  it("walks an archive folder recursively in a stable order", async () => {
    const items = await collect([join(eventsDir, "archive")]);
    expect(records(items).length).toBeGreaterThan(20);
    expect(items.map((item) => item.location)).toEqual(
      (await collect([join(eventsDir, "archive")])).map((i) => i.location),
    );
  });

  it("rejects each malformed input with its file and reason, and keeps reading the rest", async () => {
    // A folder walk reads JSON files; other files are read when named.
    const items = await collect([join(eventsDir, "malformed"), join(eventsDir, "malformed/not-json.txt")]);
    const rejected = rejections(items);
    const files = rejected.map((item) => item.location.split("/").pop()?.split(":")[0]);
    expect(files).toEqual(
      expect.arrayContaining([
        "awsdocs-ssoug-2025__CredentialChallenge__5.json",
        "awsdocs-ssoug-2025__CredentialVerification__5.json",
        "empty.json",
        "not-json.txt",
        "truncated.json",
        "truncated.json.gz",
      ]),
    );
    for (const item of rejected) expect(item.kind === "rejected" && item.reason.length).toBeGreaterThan(5);
    // The Records file with one bad record still yields its two good ones (the bad one fails validation later).
    const fromRecordsFile = records(items).filter((item) =>
      item.location.includes("records-one-missing-eventName"),
    );
    expect(fromRecordsFile).toHaveLength(3);
  });

  it("keeps the good lines of NDJSON whose first line is broken", async () => {
    const path = join(scratch, "broken-first.ndjson");
    const event = JSON.stringify(loadEvent("new/Logout__success.json"));
    writeFileSync(path, `{"eventID": "trunc\n${event}\n${event}\n`);
    const items = await collect([path]);
    expect(records(items)).toHaveLength(2);
    expect(rejections(items).map((item) => item.location)).toEqual([`${path}:1`]);
  });

  it("stops a gzip bomb at the size limit instead of inflating it into memory", async () => {
    const path = join(scratch, "bomb.json.gz");
    writeFileSync(path, gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)));
    const items = await collect([path], { maxFileBytes: 1024 * 1024 });
    expect(rejections(items)).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: "rejected", reason: expect.stringContaining("larger than") });
  });

  it("skips an NDJSON line longer than a record may be, saying so, and reads the lines around it, from a file or a stream", async () => {
    // Prepare: a well-formed record with a 2 MiB field, between two ordinary ones.
    const event = loadEvent("new/Logout__success.json");
    const huge = JSON.stringify({ ...event, userAgent: "u".repeat(2 * MAX_LINE_BYTES) });
    const ndjson = `${JSON.stringify(event)}\n${huge}\n${JSON.stringify(event)}\n`;
    const path = join(scratch, "long-line.ndjson");
    writeFileSync(path, ndjson);
    // Act
    const fromFile = await collect([path]);
    const fromStream = await collect(["-"], { stdin: Readable.from([gzipSync(ndjson)]) });
    // Assess
    for (const [items, name] of [
      [fromFile, path],
      [fromStream, "<stdin>"],
    ] as const) {
      expect(records(items).map((item) => item.location)).toEqual([`${name}:1`, `${name}:3`]);
      expect(rejections(items)).toEqual([
        {
          kind: "rejected",
          location: `${name}:2`,
          reason: `line of ${Buffer.byteLength(huge)} bytes is longer than the ${MAX_LINE_BYTES} bytes an NDJSON record may have: not read`,
        },
      ]);
    }
  });

  it("rejects a document larger than a document may be without holding it, saying so", async () => {
    // Prepare: a pretty-printed document past the bound, gzipped on standard input.
    const line = `  "k": "${"v".repeat(1000)}",\n`;
    const body = line.repeat(Math.ceil(MAX_DOCUMENT_BYTES / line.length) + 10);
    const stdin = Readable.from([gzipSync(`{\n${body}  "end": 1\n}\n`)]);
    // Act
    const items = await collect(["-"], { stdin });
    // Assess
    expect(items).toEqual([
      {
        kind: "rejected",
        location: "<stdin>:1",
        reason: `document is larger than the ${MAX_DOCUMENT_BYTES} bytes a JSON document may have: not read`,
      },
    ]);
  });

  it("skips a first line longer than a document may be and reads the NDJSON after it", async () => {
    // Prepare: an endless-looking first line (not JSON), then two records.
    const event = JSON.stringify(loadEvent("new/Logout__success.json"));
    const stdin = Readable.from([
      gzipSync(Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x61)),
      gzipSync(`\n${event}\n${event}\n`),
    ]);
    // Act
    const items = await collect(["-"], { stdin });
    // Assess
    expect(rejections(items)).toEqual([
      {
        kind: "rejected",
        location: "<stdin>:1",
        reason: `line of ${MAX_DOCUMENT_BYTES + 1} bytes is longer than the ${MAX_DOCUMENT_BYTES} bytes a JSON document may have: not read`,
      },
    ]);
    expect(records(items).map((item) => item.location)).toEqual(["<stdin>:2", "<stdin>:3"]);
  });

  it("reads a log file too large to hold whole record by record, cutting a record longer than a record may be", async () => {
    // Prepare: a one-line log file past the bound, with a record of 2 MiB, a deeply nested one and a string
    // holding brackets and escaped quotes; and the same file cut short.
    const event = loadEvent("new/Logout__success.json");
    const tricky = { ...event, eventID: "tricky", userAgent: 'a "quoted" ] } [ { \\' };
    const filler = Array.from({ length: Math.ceil(MAX_WHOLE_LOG_FILE_BYTES / 1000) }, (_, index) => ({
      ...event,
      eventID: `filler-${index}`,
    }));
    const huge = { ...event, eventID: "huge", userAgent: "u".repeat(2 * MAX_LINE_BYTES) };
    const deep = `{"eventID":"deep","requestParameters":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const text = `{"Records":[${[tricky, ...filler, huge].map((record) => JSON.stringify(record)).join(",")},${deep},1]}\n`;
    const path = join(scratch, "large-log-file.json.gz");
    writeFileSync(path, gzipSync(text));
    const cut = join(scratch, "large-log-file-cut.json");
    writeFileSync(cut, text.slice(0, text.length - 200));
    // Act
    const items = await collect([path]);
    const cutItems = await collect([cut]);
    // Assess
    const count = filler.length + 4;
    expect(items).toHaveLength(count);
    expect(items[0]).toMatchObject({ kind: "record", record: tricky, location: `${path}:1#Records[0]` });
    expect(
      items.slice(1, filler.length + 1).map((item) => item.kind === "record" && item.record.eventID),
    ).toEqual(filler.map((record) => record.eventID));
    expect(rejections(items)).toEqual([
      {
        kind: "rejected",
        location: `${path}:1#Records[${filler.length + 1}]`,
        reason: `record of ${JSON.stringify(huge).length} bytes is longer than the ${MAX_LINE_BYTES} bytes a record may have: not read`,
      },
      {
        kind: "rejected",
        location: `${path}:1#Records[${filler.length + 3}]`,
        reason: "record is not a JSON object",
      },
    ]);
    expect(items[filler.length + 2]).toMatchObject({ kind: "record", record: { eventID: "deep" } });
    expect(cutItems.at(-1)).toEqual({
      kind: "rejected",
      // The cut falls inside the deeply nested record.
      location: `${cut}:1#Records[${filler.length + 2}]`,
      reason: "the log file ends inside its Records array (truncated)",
    });
  });

  it("never quotes the input in a rejection reason (it may hold a one-time code or a typed password)", async () => {
    const path = join(scratch, "secret.ndjson");
    writeFileSync(
      path,
      '{"eventID": "ok"}\n{"eventID": "a", "typed": Sup3rSecret}\n{"LoginTo": "https://x/?auth_code=ONE-TIME-CODE",}\n',
    );
    const whole = join(scratch, "secret.json");
    writeFileSync(whole, '{\n  "UserName": Sup3rSecret\n}\n');
    const items = await collect([path, whole]);
    expect(rejections(items)).toHaveLength(3);
    const reasons = JSON.stringify(items);
    expect(reasons).not.toContain("Sup3rSecret");
    expect(reasons).not.toContain("ONE-TIME-CODE");
    expect(reasons).toContain("invalid JSON");
  });

  it("abandons a file of garbage after a bounded number of rejections, saying so", async () => {
    const path = join(scratch, "garbage.ndjson.gz");
    const event = JSON.stringify(loadEvent("new/Logout__success.json"));
    writeFileSync(path, gzipSync(`${event}\n${"not json\n".repeat(5000)}`));
    const items = await collect([path]);
    expect(records(items)).toHaveLength(1);
    expect(rejections(items)).toHaveLength(1001);
    expect(items[items.length - 1]).toMatchObject({
      reason: expect.stringContaining("the rest of the file was not read"),
    });
  });

  it("strips __proto__ keys so records cannot pollute prototypes", async () => {
    const path = join(scratch, "proto.json");
    writeFileSync(
      path,
      '{"eventID":"a","__proto__":{"polluted":true},"constructor":{"prototype":{"bad":1}}}',
    );
    const items = await collect([path]);
    const [first] = records(items);
    expect(first?.kind === "record" && Object.keys(first.record)).toEqual(["eventID"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("strips __proto__ and constructor keys spelled with \\u escapes too", async () => {
    const path = join(scratch, "escaped-proto.json");
    writeFileSync(
      path,
      '{"Records":[{"eventID":"a","\\u005f_proto__":{"polluted":true},"c\\u006fnstructor":{"prototype":{"bad":1}}}]}',
    );
    const [first] = records(await collect([path]));
    expect(first?.kind === "record" && Object.keys(first.record)).toEqual(["eventID"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reads a one-line log file whole and a multi-line one line by line, with the same records and places", async () => {
    const log = { Records: [{ eventID: "a" }, { eventID: "b" }] };
    const oneLine = join(scratch, "one-line.json");
    const oneLineCrlf = join(scratch, "one-line-crlf.json");
    const ndjson = join(scratch, "split.ndjson");
    writeFileSync(oneLine, `${JSON.stringify(log)}\n`);
    writeFileSync(oneLineCrlf, `${JSON.stringify(log)}\r\n\r\n`);
    writeFileSync(ndjson, `${JSON.stringify(log)}\n${JSON.stringify({ eventID: "c" })}\n`);
    const places = (items: ReadItem[]) => items.map((item) => item.location.replace(scratch, ""));
    expect(places(await collect([oneLine]))).toEqual([
      "/one-line.json:1#Records[0]",
      "/one-line.json:1#Records[1]",
    ]);
    expect(places(await collect([oneLineCrlf]))).toEqual([
      "/one-line-crlf.json:1#Records[0]",
      "/one-line-crlf.json:1#Records[1]",
    ]);
    expect(places(await collect([ndjson]))).toEqual([
      "/split.ndjson:1#Records[0]",
      "/split.ndjson:1#Records[1]",
      "/split.ndjson:2",
    ]);
  });

  it("follows symbolic links to folders and files, reading a folder once however many links lead to it", async () => {
    // Prepare: a folder of links: to the bundled `new` folder (twice), to one of its files, back to itself, and
    // to nothing.
    const linked = join(scratch, "linked");
    mkdirSync(linked);
    symlinkSync(join(eventsDir, "new"), join(linked, "a-new"));
    symlinkSync(join(eventsDir, "new"), join(linked, "b-new-again"));
    symlinkSync(join(eventsDir, "new", "Logout__success.json"), join(linked, "c-logout.json"));
    symlinkSync(linked, join(linked, "d-loop"));
    symlinkSync(join(scratch, "gone"), join(linked, "e-gone.json"));
    // Act
    const items = await collect([linked]);
    const direct = await collect([join(eventsDir, "new")]);
    // Assess: the folder's records once, the linked file's once more, the dangling link rejected by name
    // (before, every link was passed over: 0 records).
    expect(records(items)).toHaveLength(records(direct).length + 1);
    expect(rejections(items).map((item) => item.location)).toEqual([
      ...rejections(direct).map((item) =>
        item.location.replace(join(eventsDir, "new"), join(linked, "a-new")),
      ),
      `${join(linked, "e-gone.json")}:1`,
    ]);
    expect(rejections(items).at(-1)).toMatchObject({ reason: expect.stringContaining("ENOENT") });
  });

  it("says that a digest file given by name is one", async () => {
    const digest = join(
      scratch,
      "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260701T000000Z.json.gz",
    );
    writeFileSync(
      digest,
      gzipSync(
        JSON.stringify({
          awsAccountId: "111122223333",
          digestStartTime: "2026-06-30T23:00:00Z",
          digestEndTime: "2026-07-01T00:00:00Z",
          logFiles: [],
        }),
      ),
    );
    expect(await collect([digest])).toEqual([
      {
        kind: "rejected",
        location: expect.stringContaining(digest),
        reason: expect.stringContaining("a CloudTrail digest file"),
      },
    ]);
  });

  it("says that a folder holds no input file", async () => {
    const empty = join(scratch, "no-logs");
    mkdirSync(empty);
    writeFileSync(join(empty, "notes.txt"), "not a log");
    expect(await collect([empty])).toEqual([
      { kind: "rejected", location: empty, reason: expect.stringContaining("holds no input file") },
    ]);
  });

  it("rejects a path that does not exist", async () => {
    const items = await collect([join(scratch, "nope")]);
    expect(items).toEqual([
      expect.objectContaining({ kind: "rejected", reason: expect.stringContaining("cannot read") }),
    ]);
  });
});
