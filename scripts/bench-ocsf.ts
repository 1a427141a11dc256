/**
 * What the OCSF export costs: `node --expose-gc --import tsx scripts/bench-ocsf.ts [--events N]` (default 20,000
 * synthetic records, role activity included). Ingests them into an in-memory embedded store, then times the
 * stateless mapping, the export from the store (one Scan plus one role-session read per session) and the Parquet
 * writing. Figures are printed; nothing is asserted. Bounded by `--events` (at most 200,000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  auditEventToOcsf,
  exportFromStore,
  roleEventToOcsf,
  writeSecurityLake,
} from "@idc-audit/core/export";
import { ExportDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestStream } from "@idc-audit/core/ingest";
import { openRuntime } from "@idc-audit/core/runtime";
import { IDENTITY_STORE_ID, synthDirectory, synthEvents } from "@idc-audit/core/synth";

const { values } = parseArgs({ options: { events: { type: "string", default: "20000" } } });
const events = Math.min(200_000, Number(values.events));
const archive = { events, users: 200, seed: 7, roleRatio: 2 };

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

let start = process.hrtime.bigint();
let mapped = 0;
let index = 0;
for (const record of synthEvents(archive)) {
  const classified = classifyItem({ kind: "record", record, location: `synth#${index++}` });
  if (classified.kind === "audited") auditEventToOcsf(classified.record.event);
  else if (classified.kind === "role") roleEventToOcsf(classified.event);
  else continue;
  mapped += 1;
}
const statelessMs = since(start);
console.log(
  `normalize --format ocsf (stateless): ${mapped} events in ${statelessMs.toFixed(0)} ms (${((mapped / statelessMs) * 1000).toFixed(0)} events/s, normalization included)`,
);

const runtime = await openRuntime({
  inMemory: true,
  directory: ExportDirectory.fromJson(synthDirectory(archive), IDENTITY_STORE_ID),
});
try {
  async function* records() {
    let at = 0;
    for (const record of synthEvents(archive))
      yield { kind: "record" as const, record, location: `synth#${at++}` };
  }
  const counts = await ingestStream(records(), runtime.pipeline);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  start = process.hrtime.bigint();
  const scansBefore = runtime.store.stats.scans;
  const queriesBefore = runtime.store.stats.queries;
  const exported = await exportFromStore(runtime.store, runtime.roleQueries);
  const exportMs = since(start);
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(
    `export --format ocsf (from the store): ${exported.events.length} of ${counts.stored} stored events in ${exportMs.toFixed(0)} ms; ${runtime.store.stats.scans - scansBefore} Scan pages, ${runtime.store.stats.queries - queriesBefore} Query pages for ${exported.counts.roleSessions} role sessions; heap +${mb(heapAfter - heapBefore)}`,
  );
  const out = mkdtempSync(join(tmpdir(), "idc-audit-bench-ocsf-"));
  try {
    start = process.hrtime.bigint();
    const written = await writeSecurityLake(out, exported.events);
    console.log(
      `ocsf-parquet: ${written.length} files, ${exported.events.length} events in ${since(start).toFixed(0)} ms`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  await runtime.close();
}
