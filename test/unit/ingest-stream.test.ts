import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { classifyItem, ingestStream, type Pipeline } from "@idc-audit/core/ingest";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import type { RoleEvent } from "@idc-audit/core/roles";
import { synthEvents } from "@idc-audit/core/synth";
import { describe, expect, it } from "vitest";

// Identity Center events and role-session events, about one to one: every batch of 10 holds both.
const records = [...synthEvents({ events: 50, users: 3, seed: 5, roleRatio: 1 })];

/** The role-session events, in the order they are read. */
const roleEventIds = records
  .map((record, index) => classifyItem({ kind: "record", record, location: `synth:${index}` }))
  .flatMap((classified) => (classified.kind === "role" ? [classified.event.eventId] : []));

/**
 * Counts what has been read, so a batch can tell how far the reader got while it was being stored, and the
 * most batches being stored while a record was read (memory then holds those and the one being read).
 */
function reader() {
  const progress = { read: 0, storing: 0, maxStoringWhileReading: 0 };
  async function* items(): AsyncGenerator<ReadItem> {
    for (const [index, record] of records.entries()) {
      progress.read += 1;
      progress.maxStoringWhileReading = Math.max(progress.maxStoringWhileReading, progress.storing);
      yield { kind: "record", record, location: `synth:${index}` };
      // Reading takes turns with the store, as a real file read does.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { progress, items };
}

/**
 * Stands in for the pipeline: records each batch, how many were stored at once and how far reading got, and
 * the role-session join's turns.
 */
function recordingPipeline(
  progress: { read: number; storing: number },
  failure?: { readonly batch: number; readonly afterTurns: number },
) {
  const batches: { first: string; readAtStart: number; readAtEnd: number }[] = [];
  const started: string[] = [];
  const roleTurns: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let rolesInFlight = 0;
  let maxRolesInFlight = 0;
  const turns = async (count: number) => {
    for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  const pipeline = {
    async ingest(batch: readonly NormalizedRecord[]) {
      const first = batch[0]?.event.eventId ?? "";
      started.push(first);
      // Being stored from now until its role sessions are (every batch here holds some).
      progress.storing += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const readAtStart = progress.read;
      // Later batches are quicker: a batch that finished first must still be reported in order.
      const failing = failure !== undefined && started.length === failure.batch;
      await turns(failing ? failure.afterTurns : started.length === 1 ? 60 : 20);
      inFlight -= 1;
      batches.push({ first, readAtStart, readAtEnd: progress.read });
      if (failing) throw new Error(`batch ${failure.batch} cannot be stored`);
      return { stored: [...batch].map((record) => record.event), duplicates: 0, alerts: [] };
    },
    roles: {
      async ingest(events: readonly RoleEvent[]) {
        rolesInFlight += 1;
        maxRolesInFlight = Math.max(maxRolesInFlight, rolesInFlight);
        roleTurns.push(events.map((event) => event.eventId));
        await turns(5);
        rolesInFlight -= 1;
        progress.storing -= 1;
        return { stored: [...events], duplicates: 0, ignored: 0, alerts: [] };
      },
    },
    // Once every batch is stored: no names were taught here.
    async teachLearnedNames() {
      return { stored: [], duplicates: 0, alerts: [] };
    },
  };
  // Only the methods ingestStream calls are needed to observe the scheduling.
  return {
    pipeline: pipeline as unknown as Pipeline,
    batches,
    started,
    roleTurns,
    maxInFlight: () => maxInFlight,
    maxRolesInFlight: () => maxRolesInFlight,
  };
}

describe("ingestStream", () => {
  it("stores two batches side by side, reads the next while one is stored, and takes role sessions and results one batch at a time, in order", async () => {
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
    expect(recorder.maxInFlight()).toBe(2);
    // The first batch took longest: the second ended before it, yet results come in the order of the batches.
    expect(recorder.batches[0]?.first).not.toBe(recorder.started[0]);
    expect(batchOrder).toEqual(recorder.started);
    expect(recorder.maxRolesInFlight()).toBe(1);
    expect(recorder.roleTurns).toHaveLength(batchOrder.length);
    expect(recorder.roleTurns.flat()).toEqual(roleEventIds);
    const overlapped = recorder.batches.filter((batch) => batch.readAtEnd > batch.readAtStart);
    expect(overlapped.length).toBeGreaterThan(0);
    // Memory holds two batches: a record is read while one batch at most is being stored.
    expect(progress.maxStoringWhileReading).toBe(1);
  });

  it("reads and stores one batch after the other with batchesInFlight 1", async () => {
    // Prepare
    const { progress, items } = reader();
    const recorder = recordingPipeline(progress);
    // Act
    const counts = await ingestStream(items(), recorder.pipeline, { batchSize: 10, batchesInFlight: 1 });
    // Assess
    expect(counts.stored).toBe(records.length);
    expect(recorder.maxInFlight()).toBe(1);
    expect(recorder.batches.map((batch) => batch.first)).toEqual(recorder.started);
    expect(recorder.batches.filter((batch) => batch.readAtEnd > batch.readAtStart)).toEqual([]);
    expect(progress.maxStoringWhileReading).toBe(0);
  });

  it("refuses a batch size or a number of batches in flight that is not a positive whole number", async () => {
    for (const options of [
      { batchSize: Number.NaN },
      { batchSize: 0 },
      { batchSize: 2.5 },
      { batchesInFlight: 0 },
      { batchesInFlight: Number.NaN },
    ]) {
      // Prepare
      const { progress, items } = reader();
      const recorder = recordingPipeline(progress);
      // Act
      const raised = await ingestStream(items(), recorder.pipeline, options).catch((error: unknown) => error);
      // Assess: refused before a record is read or a batch started
      expect(raised).toBeInstanceOf(RangeError);
      expect((raised as Error).message).toMatch(
        /^(batchSize|batchesInFlight) must be a positive whole number, not /,
      );
      expect(progress.read).toBe(0);
      expect(recorder.started).toEqual([]);
    }
  });

  /** Reads and stores with a batch that fails; what was reported, started and ended when the failure came. */
  async function failingRun(failure: { batch: number; afterTurns: number }) {
    const { progress, items } = reader();
    const recorder = recordingPipeline(progress, failure);
    const reported: string[] = [];
    const raised = await ingestStream(items(), recorder.pipeline, {
      batchSize: 10,
      onBatch: (_counts, stored) => {
        if (stored[0]) reported.push(stored[0].eventId);
      },
    }).catch((error: unknown) => error);
    return { raised, recorder, reported, endedWhenRaised: recorder.batches.length };
  }

  it("raises a batch's failure instead of starting another batch", async () => {
    // Act: the second batch fails while the first is still being stored.
    const { raised, recorder, reported } = await failingRun({ batch: 2, afterTurns: 5 });
    // Assess: the first ends and is reported; reading goes on, but no third batch is started.
    expect(raised).toBeInstanceOf(Error);
    expect((raised as Error).message).toBe("batch 2 cannot be stored");
    expect(recorder.started).toHaveLength(2);
    expect(reported).toEqual(recorder.started.slice(0, 1));
    expect(recorder.roleTurns).toHaveLength(1);
  });

  it("raises a batch's failure once the batch stored beside it has ended, and reports no later batch", async () => {
    // Act: the second batch fails after the third has started beside it.
    const { raised, recorder, reported, endedWhenRaised } = await failingRun({ batch: 2, afterTurns: 100 });
    // Assess: nothing is still being stored when the caller hears of the failure.
    expect((raised as Error).message).toBe("batch 2 cannot be stored");
    expect(recorder.started).toHaveLength(3);
    expect(endedWhenRaised).toBe(3);
    expect(reported).toEqual(recorder.started.slice(0, 1));
    expect(recorder.roleTurns).toHaveLength(1);
  });
});
