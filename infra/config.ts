/**
 * Stage parameters: everything that differs between two deployments of idc-audit and is not code.
 *
 * SST loads `.env` and then `.env.<stage>` next to `sst.config.ts` before it runs the config (the CLI calls
 * godotenv for both; values already in the environment win), so `npx sst deploy --stage production`
 * reads `.env.production`. Nothing here uses SST globals, so the offline tests import this file directly.
 */

export interface StageConfig {
  /** The Identity Store the events' users live in: `d-` and ten hex digits. */
  readonly identityStoreId: string;
  /** The region of the IAM Identity Center instance that owns that store. */
  readonly identityStoreRegion: string;
  /** The account that owns the store (the management account or the delegated administrator). */
  readonly identityStoreAccountId: string;
  /** The CloudTrail trail bucket to backfill from on each new log object; no backfill if absent. */
  readonly trailBucket: string | undefined;
  /** The trail's S3 key prefix, if it has one: its log objects are under `<prefix>/AWSLogs/`. */
  readonly trailKeyPrefix: string | undefined;
  /** The KMS key the trail encrypts its log files with (SSE-KMS), if any: backfill may decrypt with it. */
  readonly trailKmsKeyArn: string | undefined;
  /** Upper bound on concurrent ingest invocations: the SQS event source mapping's maximum concurrency. */
  readonly ingestMaxConcurrency: number;
  /**
   * Child workflows the distributed backfill runs at once (its Distributed Map's MaxConcurrency), each one
   * invocation of the backfill function on a batch of log objects. The Identity Store quota is shared with live
   * ingestion: each invocation caches profiles, so a cold one asks once per user it meets.
   */
  readonly backfillMaxConcurrency: number;
  /**
   * Declared throwaway (`IDC_AUDIT_DISPOSABLE_STAGE=true`): `sst remove` deletes everything, the table included.
   * Every other stage keeps its data, whatever it is called.
   */
  readonly disposable: boolean;
}

export const ENV = {
  identityStoreId: "IDC_AUDIT_IDENTITY_STORE_ID",
  identityStoreRegion: "IDC_AUDIT_IDENTITY_STORE_REGION",
  identityStoreAccountId: "IDC_AUDIT_IDENTITY_STORE_ACCOUNT_ID",
  trailBucket: "IDC_AUDIT_TRAIL_BUCKET",
  trailKeyPrefix: "IDC_AUDIT_TRAIL_KEY_PREFIX",
  trailKmsKeyArn: "IDC_AUDIT_TRAIL_KMS_KEY_ARN",
  ingestMaxConcurrency: "IDC_AUDIT_INGEST_MAX_CONCURRENCY",
  backfillMaxConcurrency: "IDC_AUDIT_BACKFILL_MAX_CONCURRENCY",
  disposableStage: "IDC_AUDIT_DISPOSABLE_STAGE",
} as const;

/**
 * The smallest maximum concurrency an SQS event source mapping accepts is 2. Two pollers, each with one
 * batch in flight, keep Identity Store lookups (DescribeUser / GetUserId, cached by the handler) far below the
 * account's Identity Store request quota while the queue absorbs bursts.
 */
export const DEFAULT_INGEST_MAX_CONCURRENCY = 2;

/**
 * Ten concurrent backfill invocations: each asks the Identity Store once per user it meets (then caches the
 * profile), and that per-account quota is shared with live ingestion. Raise it for a small directory or a raised
 * quota; the directory adapter backs off when throttled either way.
 */
export const DEFAULT_BACKFILL_MAX_CONCURRENCY = 10;
/** A Distributed Map runs at most 10,000 child workflows at once; Lambda's default account limit is 1,000. */
export const MAX_BACKFILL_MAX_CONCURRENCY = 1000;

const IDENTITY_STORE_ID = /^d-[0-9a-f]{10}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
// S3 bucket naming rules, without the rarely used dotted forms that look like IP addresses.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// A CloudTrail S3 key prefix: no leading or trailing slash.
const KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;

export class StageConfigError extends Error {
  override readonly name = "StageConfigError";
}

/**
 * Whether the stage is declared disposable. Protection is the default because a stage's name says nothing
 * reliable about its data (`prod`, `production`, `live`, a customer's name…); only an explicit `true` turns it
 * off, and anything but `true`/`false` is refused rather than guessed. Read by `app()` in sst.config.ts (for
 * `removal` and `protect`) and by {@link loadStageConfig} (for the table), from the same environment: SST loads
 * `.env.<stage>` before it evaluates `app()`.
 */
export function isDisposableStage(env: Readonly<Record<string, string | undefined>>, stage: string): boolean {
  const problem = disposableProblem(env[ENV.disposableStage]);
  if (problem !== undefined) {
    throw new StageConfigError(`Stage "${stage}": ${problem}; fix it in .env.${stage} (see infra/README.md)`);
  }
  return env[ENV.disposableStage]?.trim() === "true";
}

