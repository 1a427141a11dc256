import type { NormalizedRecord } from "@idc-audit/core/normalize";
import type { Runtime } from "@idc-audit/core/runtime";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { answers, synthExportDirectory, synthRecords, synthUsers } from "../support/answers.ts";
import { dumpTable, memoryRuntime } from "../support/store.ts";

/** A small organisation across the three eras: ~20 episodes, failed and hidden-name sign-ins included. */
const EVENTS = 140;
const synth = (seed: number) => ({ events: EVENTS, users: 5, seed, failureRate: 0.3 });

const open: Runtime[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((runtime) => runtime.close()));
});
async function runtimeFor(seed: number): Promise<Runtime> {
  const runtime = await memoryRuntime(synthExportDirectory(synth(seed)));
  open.push(runtime);
  return runtime;
}

/** The reference: every record delivered once, in stream order, in one batch. */
const references = new Map<number, Promise<{ table: unknown; answers: unknown }>>();
function reference(seed: number, records: readonly NormalizedRecord[]) {
  let cached = references.get(seed);
  if (!cached) {
    cached = (async () => {
      const runtime = await runtimeFor(seed);
      await runtime.pipeline.ingest(records);
      return {
        table: await dumpTable(runtime),
        answers: await answers(runtime, records, synthUsers(synth(seed))),
      };
    })();
    references.set(seed, cached);
  }
  return cached;
}

describe("order, duplicate and batch independence on synthetic workflows", () => {
  it("the workload exercises every kind of answer: sessions, inferred sessions, users and failures", async () => {
    // Prepare
    const records = synthRecords(synth(1));
    const runtime = await runtimeFor(1);
    // Act
    await runtime.pipeline.ingest(records);
    const result = await answers(runtime, records, synthUsers(synth(1)));
    // Assess: the property below would be vacuous on a workload without these.
    const sessionIds = Object.keys(result.sessions);
    expect(sessionIds.filter((id) => !id.startsWith("inferred:")).length).toBeGreaterThan(5);
    expect(sessionIds.filter((id) => id.startsWith("inferred:")).length).toBeGreaterThan(0);
    expect((result.failures as unknown[]).length).toBeGreaterThan(0);
    const shapes = new Set(records.map((record) => record.event.shape));
    for (const shape of ["old", "transitional", "new"]) expect(shapes).toContain(shape);
  });

  it("gives the same tables, counts and answers for any permutation, duplication, batch split and batches side by side (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 3),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        fc.array(fc.nat({ max: 199 }), { maxLength: 30 }),
        fc.integer({ min: 4, max: 60 }),
        fc.integer({ min: 1, max: 3 }),
        async (seed, sortKeys, duplicated, batchSize, sideBySide) => {
          // Prepare: a delivery order, some events delivered twice, split into batches stored one to three at once.
          const records = synthRecords(synth(seed));
          const expected = await reference(seed, records);
          const order = records
            .map((record, index) => ({ record, key: sortKeys[index % sortKeys.length] ?? 0, index }))
            .sort((a, b) => a.key - b.key || a.index - b.index)
            .map((entry) => entry.record);
          const deliveries = [
            ...order,
            ...duplicated.map((index) => order[index % order.length] as NormalizedRecord),
          ];
          const runtime = await memoryRuntime(synthExportDirectory(synth(seed)));
          try {
            // Act
            let stored = 0;
            let duplicates = 0;
            const batches: NormalizedRecord[][] = [];
            for (let start = 0; start < deliveries.length; start += batchSize)
              batches.push(deliveries.slice(start, start + batchSize));
            // Up to `sideBySide` batches stored at once, as `ingestStream` stores them.
            for (let start = 0; start < batches.length; start += sideBySide) {
              const results = await Promise.all(
                batches.slice(start, start + sideBySide).map((batch) => runtime.pipeline.ingest(batch)),
              );
              for (const result of results) {
                stored += result.stored.length;
                duplicates += result.duplicates;
              }
            }
            // Assess
            expect(stored).toBe(records.length);
            expect(duplicates).toBe(duplicated.length);
            expect(await dumpTable(runtime)).toEqual(expected.table);
            expect(await answers(runtime, records, synthUsers(synth(seed)))).toEqual(expected.answers);
          } finally {
            await runtime.close();
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});
