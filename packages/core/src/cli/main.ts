import { appendFile, mkdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { type DayRange, dayRange, keyInRange, parseDay } from "../backfill/range.ts";
import type { ChangeView } from "../changes/queries.ts";
import { countInputFiles, readInputs } from "../cloudtrail/reader.ts";
import { type ObjectSource, parseS3Uri } from "../cloudtrail/s3.ts";
import { readCoverage } from "../coverage/queries.ts";
import { type Alert, asStoredNow } from "../detect/detector.ts";
import { ExportDirectory } from "../identity/export.ts";
import { classifyItem, ingestStream, type Rejection } from "../ingest/run.ts";
import type { UserKey } from "../normalize/types.ts";
import { answerFinding, findingsOf } from "../roles/finding.ts";
import type { UserWithRoles } from "../roles/queries.ts";
import { ACCESS_KEY_ID, ROLE_SESSION_ID } from "../roles/types.ts";
import {
  DEFAULT_DATA_DIR,
  embeddedStoreFolder,
  openRuntime,
  type Runtime,
  type RuntimeConfig,
} from "../runtime/index.ts";
import { AuditError, describeError, UsageError } from "../shared/errors.ts";
import { parseUntrustedJson } from "../shared/json.ts";
import { PRIVATE_DIRECTORY, PRIVATE_FILE } from "../shared/private.ts";
import { parseTime } from "../shared/time.ts";
import { mapLimit } from "../timeline/store.ts";
import { reconcileCountsOf, runDistributedBackfill, runReconcile } from "./backfill.ts";
import { formatChanges, formatGroup } from "./changes.ts";
import { formatCoverage } from "./coverage.ts";
import {
  describeUser,
  formatAccessKey,
  formatAlerts,
  formatCounts,
  formatFailures,
  formatFindingAnswer,
  formatRejections,
  formatRoleSessionDetail,
  formatTimeline,
  formatUser,
} from "./format.ts";
import { checkExportOptions, ExportFormat, exportFormat, exportStore, normalizeToOcsf } from "./ocsf.ts";
import { WarningTally } from "./warnings.ts";

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  /** Whether stderr is a terminal (progress bar). */
  readonly interactive: boolean;
  /** The command's warnings, reported at its end (`main` sets it). */
  readonly warnings?: WarningTally;
}

const USAGE = `idc-audit: IAM Identity Center CloudTrail events as session timelines

Usage:
  idc-audit ingest [options] PATH...        store events from files, folders (CloudTrail archives),
                                            s3://bucket/prefix (a trail bucket) or - (stdin, plain
                                            or gzip)
  idc-audit backfill [options] s3://BUCKET/PREFIX [--since DAY] [--until DAY] [--distributed]
                                            ingest a trail bucket's log objects: streamed from here,
                                            or fanned out by the deployed state machine (--distributed,
                                            --state-machine ARN or IDC_AUDIT_BACKFILL_STATE_MACHINE)
  idc-audit reconcile [options] s3://BUCKET/PREFIX|DIR --since DAY --until DAY [--distributed]
                                            the archive's events the table is missing, ingested
  idc-audit timeline [options] CREDENTIAL_ID  one portal session's events in time order
  idc-audit user [options] VALUE            a person's sessions (VALUE: user id, user name or email)
  idc-audit user [options] --external-id ID [--issuer ISSUER]
  idc-audit group [options] VALUE           a group (VALUE: group id or display name): who was
                                            added, removed or assigned through it, when, by whom
  idc-audit changes [options] --actor ARN-or-name
                                            directory changes made by an administrator (an ARN, a
                                            role or session name) or an Identity Center person
  idc-audit failed-signins [options] [--since T] [--until T]
  idc-audit address [options] IP            every event seen from a source address
  idc-audit role-session [options] ID       a role session in a member account: person, portal
                                            session, link, and every call made with it
  idc-audit access-key [options] ACCESS_KEY_ID
                                            the person behind an access key (ASIA…): their role
                                            session, portal session, sign-in and Okta / AD ids
  idc-audit finding [options] FILE.json     the same for a GuardDuty finding (console or CLI export)
  idc-audit alerts [options] [--since T] [--until T]  detections: attacks on sign-in, stolen role credentials
                                            (those whose episode started in the range)
  idc-audit coverage [options] [--since T] [--until T]  the canary: events attributed to a person by
                                            day and shape, unknown event names, new userIdentity fields
  idc-audit normalize PATH...               normalized events as NDJSON on stdout, nothing stored
  idc-audit normalize --format ocsf|ocsf-parquet [--out DIR|-] PATH...
                                            the same as OCSF 1.8.0 events (NDJSON, or Parquet in
                                            Security Lake's layout under DIR)
  idc-audit export --format ocsf|ocsf-parquet [--since T] [--until T] [--out DIR|-]
                                            stored events as OCSF, with the person, profile and
                                            role-session links idc-audit worked out
  idc-audit enrich [options]                fetch profiles still pending after directory failures
  idc-audit serve [options] [--port 8080]   the analyst page and read-only API on http://127.0.0.1:PORT/
  idc-audit demo [ARCHIVE]                  ingest the bundled events/archive (or ARCHIVE) and print
                                            its busiest session

Store options (default: embedded DynamoDB in .idc-audit/):
  --data-dir DIR            embedded store and dead-letter file location (default .idc-audit)
  --table NAME              a real DynamoDB table (normal AWS credentials)
  --endpoint URL            a DynamoDB endpoint (DynamoDB Local, …)
  --region REGION
Directory options (default: none, events stored unenriched):
  --directory FILE          'aws identitystore list-users' or 'list-groups' JSON export;
                            give it once per file (users and groups)
  --identity-store-id ID    live Identity Store (DescribeUser / GetUserId)
  --identity-store-region REGION
Ingest options:
  --batch-size N            records per pipeline batch (default 2000)
Output:
  --json                    one JSON document on stdout (the stable contract)
  -h, --help
`;

