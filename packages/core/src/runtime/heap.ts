import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets a heap grow past what its last full collection kept, in percent (100: twice). Left to itself V8
 * lets it grow up to four times when no heap limit is set. An ingest keeps some 35 MiB live, yet its heap filled
 * with 150–200 MiB of garbage before a full collection, and so did the embedded store's worker, less so. On the
 * hostile folder of issue 15 (the store in its worker, as `idc-audit ingest` runs it) the process peaked at
 * 452–479 MiB RSS today and 485–514 MiB the day before, against a 512 MB (488 MiB) bound; at 100 it peaked at
 * 368–380 MiB, and an ingest of 100,000 records (the store in a process of its own) at 231–245 MiB instead of
 * 303–341. The price is more full collections: 0–14 % more CPU in the ingesting process, within this machine's
 * noise. At 50 the peaks were lower still (340–364, 197–209 MiB) for up to a fifth more CPU (`docs/benchmarks.md`).
 */
export const HEAP_GROWING_PERCENT = 100;

/** The V8 flags a person may have set to size the heap themselves; then they are left to theirs. */
const HEAP_SIZING_FLAGS =
  /--(heap-growing-percent|heap_growing_percent|max-old-space-size|max_old_space_size)\b/;

/**
 * The flag that bounds heap growth, or undefined when the process was started with a heap size of its own
 * (command line or `NODE_OPTIONS`).
 */
export function heapGrowthFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string | undefined {
  if ([...execArgv, nodeOptions ?? ""].some((arg) => HEAP_SIZING_FLAGS.test(arg))) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/**
 * Bounds how far this process's heaps grow between full collections: the main thread's and those of workers
 * (the embedded store's). V8 reads this flag at each full collection, so it applies once set, unlike a heap
 * limit, which is fixed when a heap is made and which, once reached, ends the process. Call it first thing in a
 * long-running local process (the CLI); a Lambda function's memory is set by its configuration instead.
 */
export function boundHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string | undefined {
  const flag = heapGrowthFlag(execArgv, nodeOptions);
  if (flag) setFlagsFromString(flag);
  return flag;
}
