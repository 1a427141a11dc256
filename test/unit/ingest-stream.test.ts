import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { ingestStream, type Pipeline } from "@idc-audit/core/ingest";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import { synthEvents } from "@idc-audit/core/synth";
import { describe, expect, it } from "vitest";

const records = [...synthEvents({ events: 50, users: 3, seed: 5, roleRatio: 0 })];

/** Counts what has been read, so a batch can tell how far the reader got while it was being stored. */
function reader() {
  const progress = { read: 0 };
  async function* items(): AsyncGenerator<ReadItem> {
    for (const [index, record] of records.entries()) {
      progress.read += 1;
      yield { kind: "record", record, location: `synth:${index}` };
      // Reading takes turns with the store, as a real file read does.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { progress, items };
}

/** Stands in for the pipeline: records each batch, how many were stored at once and how far reading got. */
function recordingPipeline(progress: { read: number }, failOnBatch?: number) {
  const batches: { first: string; readAtStart: number; readAtEnd: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pipeline = {
    async ingest(batch: readonly NormalizedRecord[]) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const readAtStart = progress.read;
      for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      batches.push({ first: batch[0]?.event.eventId ?? "", readAtStart, readAtEnd: progress.read });
      if (batches.length === failOnBatch) throw new Error(`batch ${failOnBatch} cannot be stored`);
      return { stored: [...batch].map((record) => record.event), duplicates: 0, alerts: [] };
    },
    roles: { ingest: async () => ({ stored: [], duplicates: 0, ignored: 0, alerts: [] }) },
  };
  // Only the two methods ingestBatch calls are needed to observe the scheduling.
  return { pipeline: pipeline as unknown as Pipeline, batches, maxInFlight: () => maxInFlight };
}

describe("ingestStream", () => {
  it("reads the next batch while one is stored, stores one batch at a time and in order", async () => {
    // Prepare
    const { progress, items } = reader();
    const recorder = recordingPipeline(progress);
    const batchOrder: string[] = [];
    // Act
    const counts = await ingestStream(items(), recorder.pipeline, {
      batchSize: 10,
      onBatch: (_counts, stored) => {
        if (stored[0]) batchOrder.push(stored[0].eventId);
      },
    });
    // Assess
    expect(counts.read).toBe(records.length);
    expect(recorder.maxInFlight()).toBe(1);
    expect(batchOrder).toEqual(recorder.batches.map((batch) => batch.first));
    const overlapped = recorder.batches.filter((batch) => batch.readAtEnd > batch.readAtStart);
    expect(overlapped.length).toBeGreaterThan(0);
  });

  it("raises a batch's failure, after which nothing else is stored", async () => {
    // Prepare
    const { progress, items } = reader();
    const recorder = recordingPipeline(progress, 2);
    // Act
    const failure = await ingestStream(items(), recorder.pipeline, { batchSize: 10 }).catch(
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe("batch 2 cannot be stored");
    expect(recorder.batches).toHaveLength(2);
  });
});