const OPTIONS = {
  "data-dir": { type: "string" },
  table: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  directory: { type: "string", multiple: true },
  "identity-store-id": { type: "string" },
  "identity-store-region": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  "external-id": { type: "string" },
  issuer: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "batch-size": { type: "string" },
  port: { type: "string" },
  distributed: { type: "boolean", default: false },
  "state-machine": { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  actor: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function runtimeConfig(values: Values, io: CliIo): RuntimeConfig {
  return {
    onStoreWait: (message) => write(io.stderr, `idc-audit: ${message}`),
    ...(io.warnings ? { logger: io.warnings } : {}),
    ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
    ...(values.table ? { tableName: values.table } : {}),
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values.directory?.length ? { directoryFiles: values.directory } : {}),
    ...(values["identity-store-id"] ? { identityStoreId: values["identity-store-id"] } : {}),
    ...(values["identity-store-region"] ? { identityStoreRegion: values["identity-store-region"] } : {}),
  };
}

function write(stream: Writable, text: string): void {
  stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

function printJson(io: CliIo, document: unknown): void {
  write(io.stdout, JSON.stringify(document, null, 2));
}

async function withRuntime<T>(values: Values, io: CliIo, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(runtimeConfig(values, io));
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * `withRuntime` for a query: an embedded store must already be in the data dir. Opening one creates it, empty,
 * and a mistyped `--data-dir` (or the default `.idc-audit/` of another folder) would answer "nothing found".
 */
async function withStore<T>(values: Values, io: CliIo, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  if (values.table === undefined) {
    const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
    const store = embeddedStoreFolder(dataDir);
    if (!(await stat(store).catch(() => undefined))?.isDirectory())
      throw new NotFoundError(
        `no idc-audit store in ${resolve(dataDir)} (no ${store}): nothing was ingested there. Give the data dir that holds your store with --data-dir, or ingest into this one first (idc-audit ingest --data-dir ${dataDir} PATH)`,
      );
  }
  return withRuntime(values, io, work);
}

/** `--since` and `--until`, which must not be the wrong way round. */
function timeRange(values: Values): { since: string | undefined; until: string | undefined } {
  const since = parseTime(values.since, "--since");
  const until = parseTime(values.until, "--until");
  if (since !== undefined && until !== undefined && since > until)
    throw new UsageError(`--since ${since} is after --until ${until}`);
  return { since, until };
}

async function assertInputsExist(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) throw new UsageError("give at least one PATH (a file, a folder, or - for stdin)");
  for (const path of paths) {
    if (path === "-") continue;
    if (path.startsWith("s3://")) {
      parseS3Uri(path);
      continue;
    }
    try {
      await stat(path);
    } catch {
      throw new UsageError(`no such file or folder: ${path}`);
    }
  }
}

interface IngestOutcome {
  readonly counts: Awaited<ReturnType<typeof ingestStream>>;
  readonly sessions: Map<string, number>;
}

async function runIngest(
  values: Values,
  paths: string[],
  io: CliIo,
  runtime: Runtime,
  /** Only the log objects of these days (`backfill --since/--until`): CloudTrail's keys carry their day. */
  range?: DayRange,
): Promise<IngestOutcome> {
  const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
  const deadLetter = join(dataDir, "dead-letter.ndjson");
  await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIRECTORY });
  const shown: Rejection[] = [];
  const raised: Alert[] = [];
  const sessions = new Map<string, number>();
  const showProgress = io.interactive && !values.json;
  const totalFiles = showProgress ? await countInputFiles(paths) : 0;
  const bar = showProgress
    ? new cliProgress.SingleBar(
        {
          format: "ingesting [{bar}] {value}/{total} files | {records} records | {stored} stored",
          stream: io.stderr as NodeJS.WriteStream,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(totalFiles, 0, { records: 0, stored: 0 });
  let filesSeen = 0;
  const batchSize = values["batch-size"] ? Number(values["batch-size"]) : undefined;
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new UsageError("--batch-size must be a positive whole number");
  }
  const objects = paths.some((path) => path.startsWith("s3://")) ? await s3Objects(values) : undefined;
  const counts = await ingestStream(
    readInputs(paths, {
      stdin: io.stdin,
      ...(objects ? { objects } : {}),
      ...(range ? { keep: (key: string) => keyInRange(key, range) } : {}),
      onFile: () => {
        filesSeen += 1;
      },
    }),
    runtime.pipeline,
    {
      ...(batchSize ? { batchSize } : {}),
      onAudited: (event) => {
        if (event.credentialId) sessions.set(event.credentialId, (sessions.get(event.credentialId) ?? 0) + 1);
      },
      onRejected: async (rejection) => {
        // The dead-letter names where the record is and why; it does not copy the record, whose secrets
        // (LoginTo codes, tokens) must not spread. The input file is the kept original.
        await appendFile(deadLetter, `${JSON.stringify({ at: new Date().toISOString(), ...rejection })}\n`, {
          mode: PRIVATE_FILE,
        });
        if (shown.length < 20) shown.push(rejection);
      },
      onBatch: (current, _stored, alerts) => {
        raised.push(...alerts);
        bar?.update(filesSeen, { records: current.read, stored: current.stored });
      },
    },
  );
  bar?.update(filesSeen);
  bar?.stop();
  if (values.json) {
    printJson(io, counts);
  } else {
    write(io.stdout, `${formatCounts(counts)} (${runtime.description})`);
    const rejected = formatRejections(shown, counts.rejected, deadLetter);
    if (rejected) write(io.stdout, rejected);
    // Paged when they first alerted; printed as they stand once the whole input is in.
    if (raised.length > 0)
      write(io.stdout, formatAlerts(await asStoredNow(runtime.store, raised), "new alerts"));
  }
  return { counts, sessions };
}

/** The S3 SDK is loaded only when an s3:// input is given; normal AWS credentials apply. */
async function s3Objects(values: Values): Promise<ObjectSource> {
  const [{ S3Client }, { S3ObjectSource }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("../cloudtrail/s3-source.ts"),
  ]);
  return new S3ObjectSource(new S3Client(values.region ? { region: values.region } : {}));
}

