import type { Alert, AlertSink } from "@idc-audit/core/detect";
import { subjectKey } from "@idc-audit/core/detect";
import { ExportDirectory } from "@idc-audit/core/identity";
import { type NormalizedRecord, normalize } from "@idc-audit/core/normalize";
import { openRuntime, type Runtime } from "@idc-audit/core/runtime";
import { type PlantedAlert, plantAttacks, synthDirectory, synthEvents } from "@idc-audit/core/synth";

/** Ordinary traffic of an organisation with attacks and look-alikes planted in it. */
export function attackArchive(events: number, options = { users: 60, seed: 21 }) {
  const planted = plantAttacks(options);
  const records = [...synthEvents({ events, ...options }), ...planted.records];
  const normalized: NormalizedRecord[] = records.flatMap((record) => {
    const result = normalize(record);
    return result.status === "audited" ? [result.record] : [];
  });
  return { planted, normalized, directory: ExportDirectory.fromJson(synthDirectory({ events, ...options })) };
}

export class RecordingSink implements AlertSink {
  readonly published: Alert[] = [];
  async publish(alert: Alert): Promise<void> {
    this.published.push(alert);
  }
}

export async function detectingRuntime(directory: ExportDirectory, sink: AlertSink): Promise<Runtime> {
  return openRuntime({ inMemory: true, directory, alertSink: sink });
}

/** Compares found alerts with the planted ground truth. */
export function score(alerts: readonly Alert[], expected: readonly PlantedAlert[]) {
  const key = (rule: string, subject: string) => `${rule} ${subject}`;
  const wanted = new Set(expected.map((entry) => key(entry.rule, entry.subject)));
  const found = alerts.map((alert) => key(alert.rule, subjectKey(alert.subject)));
  const truePositives = found.filter((entry) => wanted.has(entry));
  const falsePositives = found.filter((entry) => !wanted.has(entry));
  const missed = [...wanted].filter((entry) => !found.includes(entry));
  return { truePositives, falsePositives, missed };
}
