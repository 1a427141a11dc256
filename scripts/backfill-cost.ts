/**
 * The figures behind README's "Cost per million events": items written and read per stored event, their average
 * size, and the embedded store's rate, for the bench's mix (role ratio 10). Bounded: 20,000 events, in memory.
 *   node --import tsx scripts/backfill-cost.ts [--events N]
 * DynamoDB's price is per request unit (1 KB written, 4 KB read strongly consistently), so the item counts and
 * sizes here, times the list prices, give the table's cost; the rest of a backfill costs far less (README).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readInputs } from "@idc-audit/core/cloudtrail";
import { ExportDirectory } from "@idc-audit/core/identity";
import { ingestStream } from "@idc-audit/core/ingest";
import { openRuntime } from "@idc-audit/core/runtime";
import { synthDirectory, writeArchive } from "@idc-audit/core/synth";

const index = process.argv.indexOf("--events");
const events = index > 0 ? Number(process.argv[index + 1]) : 20_000;
if (!Number.isInteger(events) || events < 1 || events > 200_000)
  throw new Error("--events must be 1..200000");
const SYNTH = { events, seed: 16, start: "2026-07-01T00:00:00Z", days: 3, roleRatio: 10 };

const dir = mkdtempSync(join(tmpdir(), "idc-audit-cost-"));
try {
  await writeArchive(dir, { ...SYNTH, recordsPerFile: 500 });
  const runtime = await openRuntime({
    inMemory: true,
    directory: ExportDirectory.fromJson(synthDirectory(SYNTH)),
  });
  let written = 0;
  let writeUnits = 0;
  let bytes = 0;
  let readKeys = 0;
  const store = runtime.store;
  const putAll = store.putAll.bind(store);
  store.putAll = async (items) => {
    for (const item of items) {
      // DynamoDB's item size is close to its attribute names and values' UTF-8 length; JSON adds a little.
      const size = Buffer.byteLength(JSON.stringify(item));
      written += 1;
      bytes += size;
      writeUnits += Math.ceil(size / 1024);
    }
    return putAll(items);
  };
  const getAll = store.getAll.bind(store);
  store.getAll = async (keys) => {
    readKeys += new Set(keys.map((key) => `${key.pk}\u0000${key.sk}`)).size;
    return getAll(keys);
  };
  const started = process.hrtime.bigint();
  const counts = await ingestStream(readInputs([dir]), runtime.pipeline);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await runtime.close();
  const perEvent = (value: number) => Number((value / counts.stored).toFixed(2));
  console.log(
    JSON.stringify({
      events: counts.read,
      stored: counts.stored,
      itemsWrittenPerEvent: perEvent(written),
      writeUnitsPerEvent: perEvent(writeUnits),
      averageItemBytes: Math.round(bytes / written),
      keysReadByBatchGetPerEvent: perEvent(readKeys),
      seconds: Number(seconds.toFixed(1)),
      eventsPerSecondEmbedded: Math.round(counts.stored / seconds),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