/**
 * `user`: the person a value names; else, for a plain value, the events waiting for that sign-in name (old-shape
 * events ingested with no directory and no mapping yet), labelled `"status":"unresolved"`.
 */
async function userReport(
  values: Values,
  positionals: string[],
  runtime: Runtime,
): Promise<UserWithRoles & { changes: ChangeView[] }> {
  const { user, asked } = await resolveUser(values, positionals, runtime);
  if (user) {
    const [report, changes] = await Promise.all([
      runtime.roleQueries.userWithRoles(user),
      runtime.changeQueries.userChanges(user),
    ]);
    return { ...report, changes };
  }
  const name = values["external-id"] === undefined ? positionals[0] : undefined;
  const unresolved = name === undefined ? undefined : await runtime.roleQueries.unresolvedName(name);
  if (!unresolved) throw new NotFoundError(`no user known for ${asked}`);
  return { ...unresolved, changes: [] };
}

/** `group VALUE`: a group id or display name (any case); a name two groups share must be asked by id. */
async function groupReport(value: string | undefined, runtime: Runtime) {
  if (!value) throw new UsageError("group needs a VALUE (group id or display name)");
  const groups = await runtime.changeQueries.findGroups(value);
  const [first, ...others] = groups;
  if (!first) throw new NotFoundError(`no group known for ${value}`);
  if (others.length > 0) {
    throw new UsageError(
      `${value} names ${groups.length} groups (${groups.map((group) => `${group.identityStoreId}/${group.groupId}`).join(", ")}): ask by group id`,
    );
  }
  return runtime.changeQueries.group(first);
}

