/** `idc-audit backfill … --distributed` and `idc-audit reconcile`: kept beside main.ts, which only routes to them. */
import type { Writable } from "node:stream";
import cliProgress from "cli-progress";
import type { BackfillExecutionInput } from "../backfill/definition.ts";
import type { DayRange } from "../backfill/range.ts";
import { type ReconcileCounts, type ReconcileOptions, reconcile } from "../backfill/reconcile.ts";
import type { DistributedProgress, DistributedSummary } from "../backfill/sfn.ts";
import { type ObjectSource, parseS3Uri } from "../cloudtrail/s3.ts";
import type { Runtime } from "../runtime/index.ts";
import { UsageError } from "../shared/errors.ts";

/** The env var naming the deployed state machine (the stage's `backfillStateMachine` output). */
export const STATE_MACHINE_ENV = "IDC_AUDIT_BACKFILL_STATE_MACHINE";
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const POLL_MS = 5_000;

export interface DistributedOptions {
  readonly uri: string;
  readonly range: DayRange;
  readonly stateMachineArn: string | undefined;
  readonly region: string | undefined;
  readonly json: boolean;
  /** stderr is a terminal: a progress bar rather than a line per poll. */
  readonly interactive?: boolean;
  readonly stderr: Writable;
  readonly stdout: Writable;
  /** Ctrl-C: stop following; the run goes on in AWS. */
  readonly signal: AbortSignal;
  readonly pollMs?: number;
  /** Told the result writer's summary once the run has ended (reconcile reports it as its counts). */
  readonly onSummary?: (summary: DistributedSummary) => void;
}

function line(stream: Writable, text: string): void {
  stream.write(`${text}\n`);
}

export function formatProgress(progress: DistributedProgress): string {
  const { objects } = progress;
  return `${progress.status.toLowerCase()}: ${objects.succeeded + objects.failed}/${objects.total} objects done, ${objects.failed} failed, ${objects.running} running`;
}

export function formatSummary(summary: DistributedSummary): string {
  return `${summary.objects} objects (${summary.skipped} skipped): ${summary.stored} events stored, ${summary.duplicates} duplicates, ${summary.rejected} rejected, ${summary.failures} objects failed`;
}

/**
 * Starts a run of the deployed state machine and follows it until it ends or Ctrl-C: objects done, failed and
 * running from the map run's counters while it runs (they count objects, not events), then events stored,
 * duplicates and failed objects from the result writer's files. Exit code 0 if it succeeded.
 */
export async function runDistributedBackfill(options: DistributedOptions): Promise<number> {
  const arn = options.stateMachineArn ?? process.env[STATE_MACHINE_ENV];
  if (!arn) {
    throw new UsageError(
      `--distributed needs --state-machine ARN or ${STATE_MACHINE_ENV} (the stage's backfillStateMachine output)`,
    );
  }
  if (!STATE_MACHINE_ARN.test(arn)) throw new UsageError(`${arn} is not a Step Functions state machine ARN`);
  const location = parseS3Uri(options.uri);
  const [{ SFNClient }, { S3Client }, { DistributedBackfill }] = await Promise.all([
    import("@aws-sdk/client-sfn"),
    import("@aws-sdk/client-s3"),
    import("../backfill/sfn.ts"),
  ]);
  const region = options.region ?? arn.split(":")[3];
  const runner = new DistributedBackfill(new SFNClient({ region }), new S3Client({ region }));
  const input: BackfillExecutionInput = {
    bucket: location.bucket,
    prefix: location.prefix,
    ...options.range,
  };
  const executionArn = await runner.start(arn, input);
  line(options.stderr, `idc-audit: started ${executionArn}`);
  const bar =
    options.interactive && !options.json
      ? new cliProgress.SingleBar(
          {
            format:
              "backfill [{bar}] {value}/{total} objects | {failed} failed | {running} running | {status}",
            stream: options.stderr as NodeJS.WriteStream,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(0, 0, { failed: 0, running: 0, status: "starting" });
  const final = await runner.follow(executionArn, {
    pollMs: options.pollMs ?? POLL_MS,
    signal: options.signal,
    onProgress: (progress) => {
      const { objects } = progress;
      if (bar) {
        bar.setTotal(objects.total);
        bar.update(objects.succeeded + objects.failed, {
          failed: objects.failed,
          running: objects.running,
          status: progress.status.toLowerCase(),
        });
      } else if (!options.json) line(options.stderr, formatProgress(progress));
    },
  });
  bar?.stop();
  if (final.status === "RUNNING") {
    line(
      options.stderr,
      `idc-audit: stopped following; the run goes on in AWS. Watch it: aws stepfunctions describe-execution --execution-arn ${executionArn}`,
    );
    if (options.json) line(options.stdout, JSON.stringify({ executionArn, ...final }, null, 2));
    return 0;
  }
  const summary = await runner.summary(executionArn);
  if (summary) options.onSummary?.(summary);
  if (options.json) {
    line(
      options.stdout,
      JSON.stringify({ executionArn, ...final, ...(summary ? { summary } : {}) }, null, 2),
    );
  } else if (summary) {
    line(options.stdout, formatSummary(summary));
    for (const failed of summary.failed.slice(0, 20)) {
      line(
        options.stdout,
        `  failed: ${failed.keys.length} objects, ${failed.error}: ${failed.cause.slice(0, 500)}`,
      );
    }
  } else {
    line(options.stdout, `${final.status.toLowerCase()}: no results were written`);
  }
  // A run within its tolerated failures still SUCCEEDS: objects it could not ingest make the command fail.
  return final.status === "SUCCEEDED" && (summary?.failures ?? 0) === 0 ? 0 : 1;
}

/**
 * `reconcile --distributed` is a distributed backfill of the range: each batch's ingestion checks every event's
 * commit item first, so its duplicates are the events present and what it stored are the missing ones.
 */
export function reconcileCountsOf(
  summary: DistributedSummary,
): ReconcileCounts & { readonly failedObjects: number } {
  return {
    objects: summary.objects - summary.skipped,
    events: summary.stored + summary.duplicates,
    present: summary.duplicates,
    missing: summary.stored,
    ingested: summary.stored,
    // Objects in failed batches: their events were neither checked nor ingested (keys in the run's results).
    failedObjects: summary.failures,
  };
}

/** `reconcile`: the archive's events against the table, the missing ones ingested. */
export async function runReconcile(
  runtime: Runtime,
  source: { path: string; range: DayRange; objects?: ObjectSource },
  options: { json: boolean; stdout: Writable; onRejected?: ReconcileOptions["onRejected"] },
): Promise<ReconcileCounts> {
  const counts = await reconcile(
    source,
    runtime,
    options.onRejected ? { onRejected: options.onRejected } : {},
  );
  if (options.json) line(options.stdout, JSON.stringify(counts, null, 2));
  else {
    line(
      options.stdout,
      `${counts.objects} objects, ${counts.events} events: ${counts.present} present, ${counts.missing} missing, ${counts.ingested} ingested (${runtime.description})`,
    );
  }
  return counts;
}
