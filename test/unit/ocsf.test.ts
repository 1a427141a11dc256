import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { readInputs } from "@idc-audit/core/cloudtrail";
import {
  auditEventToOcsf,
  type OcsfEvent,
  OcsfSchema,
  roleEventToOcsf,
  writeSecurityLake,
} from "@idc-audit/core/export";
import { classifyItem } from "@idc-audit/core/ingest";
import { synthEvents } from "@idc-audit/core/synth";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsDir, loadEvent, ocsfSchemaDir } from "../support/fixtures.ts";

let schema: OcsfSchema;
beforeAll(() => {
  schema = new OcsfSchema(ocsfSchemaDir());
});

/** Each record of the inputs idc-audit keeps, stateless, as `normalize --format ocsf` maps it, with its raw record. */
async function mapped(paths: string[]): Promise<{ raw: Record<string, unknown>; ocsf: OcsfEvent }[]> {
  const out: { raw: Record<string, unknown>; ocsf: OcsfEvent }[] = [];
  for await (const item of readInputs(paths, { stdin: process.stdin })) {
    if (item.kind !== "record") continue;
    const classified = classifyItem(item);
    if (classified.kind === "audited")
      out.push({ raw: item.record, ocsf: auditEventToOcsf(classified.record.event) });
    else if (classified.kind === "role")
      out.push({ raw: item.record, ocsf: roleEventToOcsf(classified.event) });
  }
  return out;
}

function synthMapped(options: Parameters<typeof synthEvents>[0]): OcsfEvent[] {
  const out: OcsfEvent[] = [];
  let index = 0;
  for (const record of synthEvents(options)) {
    const classified = classifyItem({ kind: "record", record, location: `synth#${index++}` });
    if (classified.kind === "audited") out.push(auditEventToOcsf(classified.record.event));
    else if (classified.kind === "role") out.push(roleEventToOcsf(classified.event));
  }
  return out;
}

function violationsOf(events: readonly OcsfEvent[]): string[] {
  return events.flatMap((event) =>
    schema
      .validate(event)
      .map(
        (v) =>
          `${String((event.metadata as { uid: string }).uid)} (${event.class_uid}) ${v.path}: ${v.message}`,
      ),
  );
}

function validAuthentication(): Record<string, unknown> {
  return {
    class_uid: 3002,
    category_uid: 3,
    activity_id: 1,
    type_uid: 300201,
    time: 1_782_864_141_000,
    severity_id: 1,
    metadata: { version: "1.8.0", product: { name: "idc-audit" }, profiles: ["cloud"] },
    cloud: { provider: "AWS" },
    user: { uid: "u-1" },
    service: { name: "AWS IAM Identity Center" },
  };
}