async function resolveUser(
  values: Values,
  positionals: string[],
  runtime: Runtime,
): Promise<{ user: UserKey | undefined; asked: string }> {
  const externalId = values["external-id"];
  let candidates: UserKey[];
  let asked: string;
  if (externalId !== undefined) {
    candidates = await runtime.queries.findUsersByExternalId(externalId, values.issuer);
    asked = `external id ${externalId}${values.issuer ? ` from ${values.issuer}` : ""}`;
    // Not seen in stored profiles: the directory may still know it (GetUserId needs the issuer).
    if (candidates.length === 0 && values.issuer) {
      const found = await runtime.directory.findByExternalId({ issuer: values.issuer, id: externalId });
      if (found) candidates = [found];
    }
  } else {
    const value = positionals[0];
    if (!value) throw new UsageError("user needs a VALUE (user id, user name or email) or --external-id ID");
    candidates = await runtime.queries.findUsers(value);
    asked = value;
    if (candidates.length === 0) {
      const found = await runtime.directory.findByUserName(value);
      if (found) candidates = [found];
    }
  }
  const [first, ...others] = candidates;
  if (others.length > 0) {
    throw new UsageError(
      `${asked} names ${candidates.length} users (${candidates.map((user) => `${user.identityStoreId}/${user.userId}`).join(", ")}): ask by user id`,
    );
  }
  return { user: first, asked };
}

/** A finding exported from the console or the CLI: a few KB of JSON, read whole. */
async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseUntrustedJson(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
}

/** A lookup that found nothing: exit code 1, not a usage error. */
class NotFoundError extends AuditError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

