import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets a heap grow past what its last full collection kept, in percent: 100 fixes the factor at 2,
 * where V8 picks it between 1.1 and 4 by how fast the program allocates, and reaches 4 when no heap limit is set.
 * An ingest keeps some 35 MiB live, yet its heap peaked at 150–172 MiB, mostly garbage, and the embedded store's
 * worker heap held garbage too. On the hostile folder of issue 15 (the store in its worker, as `idc-audit ingest`
 * runs it) the process peaked at 452–479 MiB RSS today and 485–514 MiB the day before, against a 512 MB (488 MiB)
 * bound; at 100 it peaked at 368–380 MiB, and an ingest of 100,000 records (the store in a process of its own) at
 * 231–245 MiB instead of 303–341. The price is more full collections, yet in seven alternating pairs of runs the
 * ingesting process's CPU went from 17 % less to 18 % more than with V8's default: within this machine's noise.
 * At 50 the peaks were lower still (340–364, 197–209 MiB) for 20–23 % more CPU (`docs/benchmarks.md`).
 */
export const HEAP_GROWING_PERCENT = 100;

/** V8 reads `-` and `_` alike anywhere in a flag's name. */
const GROWING_PERCENT_FLAG = /^--heap-growing-percent(=|$)/;

/**
 * The flag that fixes heap growth, or undefined when node was started with `--heap-growing-percent` of its own
 * (node accepts it on its command line only, not in `NODE_OPTIONS`). A heap limit (`--max-old-space-size`) is
 * another matter: with one of 4 GB, common in shells and CI, V8 still lets the heap grow four times.
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  if (execArgv.some((arg) => GROWING_PERCENT_FLAG.test(arg.replaceAll("_", "-")))) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/**
 * Fixes how far this process's heaps grow between full collections: the main thread's and those of workers (the
 * embedded store's). V8 reads this flag at each full collection, for every isolate, so it applies once set,
 * unlike a heap limit, which is fixed when a heap is made and which, once reached, ends the process. Call it when
 * a long-running local process starts (the CLI); a Lambda function's memory is set by its configuration instead.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): string | undefined {
  const flag = heapGrowthFlag(execArgv);
  if (flag) setFlagsFromString(flag);
  return flag;
}