describe("the OCSF 1.8.0 schema, resolved from the OCSF sources", () => {
  it("resolves a class through its extends chain: Authentication has the base event's and its own activities", () => {
    const authentication = schema.classByUid(3002);
    expect(authentication?.name).toBe("authentication");
    const activities = authentication?.attributes.get("activity_id")?.enum;
    expect([...(activities ?? [])].sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "99"]);
    // From iam.json (the parent), from base_event.json (the root), and from profiles/cloud.json ($include).
    expect(authentication?.attributes.get("src_endpoint")?.type).toBe("network_endpoint");
    expect(authentication?.attributes.get("metadata")?.requirement).toBe("required");
    expect(authentication?.attributes.get("cloud")).toMatchObject({
      profile: "cloud",
      requirement: "required",
    });
    expect(schema.classByUid(6003)?.attributes.get("api")?.requirement).toBe("required");
    expect(schema.scalarBase("timestamp_t")).toBe("long_t");
    expect(schema.object("user")?.attributes.get("name")?.type).toBe("username_t");
  });

  it("accepts a minimal valid Authentication event", () => {
    expect(schema.validate(validAuthentication())).toEqual([]);
  });

  it("names each way a record departs from its class", () => {
    const broken = validAuthentication();
    delete broken.user;
    broken.activity_id = 42;
    broken.type_uid = 300299;
    broken.time = "yesterday";
    broken.severity = 3;
    broken.made_up = true;
    broken.src_endpoint = { ip: "not an address" };
    broken.auth_factors = { factor_type_id: 7 };
    const paths = schema.validate(broken).map((violation) => `${violation.path}: ${violation.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        "user: required attribute missing",
        "activity_id: 42 is not one of the enum's values",
        "type_uid: must be class_uid * 100 + activity_id = 300242",
        "time: must be an long",
        "severity: must be a string (string_t)",
        "made_up: not an attribute of authentication",
        "src_endpoint.ip: does not match ip_t",
        "auth_factors: must be an array",
      ]),
    );
  });

  it("checks constraints, nested required attributes and profiles", () => {
    const noService = validAuthentication();
    delete noService.service;
    expect(schema.validate(noService)).toContainEqual({
      path: "(event)",
      message: "needs at least one of service, dst_endpoint",
    });
    const noProfile = validAuthentication();
    noProfile.metadata = { version: "1.8.0", product: { name: "idc-audit" } };
    expect(schema.validate(noProfile)).toContainEqual({
      path: "cloud",
      message: "belongs to profile cloud, not in metadata.profiles",
    });
    const noProvider = validAuthentication();
    noProvider.cloud = { region: "us-east-1" };
    noProvider.user = {};
    expect(schema.validate(noProvider)).toEqual(
      expect.arrayContaining([
        { path: "cloud.provider", message: "required attribute missing" },
        { path: "user", message: "needs at least one of account, name, uid" },
      ]),
    );
    expect(schema.validate({ ...validAuthentication(), class_uid: 3999 })).toEqual([
      { path: "class_uid", message: "no OCSF 1.8.0 class 3999" },
    ]);
  });
});

describe("normalize --format ocsf over the bundled events", () => {
  let bundled: { raw: Record<string, unknown>; ocsf: OcsfEvent }[];
  beforeAll(async () => {
    bundled = await mapped([eventsDir]);
  });

  it("maps every kept record of events/ to a valid event of the class it claims, in all five classes", () => {
    expect(bundled.length).toBeGreaterThan(200);
    expect(violationsOf(bundled.map((entry) => entry.ocsf))).toEqual([]);
    expect(new Set(bundled.map((entry) => entry.ocsf.class_uid))).toEqual(
      new Set([3001, 3002, 3005, 3006, 6003]),
    );
  });

  it("carries the event's id, time, session, address, agent and cloud, and type_uid from class and activity", () => {
    for (const { raw, ocsf } of bundled) {
      const metadata = ocsf.metadata as Record<string, unknown>;
      expect(metadata.uid).toBe(raw.eventID);
      expect(metadata.original_time).toBe(raw.eventTime);
      expect(ocsf.time).toBe(Date.parse(String(raw.eventTime)));
      expect(ocsf.type_uid).toBe(ocsf.class_uid * 100 + ocsf.activity_id);
      expect((ocsf.cloud as Record<string, unknown>).region).toBe(raw.awsRegion);
      if (typeof raw.userAgent === "string" && raw.userAgent.length < 1000)
        expect(ocsf.http_request).toEqual({ user_agent: raw.userAgent });
    }
    const portal = bundled.find(
      ({ raw }) =>
        raw.eventName === "Authenticate" &&
        (raw.userIdentity as Record<string, unknown>).onBehalfOf !== undefined,
    );
    if (!portal) throw new Error("no new-shape Authenticate in events/");
    const credentialId = (portal.raw.userIdentity as Record<string, unknown>).credentialId;
    expect(portal.ocsf).toMatchObject({
      class_uid: 3002,
      activity_id: 1,
      status_id: 1,
      session: { uid: credentialId },
      src_endpoint: { ip: portal.raw.sourceIPAddress },
      user: { uid: expect.any(String), domain: expect.stringMatching(/^d-/) },
    });
  });

  it("maps a failed password check with its factor and outcome, and without the name that was typed", () => {
    const failures = bundled.filter(
      ({ raw }) =>
        raw.eventName === "CredentialVerification" &&
        JSON.stringify(raw.serviceEventDetails ?? "")
          .toLowerCase()
          .includes("failure"),
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const { ocsf } of failures) {
      expect(ocsf).toMatchObject({ class_uid: 3002, status_id: 2, status: "Failure", severity_id: 2 });
    }
    const password = failures.find(
      ({ ocsf }) => (ocsf.unmapped as Record<string, unknown>).credential_type === "PASSWORD",
    );
    expect(password?.ocsf).toMatchObject({
      auth_factors: [{ factor_type_id: 11, factor_type: "Password" }],
      is_mfa: false,
    });
  });

  it("exports no typed sign-in name, no LoginTo one-time code and no token or secret of any record", () => {
    const seen = new Map<string, number>();
    for (const { raw, ocsf } of bundled) {
      const text = JSON.stringify(ocsf);
      for (const secret of secretsOf(raw)) {
        seen.set(secret.kind, (seen.get(secret.kind) ?? 0) + 1);
        // A piece of a code is a leak too: long values are checked 12 characters at a time.
        for (const piece of secret.kind === "typed name" ? [secret.value] : piecesOf(secret.value))
          expect(text, `${String(raw.eventID)} leaks a ${secret.kind}: ${piece}`).not.toContain(piece);
      }
    }
    // The check has something to find among the records exported: typed names, LoginTo codes and tokens.
    expect(seen.get("typed name")).toBeGreaterThan(5);
    expect(seen.get("LoginTo")).toBeGreaterThan(5);
    expect(seen.get("token")).toBeGreaterThan(0);
  });

  it("maps group, membership, user and assignment administration to their IAM classes", () => {
    const byName = (name: string) =>
      bundled.find(({ raw }) => raw.eventName === name && raw.errorCode === undefined)?.ocsf;
    expect(byName("CreateGroupMembership")).toMatchObject({
      class_uid: 3006,
      activity_id: 3,
      group: { uid: "aaa6373a-a1a8-487e-ac4e-11e5c638e487" },
      user: { uid: "9067230c03-1f2e3d4c-5b6a-4789-9abc-def012345678" },
    });
    expect(byName("DeleteUser")).toMatchObject({
      class_uid: 3001,
      activity_id: 6,
      user: { uid: "55d043f2-194b-4e52-af2e-9b682f6b88f3" },
    });
    expect(byName("CreateAccountAssignment")).toMatchObject({
      class_uid: 3005,
      activity_id: 1,
      privileges: ["arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-5f3e1a2b3c4d5e6f"],
      user: { uid: "94d00cd8-e9e6-4810-b177-b08e84725435" },
      // `resources`: this class deprecated `resource` in OCSF 1.5.0.
      resources: [{ uid: "444455556666" }],
    });
    expect(byName("CreateAccountAssignment")).not.toHaveProperty("resource");
  });

  it("maps an administrator's removal of a user's MFA device to Account Change on that user, not on the admin", () => {
    const record = loadEvent("transitional/DeleteMfaDeviceForUser__success.json");
    record.userIdentity = loadEvent("admin/DeleteUser__success.json").userIdentity;
    record.requestParameters = {
      identityStoreId: "d-1234567890",
      userId: "3f1c0000-aaaa-4bbb-8ccc-000000000042",
    };
    const classified = classifyItem({ kind: "record", record, location: "test" });
    if (classified.kind !== "audited") throw new Error(`not audited: ${classified.kind}`);
    const ocsf = auditEventToOcsf(classified.record.event);
    expect(schema.validate(ocsf)).toEqual([]);
    expect(ocsf).toMatchObject({
      class_uid: 3001,
      activity_id: 11,
      user: { uid: "3f1c0000-aaaa-4bbb-8ccc-000000000042" },
      actor: { user: { uid: "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/dana", type_id: 2 } },
    });
  });

  it("maps a role-session call to API Activity with the role session, its access key and its role", () => {
    const call = bundled.find(({ raw }) => raw.eventName === "ListBuckets")?.ocsf;
    expect(call).toMatchObject({
      class_uid: 6003,
      activity_id: 2,
      api: { operation: "ListBuckets", service: { name: "s3.amazonaws.com" } },
      actor: {
        session: {
          uid: expect.stringMatching(/^rs-[0-9a-f]{24}$/),
          credential_uid: expect.stringMatching(/^ASIA/),
          issuer: expect.stringMatching(/^arn:aws:iam::\d{12}:role\/AWSReservedSSO_/),
        },
      },
    });
  });
});

/**
 * What must never leave idc-audit: names typed at failed or unauthenticated sign-in steps, the `LoginTo` query
 * string, and every string under a key that names a token, secret, password or code.
 */
function piecesOf(value: string): string[] {
  if (value.length <= 12) return [value];
  const pieces: string[] = [];
  for (let start = 0; start + 12 <= value.length; start += 6) pieces.push(value.slice(start, start + 12));
  return pieces;
}

function secretsOf(
  raw: Record<string, unknown>,
): { kind: "typed name" | "LoginTo" | "token"; value: string }[] {
  const secrets: { kind: "typed name" | "LoginTo" | "token"; value: string }[] = [];
  const extra = (raw.additionalEventData ?? {}) as Record<string, unknown>;
  const identity = (raw.userIdentity ?? {}) as Record<string, unknown>;
  const typedStep =
    raw.eventSource === "signin.amazonaws.com" &&
    (["CredentialChallenge", "CredentialVerification"].includes(String(raw.eventName)) ||
      JSON.stringify(raw.serviceEventDetails ?? "")
        .toLowerCase()
        .includes("failure"));
  if (typedStep) {
    for (const name of [extra.UserName, identity.userName])
      if (typeof name === "string" && name !== "HIDDEN_DUE_TO_SECURITY_REASONS")
        secrets.push({ kind: "typed name", value: name });
  }
  if (typeof extra.LoginTo === "string" && extra.LoginTo.includes("?")) {
    const query = extra.LoginTo.slice(extra.LoginTo.indexOf("?") + 1);
    secrets.push({ kind: "LoginTo", value: query });
    // The one-time values; `organization` and `region` name the instance, which the host names anyway.
    for (const [key, value] of new URLSearchParams(query))
      if (/state|code|token/i.test(key) && value.length >= 6) secrets.push({ kind: "LoginTo", value });
  }
  const visit = (value: unknown, secretKey: boolean) => {
    if (typeof value === "string") {
      if (secretKey && value.length >= 8 && value !== "HIDDEN_DUE_TO_SECURITY_REASONS")
        secrets.push({ kind: "token", value });
    } else if (Array.isArray(value)) for (const item of value) visit(item, secretKey);
    else if (typeof value === "object" && value !== null)
      for (const [key, inner] of Object.entries(value))
        visit(inner, secretKey || /token|secret|password|code|assertion/i.test(key));
  };
  visit(raw.requestParameters, false);
  visit(raw.responseElements, false);
  visit(raw.additionalEventData, false);
  return secrets;
}

describe("OCSF export of synthetic archives", () => {
  it("maps every record of three eras, with role activity, to a valid event", () => {
    const events = synthMapped({ events: 3000, users: 12, seed: 11, roleRatio: 2 });
    expect(violationsOf(events)).toEqual([]);
    const roleCalls = events.filter(
      (event) =>
        typeof (event.actor as { session?: { uid?: string } } | undefined)?.session?.uid === "string" &&
        String((event.actor as { session: { uid: string } }).session.uid).startsWith("rs-"),
    );
    expect(roleCalls.length).toBeGreaterThan(1000);
    expect(events.filter((event) => event.class_uid === 3002).length).toBeGreaterThan(200);
  });

  it("maps archives of other seeds and failure rates to valid events", () => {
    for (const seed of [1, 2, 3]) {
      const events = synthMapped({ events: 800, users: 6, seed, failureRate: 0.3, roleRatio: 1 });
      expect(violationsOf(events)).toEqual([]);
    }
  });
});

describe("OCSF as Parquet in Security Lake's custom-source layout", () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "idc-audit-ocsf-"));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("writes one source folder per class, partitioned by region, account and day, and reads back equal to the NDJSON", async () => {
    const events = [
      ...(await mapped([eventsDir])).map((entry) => entry.ocsf),
      ...synthMapped({ events: 600, users: 5, seed: 4, roleRatio: 2 }),
    ];
    const written = await writeSecurityLake(out, events);
    const files = listFiles(out).map((file) => relative(out, file).split(sep).join("/"));
    expect(files.sort()).toEqual(written.map((file) => file.path.split(sep).join("/")).sort());
    for (const file of files)
      expect(file).toMatch(
        /^idc-audit-(authentication|account-change|group-management|user-access|api-activity)\/region=[a-z0-9-]+\/accountId=[0-9a-z]+\/eventDay=\d{8}\/idc-audit-[0-9a-f]{16}\.parquet$/,
      );
    expect(written.reduce((sum, file) => sum + file.events, 0)).toBe(events.length);

    // The same event can sit in two fixture files: each exported record is matched once.
    const expected = new Map<string, string[]>();
    for (const event of events) {
      const uid = (event.metadata as { uid: string }).uid;
      expected.set(uid, [...(expected.get(uid) ?? []), JSON.stringify(event)]);
    }
    let readBack = 0;
    for (const file of written) {
      const buffer = readFileSync(join(out, file.path));
      const rows = await parquetReadObjects({
        file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
      });
      for (const row of rows) {
        const plain = plainOf(row) as OcsfEvent;
        expect(plain.class_uid).toBe(file.classUid);
        const candidates = expected.get((plain.metadata as { uid: string }).uid) ?? [];
        const match = candidates.findIndex((text) => isDeepStrictEqual(JSON.parse(text), plain));
        expect(match, JSON.stringify(plain)).toBeGreaterThanOrEqual(0);
        candidates.splice(match, 1);
        readBack += 1;
      }
    }
    expect(readBack).toBe(events.length);
  });

  it("replaces an export window's file when the window is exported again with late events", async () => {
    const folder = mkdtempSync(join(tmpdir(), "idc-audit-ocsf-window-"));
    const events = synthMapped({ events: 200, users: 3, seed: 6, roleRatio: 0 });
    const window = { since: "2024-01-01T00:00:00Z", until: "2030-01-01T00:00:00Z" };
    const before = await writeSecurityLake(folder, events.slice(0, -20), window);
    const after = await writeSecurityLake(folder, events, window);
    const files = listFiles(folder).map((file) => relative(folder, file).split(sep).join("/"));
    // Every partition has one file, holding every event: none is in the lake twice.
    expect(files.sort()).toEqual(after.map((file) => file.path.split(sep).join("/")).sort());
    expect(after.reduce((sum, file) => sum + file.events, 0)).toBe(events.length);
    expect(before.every((file) => after.some((later) => later.path === file.path))).toBe(true);
    rmSync(folder, { recursive: true, force: true });
  });

  it("stores each OCSF attribute in the Parquet type of its OCSF type", async () => {
    const events = synthMapped({ events: 400, users: 5, seed: 9, roleRatio: 2 });
    const written = await writeSecurityLake(out, events);
    const mismatches: string[] = [];
    for (const file of written) {
      const buffer = readFileSync(join(out, file.path));
      const metadata = parquetMetadata(
        buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
      );
      const eventClass = schema.classByUid(file.classUid);
      if (!eventClass) throw new Error(`no class ${file.classUid}`);
      for (const column of metadata.row_groups[0]?.columns ?? []) {
        const path = (column.meta_data?.path_in_schema ?? []).filter(
          (part) => part !== "list" && part !== "element",
        );
        if (path[0] === "unmapped") continue;
        let shape: { attributes: ReadonlyMap<string, { type: string }> } | undefined = eventClass;
        let type: string | undefined;
        for (const part of path) {
          type = shape?.attributes.get(part)?.type;
          shape = type ? schema.object(type) : undefined;
        }
        const base = type ? schema.scalarBase(type) : undefined;
        const wanted = {
          string_t: "BYTE_ARRAY",
          integer_t: "INT32",
          long_t: "INT64",
          boolean_t: "BOOLEAN",
          float_t: "DOUBLE",
          json_t: "BYTE_ARRAY",
        }[base ?? "json_t"];
        if (!base || column.meta_data?.type !== wanted)
          mismatches.push(`${path.join(".")}: ${column.meta_data?.type} for ${type ?? "no OCSF type"}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** A row as JSON would carry it: bigints as numbers, absent struct fields and null columns left out. */
function plainOf(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plainOf);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value))
      if (inner !== null && inner !== undefined) out[key] = plainOf(inner);
    return out;
  }
  return value;
}