async function command(name: string, values: Values, positionals: string[], io: CliIo): Promise<number> {
  switch (name) {
    case "ingest": {
      await assertInputsExist(positionals);
      await withRuntime(values, io, (runtime) => runIngest(values, positionals, io, runtime));
      return 0;
    }
    case "backfill":
      return backfillCommand(values, positionals, io);
    case "reconcile":
      return reconcileCommand(values, positionals, io);
    case "normalize": {
      await assertInputsExist(positionals);
      const format = exportFormat(values.format, ExportFormat.Json);
      if (format === ExportFormat.Json && values.out !== undefined)
        throw new UsageError(
          "normalize writes its JSON to stdout: --out goes with --format ocsf or ocsf-parquet",
        );
      if (format !== ExportFormat.Json) {
        await normalizeToOcsf(positionals, format, values.out, io);
        return 0;
      }
      let ignored = 0;
      let rejected = 0;
      for await (const item of readInputs(positionals, { stdin: io.stdin })) {
        const classified = classifyItem(item);
        if (classified.kind === "audited") write(io.stdout, JSON.stringify(classified.record.event));
        else if (classified.kind === "role") write(io.stdout, JSON.stringify(classified.event));
        // Stateless: whether another role's call belongs to a chained Identity Center session needs the store.
        else if (classified.kind === "ignored" || classified.kind === "chain-candidate") ignored += 1;
        else {
          rejected += 1;
          write(io.stderr, `rejected ${classified.rejection.location}: ${classified.rejection.reason}`);
        }
      }
      write(io.stderr, `${ignored} ignored, ${rejected} rejected`);
      return 0;
    }
    case "export": {
      const range = timeRange(values);
      const format = exportFormat(values.format, ExportFormat.Json);
      checkExportOptions(format, values.out);
      await withStore(values, io, (runtime) => exportStore(runtime, range, format, values.out, io));
      return 0;
    }
    case "timeline": {
      const credentialId = positionals[0];
      if (!credentialId) throw new UsageError("timeline needs a CREDENTIAL_ID");
      const timeline = await withStore(values, io, (runtime) =>
        runtime.roleQueries.sessionWithRoles(credentialId),
      );
      if (timeline.events.length === 0) throw new NotFoundError(`no events for session ${credentialId}`);
      if (values.json) printJson(io, timeline);
      else write(io.stdout, formatTimeline(timeline));
      return 0;
    }
    case "user": {
      if (values["external-id"] !== undefined && positionals[0] !== undefined)
        throw new UsageError(`user takes a VALUE (${positionals[0]}) or --external-id ID, not both`);
      const report = await withStore(values, io, (runtime) => userReport(values, positionals, runtime));
      if (values.json) printJson(io, report);
      else write(io.stdout, `${formatUser(report)}\n${formatChanges("directory changes", report.changes)}`);
      return 0;
    }
    case "group": {
      const report = await withStore(values, io, (runtime) => groupReport(positionals[0], runtime));
      if (values.json) printJson(io, report);
      else write(io.stdout, formatGroup(report));
      return 0;
    }
    case "changes": {
      const actor = values.actor;
      if (!actor) throw new UsageError("changes needs --actor ARN-or-name");
      const report = await withStore(values, io, (runtime) => runtime.changeQueries.actorChanges(actor));
      if (values.json) printJson(io, report);
      else write(io.stdout, formatChanges(`changes by ${actor}`, report.changes));
      return 0;
    }
    case "role-session": {
      const id = positionals[0];
      if (!id || !ROLE_SESSION_ID.test(id)) throw new UsageError("role-session needs an ID (rs-…)");
      const detail = await withStore(values, io, (runtime) => runtime.roleQueries.roleSession(id));
      if (!detail) throw new NotFoundError(`no role session ${id}`);
      if (values.json) printJson(io, detail);
      else write(io.stdout, formatRoleSessionDetail(detail));
      return 0;
    }
    case "access-key": {
      const accessKeyId = positionals[0];
      if (!accessKeyId || !ACCESS_KEY_ID.test(accessKeyId))
        throw new UsageError("access-key needs an ACCESS_KEY_ID (ASIA…)");
      const answer = await withStore(values, io, (runtime) => runtime.roleQueries.accessKey(accessKeyId));
      if (!answer) throw new NotFoundError(`no Identity Center role session is stored for ${accessKeyId}`);
      if (values.json) printJson(io, answer);
      else write(io.stdout, formatAccessKey(answer));
      return 0;
    }
    case "finding": {
      const path = positionals[0];
      if (!path) throw new UsageError("finding needs a FILE (a GuardDuty finding as JSON)");
      let findings: ReturnType<typeof findingsOf>;
      try {
        findings = findingsOf(await readJsonFile(path));
      } catch (error) {
        // The reader's errors name the file already; the document's do not.
        if (error instanceof UsageError && !error.message.includes(path))
          throw new UsageError(`${path}: ${error.message}`);
        throw error;
      }
      const answers = await withStore(values, io, (runtime) =>
        mapLimit(findings, 4, (finding) => answerFinding(runtime.roleQueries, finding)),
      );
      if (values.json) printJson(io, answers.length === 1 ? answers[0] : { findings: answers });
      else write(io.stdout, answers.map(formatFindingAnswer).join("\n\n"));
      return answers.some((answer) => answer.roleSession !== undefined) ? 0 : 1;
    }
    case "failed-signins": {
      const { since, until } = timeRange(values);
      const failures = await withStore(values, io, (runtime) => runtime.queries.failedSignIns(since, until));
      if (values.json) printJson(io, { failures });
      else write(io.stdout, formatFailures(failures));
      return 0;
    }
    case "address": {
      const address = positionals[0];
      if (!address) throw new UsageError("address needs an IP");
      const events = await withStore(values, io, (runtime) => runtime.queries.address(address));
      if (values.json) printJson(io, { sourceIp: address, events });
      else
        write(
          io.stdout,
          `${events.length} events from ${address}\n${events.map((event) => `  ${event.eventTime}  ${event.eventName}  ${event.outcome}`).join("\n")}`,
        );
      return 0;
    }
    case "alerts": {
      const { since, until } = timeRange(values);
      const alerts = await withStore(values, io, (runtime) => runtime.alerts(since, until));
      if (values.json) printJson(io, { alerts });
      else write(io.stdout, formatAlerts(alerts));
      return 0;
    }
    case "coverage": {
      const { since, until } = timeRange(values);
      const report = await withStore(values, io, (runtime) => readCoverage(runtime.store, since, until));
      if (values.json) printJson(io, report);
      else write(io.stdout, formatCoverage(report));
      return 0;
    }
    case "serve": {
      const port = Number(values.port ?? "8080");
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError("--port must be 0..65535");
      const runtime = await openRuntime(runtimeConfig(values, io));
      const { startServer } = await import("../api/server.ts");
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(runtime, { port });
      } catch (error) {
        await runtime.close();
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
          throw new UsageError(
            `port ${port} is in use on 127.0.0.1: give another with --port (0: any free one)`,
          );
        throw error;
      }
      // The address carries the server's key: other users of this machine can reach loopback too.
      write(
        io.stdout,
        `idc-audit: serving ${runtime.description} on ${server.openUrl} (open this address: it carries this run's key; Ctrl-C to stop)`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
      await runtime.close();
      return 0;
    }
    case "enrich": {
      const result = await withStore(values, io, async (runtime) => {
        const retried = await runtime.pipeline.enricher.retryPending();
        // With an export, every stored person it lists: it is believed over what was stored before; and every
        // name it lists is taught to the events waiting for it (ingested with no directory).
        const listed = runtime.directory instanceof ExportDirectory ? runtime.directory.users : [];
        const refreshed = await runtime.pipeline.enricher.refresh(listed.map(({ user }) => user));
        runtime.pipeline.enricher.learn(
          listed.flatMap(({ user, userName }) => (userName ? [{ user, userName }] : [])),
        );
        // The names the fetched profiles teach attribute the old-shape events waiting for them.
        await runtime.pipeline.teachLearnedNames();
        return {
          ...retried,
          stillPending: retried.stillPending + refreshed.stillPending,
          refreshed: refreshed.refreshed,
        };
      });
      if (values.json) printJson(io, result);
      else
        write(
          io.stdout,
          `retried ${result.retried} users, refreshed ${result.refreshed} from the export, ${result.stillPending} still pending`,
        );
      return 0;
    }
    case "demo": {
      const archive = positionals[0] ?? "events/archive";
      // The bundled directory is the bundled archive's: given for another archive, it would mark every person
      // of that archive deleted in the data dir.
      const directory = values.directory?.length
        ? values.directory
        : positionals[0] === undefined
          ? ["events/directory.json"]
          : [];
      const demoValues = { ...values, directory };
      await assertInputsExist([archive]);
      const { sessions } = await withRuntime(demoValues, io, async (runtime) => {
        const outcome = await runIngest({ ...demoValues, json: false }, [archive], io, runtime);
        const busiest = [...outcome.sessions].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
        if (busiest) {
          const timeline = await runtime.roleQueries.sessionWithRoles(busiest[0]);
          write(io.stdout, `\n${formatTimeline(timeline)}`);
          if (timeline.user) {
            write(io.stdout, `\nTry: npx idc-audit user ${timeline.user.userName ?? timeline.user.userId}`);
          }
          const key = timeline.roleSessions[0]?.accessKeyIds[0];
          if (key) write(io.stdout, `     npx idc-audit access-key ${key}`);
        }
        return outcome;
      });
      if (sessions.size > 0) return 0;
      write(io.stderr, `idc-audit: no portal session in ${archive}: nothing to show (see the counts above)`);
      return 1;
    }
    default:
      throw new UsageError(`unknown command ${name}`);
  }
}

