// Measures the detections on a generated archive with planted attacks and look-alikes:
//   npm run detect:eval [-- --events 20000] [-- --role-ratio 2]
// Prints true positives, false positives and misses against the planted ground truth. The archive carries role
// activity in member accounts (role-ratio role-session records per Identity Center record), and the planted
// cases include a stolen-credential use of a role session, privileges granted soon after a sign-in that
// succeeded after failures, and their look-alikes.
import { parseArgs } from "node:util";
import type { ReadItem } from "../packages/core/src/cloudtrail/index.ts";
import { subjectKey } from "../packages/core/src/detect/index.ts";
import { ExportDirectory } from "../packages/core/src/identity/index.ts";
import { classifyItem, ingestBatch, MixedBatchBuilder } from "../packages/core/src/ingest/index.ts";
import { openRuntime } from "../packages/core/src/runtime/index.ts";
import { plantAttacks, synthDirectory, synthEvents } from "../packages/core/src/synth/index.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    seed: { type: "string", default: "21" },
    "role-ratio": { type: "string", default: "2" },
  },
});
const options = { users: 60, seed: Number(values.seed) };
const events = Number(values.events);
const roleRatio = Number(values["role-ratio"]);
const planted = plantAttacks({ ...options, roleSessions: true, directoryChanges: true });
const runtime = await openRuntime({
  inMemory: true,
  directory: ExportDirectory.fromJson(synthDirectory({ events, ...options })),
});
const batch = new MixedBatchBuilder();
let failures = 0;
let roleSessionEvents = 0;
const started = performance.now();
for (const record of [...synthEvents({ events, roleRatio, ...options }), ...planted.records]) {
  const classified = classifyItem({ kind: "record", record, location: "synth" } as ReadItem);
  if (classified.kind === "audited") {
    const { event } = classified.record;
    if (event.eventName === "CredentialVerification" && event.outcome === "failure") failures += 1;
  } else if (classified.kind === "role") roleSessionEvents += 1;
  batch.add(classified);
  if (batch.size === 500) await ingestBatch(runtime.pipeline, batch.take());
}
await ingestBatch(runtime.pipeline, batch.take());
const alerts = await runtime.alerts();
await runtime.close();

const wanted = new Map(
  planted.expected.map((entry) => [`${entry.rule} ${entry.subject}`, entry.description]),
);
const found = alerts.map((alert) => `${alert.rule} ${subjectKey(alert.subject)}`);
const truePositives = found.filter((key) => wanted.has(key));
const falsePositives = found.filter((key) => !wanted.has(key));
const missed = [...wanted.keys()].filter((key) => !found.includes(key));
console.log(
  `archive: ${events} ordinary records (${failures} failed verifications in all, ${roleSessionEvents} role-session events in all, role activity ${roleRatio}:1) + ${planted.records.length} planted`,
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
