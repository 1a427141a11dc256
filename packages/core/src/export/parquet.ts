import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SchemaElement } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { OcsfEvent } from "./ocsf.ts";

/**
 * OCSF events as Parquet in the layout Amazon Security Lake reads from a custom source:
 * `<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<file>.parquet`, one source (folder) per
 * OCSF class, as Security Lake registers one class per custom source. Nested OCSF objects are Parquet
 * structs and arrays are Parquet lists, so the columns are the OCSF attributes; `unmapped` (free-form by
 * definition) is one JSON column.
 */

/** Security Lake custom-source names: one per class (the name is the folder under `ext/`). */
export const SOURCE_NAMES: Readonly<Record<number, string>> = {
  3001: "idc-audit-account-change",
  3002: "idc-audit-authentication",
  3005: "idc-audit-user-access",
  3006: "idc-audit-group-management",
  6003: "idc-audit-api-activity",
};

/** Attributes stored as one JSON column: OCSF gives them no attributes of their own. */
const JSON_COLUMNS: ReadonlySet<string> = new Set(["unmapped"]);

/** Integer attributes that are OCSF `long_t` or `timestamp_t` (the rest of OCSF's integers are `integer_t`). */
function isLong(name: string): boolean {
  return name === "time" || name === "type_uid" || name.endsWith("_time") || name === "count";
}

type Shape =
  | { readonly kind: "scalar"; type: "BOOLEAN" | "INT32" | "INT64" | "DOUBLE" | "STRING" }
  | { readonly kind: "json" }
  | { readonly kind: "struct"; readonly fields: Map<string, Shape> }
  | { readonly kind: "list"; element: Shape | undefined };

function shapeOf(name: string, value: unknown, known: Shape | undefined): Shape {
  if (JSON_COLUMNS.has(name)) return { kind: "json" };
  if (Array.isArray(value)) {
    const list: Shape = known?.kind === "list" ? known : { kind: "list", element: undefined };
    if (list.kind === "list") for (const item of value) list.element = shapeOf(name, item, list.element);
    return list;
  }
  if (typeof value === "object" && value !== null) {
    const struct: Shape = known?.kind === "struct" ? known : { kind: "struct", fields: new Map() };
    if (struct.kind === "struct")
      for (const [field, inner] of Object.entries(value))
        struct.fields.set(field, shapeOf(field, inner, struct.fields.get(field)));
    return struct;
  }
  if (typeof value === "boolean") return { kind: "scalar", type: "BOOLEAN" };
  if (typeof value === "number") {
    if (!Number.isInteger(value) || (known?.kind === "scalar" && known.type === "DOUBLE"))
      return { kind: "scalar", type: "DOUBLE" };
    return { kind: "scalar", type: isLong(name) ? "INT64" : "INT32" };
  }
  if (typeof value === "string") return { kind: "scalar", type: "STRING" };
  throw new Error(`cannot store ${name} (${typeof value}) in Parquet`);
}

function schemaElements(name: string, shape: Shape): SchemaElement[] {
  switch (shape.kind) {
    case "json":
      return [{ name, type: "BYTE_ARRAY", converted_type: "JSON", repetition_type: "OPTIONAL" }];
    case "scalar":
      if (shape.type === "STRING")
        return [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }];
      return [{ name, type: shape.type, repetition_type: "OPTIONAL" }];
    case "struct": {
      const children = [...shape.fields].sort(([a], [b]) => (a < b ? -1 : 1));
      return [
        { name, repetition_type: "OPTIONAL", num_children: children.length },
        ...children.flatMap(([field, inner]) => schemaElements(field, inner)),
      ];
    }
    case "list": {
      const element = shape.element ?? { kind: "scalar", type: "STRING" };
      // The three-level list every Parquet reader (Athena, Spark, DuckDB) understands.
      return [
        { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        ...schemaElements("element", element),
      ];
    }
  }
}

/** The value as the writer takes it: `INT64` as bigint, struct fields the schema does not know kept out. */
function columnValue(shape: Shape, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (shape.kind) {
    case "json":
      return value;
    case "scalar":
      return shape.type === "INT64" ? BigInt(value as number) : value;
    case "list":
      return (value as unknown[]).map((item) => (shape.element ? columnValue(shape.element, item) : item));
    case "struct": {
      const struct: Record<string, unknown> = {};
      for (const [field, inner] of shape.fields)
        struct[field] = columnValue(inner, (value as Record<string, unknown>)[field]);
      return struct;
    }
  }
}

/** One Parquet file of events of one class, every attribute any of them has a column. */
export function ocsfParquet(events: readonly OcsfEvent[]): ArrayBuffer {
  const columns = new Map<string, Shape>();
  for (const event of events)
    for (const [name, value] of Object.entries(event))
      if (value !== undefined) columns.set(name, shapeOf(name, value, columns.get(name)));
  const names = [...columns.keys()].sort();
  const schema: SchemaElement[] = [
    { name: "root", num_children: names.length },
    ...names.flatMap((name) => schemaElements(name, columns.get(name) as Shape)),
  ];
  return parquetWriteBuffer({
    schema,
    columnData: names.map((name) => ({
      name,
      data: events.map((event) => columnValue(columns.get(name) as Shape, event[name])),
    })),
    createdBy: "idc-audit",
  });
}

export interface WrittenPartition {
  /** Relative to the output folder: `<source>/region=…/accountId=…/eventDay=…/<file>.parquet`. */
  readonly path: string;
  readonly classUid: number;
  readonly events: number;
}

function partitionOf(event: OcsfEvent): string {
  const cloud = (event.cloud ?? {}) as { region?: string; account?: { uid?: string } };
  const day = new Date(event.time).toISOString().slice(0, 10).replaceAll("-", "");
  const source = SOURCE_NAMES[event.class_uid];
  if (!source) throw new Error(`no Security Lake source for OCSF class ${event.class_uid}`);
  return join(
    source,
    `region=${cloud.region ?? "unknown"}`,
    `accountId=${cloud.account?.uid ?? "unknown"}`,
    `eventDay=${day}`,
  );
}

/**
 * Writes `events` under `outDir` in Security Lake's custom-source layout, one file per partition. A file is
 * named by `window` when given (`export`: its `--since`/`--until`), so exporting the same window again, late
 * events included, replaces the file instead of adding one beside it whose events the lake would count twice;
 * else by a hash of its events' ids (`normalize`: the same files give the same name).
 */
export async function writeSecurityLake(
  outDir: string,
  events: readonly OcsfEvent[],
  window?: { readonly since?: string | undefined; readonly until?: string | undefined },
): Promise<WrittenPartition[]> {
  const partitions = new Map<string, OcsfEvent[]>();
  for (const event of events) {
    const partition = partitionOf(event);
    const members = partitions.get(partition) ?? [];
    members.push(event);
    partitions.set(partition, members);
  }
  const written: WrittenPartition[] = [];
  for (const [partition, members] of [...partitions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ids = createHash("sha256");
    if (window) ids.update(`window\n${window.since ?? "start"}\n${window.until ?? "end"}`);
    else for (const event of members) ids.update(`${String((event.metadata as { uid?: string }).uid)}\n`);
    const path = join(partition, `idc-audit-${ids.digest("hex").slice(0, 16)}.parquet`);
    await mkdir(join(outDir, partition), { recursive: true });
    await writeFile(join(outDir, path), new Uint8Array(ocsfParquet(members)));
    written.push({ path, classUid: members[0]?.class_uid ?? 0, events: members.length });
  }
  return written;
}
