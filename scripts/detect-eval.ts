// Measures the detections on a generated archive with planted attacks and look-alikes:
//   npm run detect:eval [-- --events 20000]
// Prints true positives, false positives and misses against the planted ground truth.
import { parseArgs } from "node:util";
import { subjectKey } from "../packages/core/src/detect/index.ts";
import { ExportDirectory } from "../packages/core/src/identity/index.ts";
import { normalize } from "../packages/core/src/normalize/index.ts";
import { openRuntime } from "../packages/core/src/runtime/index.ts";
import { plantAttacks, synthDirectory, synthEvents } from "../packages/core/src/synth/index.ts";

const { values } = parseArgs({
  options: { events: { type: "string", default: "20000" }, seed: { type: "string", default: "21" } },
});
const options = { users: 60, seed: Number(values.seed) };
const events = Number(values.events);
const planted = plantAttacks(options);
const runtime = await openRuntime({
  inMemory: true,
  directory: ExportDirectory.fromJson(synthDirectory({ events, ...options })),
});
let batch = [];
let failures = 0;
const started = performance.now();
for (const record of [...synthEvents({ events, ...options }), ...planted.records]) {
  const result = normalize(record);
  if (result.status !== "audited") continue;
  if (result.record.event.eventName === "CredentialVerification" && result.record.event.outcome === "failure")
    failures += 1;
  batch.push(result.record);
  if (batch.length === 500) {
    await runtime.pipeline.ingest(batch);
    batch = [];
  }
}
await runtime.pipeline.ingest(batch);
const alerts = await runtime.queries.alerts();
await runtime.close();

const wanted = new Map(
  planted.expected.map((entry) => [`${entry.rule} ${entry.subject}`, entry.description]),
);
const found = alerts.map((alert) => `${alert.rule} ${subjectKey(alert.subject)}`);
const truePositives = found.filter((key) => wanted.has(key));
const falsePositives = found.filter((key) => !wanted.has(key));
const missed = [...wanted.keys()].filter((key) => !found.includes(key));
console.log(
  `archive: ${events} ordinary events (${failures} failed verifications in all) + ${planted.records.length} planted`,
);
console.log(
  `planted attacks: ${planted.expected.length}; look-alikes that must not alert: ${planted.decoys.length}`,
);
console.log(
  `alerts: ${alerts.length}; true positives: ${truePositives.length}; false positives: ${falsePositives.length}; missed: ${missed.length}`,
);
for (const key of falsePositives) console.log(`  false positive: ${key}`);
for (const key of missed) console.log(`  missed: ${key}`);
console.log(`seconds: ${((performance.now() - started) / 1000).toFixed(1)}`);