function disposableProblem(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (value === undefined || value === "" || value === "true" || value === "false") return undefined;
  return `${ENV.disposableStage}=${JSON.stringify(raw)} must be true or false (leave it unset to keep the stage's data)`;
}

/** Reads and validates the stage parameters, naming every missing or malformed one at once. */
export function loadStageConfig(
  env: Readonly<Record<string, string | undefined>>,
  stage: string,
): StageConfig {
  const problems: string[] = [];
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const required = (name: string, pattern: RegExp, example: string) => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is not set (e.g. ${example})`);
    else if (!pattern.test(value))
      problems.push(`${name}=${JSON.stringify(value)} is not valid (e.g. ${example})`);
    return value ?? "";
  };
  const optional = (name: string, pattern: RegExp, example: string) => {
    const value = read(name);
    if (value !== undefined && !pattern.test(value)) {
      problems.push(`${name}=${JSON.stringify(value)} is not valid (e.g. ${example})`);
    }
    return value;
  };

  const identityStoreId = required(ENV.identityStoreId, IDENTITY_STORE_ID, "d-1234567890");
  const identityStoreRegion = required(ENV.identityStoreRegion, REGION, "us-east-1");
  const identityStoreAccountId = required(ENV.identityStoreAccountId, ACCOUNT_ID, "111122223333");
  const trailBucket = optional(ENV.trailBucket, BUCKET, "my-org-cloudtrail-logs");
  const trailKeyPrefix = optional(ENV.trailKeyPrefix, KEY_PREFIX, "org-trail");
  const trailKmsKeyArn = optional(
    ENV.trailKmsKeyArn,
    KMS_KEY_ARN,
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  );
  for (const [name, value] of [
    [ENV.trailKeyPrefix, trailKeyPrefix],
    [ENV.trailKmsKeyArn, trailKmsKeyArn],
  ] as const) {
    if (value !== undefined && trailBucket === undefined)
      problems.push(`${name} is set but ${ENV.trailBucket} is not`);
  }
  const concurrencyText = read(ENV.ingestMaxConcurrency);
  const ingestMaxConcurrency =
    concurrencyText === undefined ? DEFAULT_INGEST_MAX_CONCURRENCY : Number(concurrencyText);
  if (!Number.isInteger(ingestMaxConcurrency) || ingestMaxConcurrency < 2 || ingestMaxConcurrency > 1000) {
    problems.push(
      `${ENV.ingestMaxConcurrency}=${JSON.stringify(concurrencyText)} must be an integer 2..1000`,
    );
  }

  const backfillText = read(ENV.backfillMaxConcurrency);
  const backfillMaxConcurrency =
    backfillText === undefined ? DEFAULT_BACKFILL_MAX_CONCURRENCY : Number(backfillText);
  if (
    !Number.isInteger(backfillMaxConcurrency) ||
    backfillMaxConcurrency < 1 ||
    backfillMaxConcurrency > MAX_BACKFILL_MAX_CONCURRENCY
  ) {
    problems.push(
      `${ENV.backfillMaxConcurrency}=${JSON.stringify(backfillText)} must be an integer 1..${MAX_BACKFILL_MAX_CONCURRENCY}`,
    );
  }
  if (backfillText !== undefined && trailBucket === undefined)
    problems.push(`${ENV.backfillMaxConcurrency} is set but ${ENV.trailBucket} is not`);

  const disposableText = read(ENV.disposableStage);
  const disposableIssue = disposableProblem(disposableText);
  if (disposableIssue !== undefined) problems.push(disposableIssue);

  if (problems.length > 0) {
    throw new StageConfigError(
      `Stage "${stage}" is missing parameters. Set them in .env.${stage} (see infra/README.md) or the environment:\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
  }
  return {
    identityStoreId,
    identityStoreRegion,
    identityStoreAccountId,
    trailBucket,
    trailKeyPrefix,
    trailKmsKeyArn,
    ingestMaxConcurrency,
    backfillMaxConcurrency,
    disposable: disposableText === "true",
  };
}

/** The S3 key prefix CloudTrail writes log objects under: `AWSLogs/`, or `<prefix>/AWSLogs/`. */
export function trailLogPrefix(config: Pick<StageConfig, "trailKeyPrefix">): string {
  return config.trailKeyPrefix === undefined ? "AWSLogs/" : `${config.trailKeyPrefix}/AWSLogs/`;
}

/** The CloudWatch namespace of a stage's own metrics (the ingest canary, the daily reconciliation). */
export function stageMetricsNamespace(stage: string): string {
  return `idc-audit/${stage}`;
}