function dayRangeOf(values: Values): DayRange {
  return dayRange(parseDay(values.since, "--since"), parseDay(values.until, "--until"));
}

/** Ctrl-C stops following a distributed run (which goes on in AWS) instead of killing the process mid-poll. */
function interruptSignal(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once("SIGINT", abort);
  return { signal: controller.signal, release: () => process.off("SIGINT", abort) };
}

async function backfillCommand(values: Values, positionals: string[], io: CliIo): Promise<number> {
  const [uri, ...rest] = positionals;
  if (!uri?.startsWith("s3://") || rest.length > 0)
    throw new UsageError("backfill needs one s3://bucket/prefix");
  parseS3Uri(uri);
  const range = dayRangeOf(values);
  if (values.distributed) {
    const { signal, release } = interruptSignal();
    try {
      return await runDistributedBackfill({
        uri,
        range,
        stateMachineArn: values["state-machine"],
        region: values.region,
        json: values.json,
        interactive: io.interactive,
        stdout: io.stdout,
        stderr: io.stderr,
        signal,
      });
    } finally {
      release();
    }
  }
  const ranged = range.since !== undefined || range.until !== undefined;
  await withRuntime(values, io, (runtime) =>
    runIngest(values, [uri], io, runtime, ranged ? range : undefined),
  );
  return 0;
}

