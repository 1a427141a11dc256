/**
 * The bench's store process (`scripts/bench.ts`, ingest phases): owns the data dir given as its argument and
 * serves its embedded store, as `idc-audit serve` does, until the process that started it goes. It loads the
 * product's runtime and nothing of the bench, so that its memory is that of an idc-audit process serving a
 * store, not the bench's.
 */
import { once } from "node:events";
import { boundHeapGrowth, SharedStore } from "@idc-audit/core/runtime";

boundHeapGrowth();
const dir = process.argv[2];
if (!dir) throw new Error("usage: bench-store-owner.ts <data dir>");
const shared = await SharedStore.open(dir);
if (!shared.owner) throw new Error(`${dir} is already served by process ${shared.address.pid}`);
process.send?.("serving");
await once(process, "disconnect");
await shared.close();
