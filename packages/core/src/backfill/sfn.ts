/**
 * Starts and follows a distributed backfill: the Step Functions adapter, kept apart (like the S3 one) so that
 * nothing else loads the SDK. The CLI is its one user.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { AuditError } from "../shared/errors.ts";
import { parseUntrustedJson } from "../shared/json.ts";
import type { BackfillExecutionInput } from "./definition.ts";

/** Where a run is, from DescribeExecution and the map run's item counters (items are log objects). */
export interface DistributedProgress {
  readonly status: string;
  readonly objects: { total: number; succeeded: number; failed: number; pending: number; running: number };
}

/** What the result writer kept: event counts of the succeeded batches, and the failed batches' objects. */
export interface DistributedSummary {
  objects: number;
  skipped: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Objects in failed batches (those objects' keys are in `failed`). */
  failures: number;
  failed: { keys: string[]; error: string; cause: string }[];
}

const RUNNING = "RUNNING";

export class DistributedBackfill {
  constructor(
    private readonly sfn: SFNClient,
    private readonly s3: S3Client,
  ) {}

  /** Starts a run: every field present, `null` for an open day range (the definition reads both paths). */
  async start(stateMachineArn: string, input: BackfillExecutionInput): Promise<string> {
    const response = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: JSON.stringify({
          bucket: input.bucket,
          prefix: input.prefix,
          since: input.since ?? null,
          until: input.until ?? null,
        }),
      }),
    );
    if (!response.executionArn) throw new AuditError("SFN", "StartExecution returned no execution ARN");
    return response.executionArn;
  }

  async progress(executionArn: string): Promise<DistributedProgress> {
    const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = execution.status ?? "UNKNOWN";
    const runs = await this.sfn.send(new ListMapRunsCommand({ executionArn }));
    const mapRunArn = runs.mapRuns?.[0]?.mapRunArn;
    const empty = { total: 0, succeeded: 0, failed: 0, pending: 0, running: 0 };
    if (!mapRunArn) return { status, objects: empty };
    const run = await this.sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    const counts = run.itemCounts;
    return {
      status,
      objects: {
        total: counts?.total ?? 0,
        succeeded: counts?.succeeded ?? 0,
        failed: (counts?.failed ?? 0) + (counts?.timedOut ?? 0) + (counts?.aborted ?? 0),
        pending: counts?.pending ?? 0,
        running: counts?.running ?? 0,
      },
    };
  }

  /** Polls until the execution ends or `signal` aborts; `onProgress` after each poll. */
  async follow(
    executionArn: string,
    options: { pollMs: number; signal?: AbortSignal; onProgress?: (progress: DistributedProgress) => void },
  ): Promise<DistributedProgress> {
    for (;;) {
      const progress = await this.progress(executionArn);
      options.onProgress?.(progress);
      if (progress.status !== RUNNING || options.signal?.aborted) return progress;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs);
        options.signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (options.signal?.aborted) return progress;
    }
  }

  /** Reads the result writer's manifest (named in the execution's output) and sums its files. */
  async summary(executionArn: string): Promise<DistributedSummary | undefined> {
    const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const output = execution.output ? (parseUntrustedJson(execution.output) as Record<string, unknown>) : {};
    const details = output.ResultWriterDetails as { Bucket?: string; Key?: string } | undefined;
    if (!details?.Bucket || !details.Key) return undefined;
    const manifest = (await this.readJson(details.Bucket, details.Key)) as {
      DestinationBucket?: string;
      ResultFiles?: Record<string, { Key: string }[]>;
    };
    const bucket = manifest.DestinationBucket ?? details.Bucket;
    const summary: DistributedSummary = {
      objects: 0,
      skipped: 0,
      stored: 0,
      duplicates: 0,
      rejected: 0,
      failures: 0,
      failed: [],
    };
    for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
      for (const entry of (await this.readJson(bucket, file.Key)) as { Output?: string }[]) {
        const counts = parseUntrustedJson(entry.Output ?? "{}") as Record<string, number>;
        summary.objects += counts.objects ?? 0;
        summary.skipped += counts.skipped ?? 0;
        summary.stored += counts.stored ?? 0;
        summary.duplicates += counts.duplicates ?? 0;
        summary.rejected += counts.rejected ?? 0;
      }
    }
    for (const file of manifest.ResultFiles?.FAILED ?? []) {
      for (const entry of (await this.readJson(bucket, file.Key)) as {
        Input?: string;
        Error?: string;
        Cause?: string;
      }[]) {
        const input = parseUntrustedJson(entry.Input ?? "{}") as { Items?: { Key: string }[] };
        const keys = (input.Items ?? []).map((item) => item.Key);
        summary.objects += keys.length;
        summary.failures += keys.length;
        summary.failed.push({ keys, error: entry.Error ?? "", cause: entry.Cause ?? "" });
      }
    }
    return summary;
  }

  private async readJson(bucket: string, key: string): Promise<unknown> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) throw new AuditError("SFN", `s3://${bucket}/${key} has no body`);
    return parseUntrustedJson(await object.Body.transformToString());
  }
}