async function reconcileCommand(values: Values, positionals: string[], io: CliIo): Promise<number> {
  const [path, ...rest] = positionals;
  if (path === undefined || rest.length > 0)
    throw new UsageError("reconcile needs one s3://bucket/prefix or folder");
  await assertInputsExist([path]);
  const range = dayRangeOf(values);
  if (range.since === undefined || range.until === undefined)
    throw new UsageError("reconcile needs --since and --until");
  if (values.distributed) {
    if (!path.startsWith("s3://"))
      throw new UsageError("reconcile --distributed reads an s3://bucket/prefix");
    const { signal, release } = interruptSignal();
    try {
      return await runDistributedBackfill({
        uri: path,
        range,
        stateMachineArn: values["state-machine"],
        region: values.region,
        json: false,
        stdout: io.stderr,
        stderr: io.stderr,
        signal,
        onSummary: (summary) => {
          const counts = reconcileCountsOf(summary);
          if (values.json) printJson(io, counts);
          else
            write(
              io.stdout,
              `${counts.objects} objects, ${counts.events} events: ${counts.present} present, ${counts.missing} missing, ${counts.ingested} ingested${counts.failedObjects > 0 ? `; ${counts.failedObjects} objects failed, their events not checked` : ""}`,
            );
        },
      });
    } finally {
      release();
    }
  }
  const objects = path.startsWith("s3://") ? await s3Objects(values) : undefined;
  const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
  await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIRECTORY });
  const deadLetter = join(dataDir, "dead-letter.ndjson");
  const counts = await withRuntime(values, io, (runtime) =>
    runReconcile(
      runtime,
      { path, range, ...(objects ? { objects } : {}) },
      {
        json: values.json,
        stdout: io.stdout,
        onRejected: (rejection) =>
          appendFile(deadLetter, `${JSON.stringify({ at: new Date().toISOString(), ...rejection })}\n`, {
            mode: PRIVATE_FILE,
          }),
      },
    ),
  );
  return counts.ingested === counts.missing ? 0 : 1;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    write(io.stderr, `idc-audit: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [name, ...positionals] = parsed.positionals;
  if (parsed.values.help || name === undefined || name === "help") {
    write(name === undefined && !parsed.values.help ? io.stderr : io.stdout, USAGE);
    return name === undefined && !parsed.values.help ? 2 : 0;
  }
  const warnings = new WarningTally();
  try {
    return await command(name, parsed.values, positionals, { ...io, warnings });
  } catch (error) {
    if (error instanceof UsageError) {
      write(io.stderr, `idc-audit: ${error.message}`);
      return 2;
    }
    if (error instanceof NotFoundError) {
      if (parsed.values.json) printJson(io, { error: error.message });
      write(io.stderr, `idc-audit: ${error.message}`);
      return 1;
    }
    write(io.stderr, `idc-audit: ${describeError(error)}${hintFor(error)}`);
    return 1;
  } finally {
    warnings.report(io.stderr);
  }
}

export { describeUser };

/** What to do about an AWS SDK error whose own message does not say (it is raised far from the option). */
function hintFor(error: unknown): string {
  const text = `${describeError(error)} ${error instanceof Error && error.cause !== undefined ? describeError(error.cause) : ""}`;
  if (text.includes("Region is missing"))
    return " (give --region, or set AWS_REGION, for the table and s3:// inputs; --identity-store-region for the directory)";
  return "";
}
