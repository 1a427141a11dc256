import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { ChangeQueries } from "../changes/queries.ts";
import { type Alert, type AlertSink, Detector, listAlerts } from "../detect/detector.ts";
import { DEFAULT_DETECTION_CONFIG, type DetectionConfig } from "../detect/rules.ts";
import { ExportDirectory } from "../identity/export.ts";
import { IdentityStoreDirectory } from "../identity/identity-store.ts";
import { noDirectory, type UserDirectory } from "../identity/port.ts";
import { Pipeline } from "../ingest/pipeline.ts";
import { RoleQueries } from "../roles/queries.ts";
import { UsageError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { Items } from "../timeline/items.ts";
import { TimelineQueries } from "../timeline/queries.ts";
import { TableStore } from "../timeline/store.ts";
import { EMBEDDED_STORE_SIGNER, routeThroughSharedStore, SharedStore } from "./shared-store.ts";

export * from "./embedded.ts";
export * from "./heap.ts";
export * from "./shared-store.ts";

/** Where the table is and which directory enriches users: the one place entry points are wired. */
export interface RuntimeConfig {
  /** Embedded store data (default `.idc-audit`). Ignored when `endpoint` or `tableName` names a real table. */
  readonly dataDir?: string;
  /** Keep the embedded store in memory (tests, benchmarks). */
  readonly inMemory?: boolean;
  /** A DynamoDB endpoint (a real region's is found by the SDK; pass one for DynamoDB Local and the like). */
  readonly endpoint?: string;
  readonly tableName?: string;
  readonly region?: string;
  /** `aws identitystore list-users` JSON; wins over a live Identity Store. */
  readonly directoryFile?: string;
  /** Several exports, each `list-users` or `list-groups` JSON (the CLI's repeatable `--directory`). */
  readonly directoryFiles?: readonly string[];
  readonly identityStoreId?: string;
  readonly identityStoreRegion?: string;
  readonly logger?: AuditLogger;
  readonly cacheLifetimeMs?: number;
  /** An already-built directory (tests inject fakes here). */
  readonly directory?: UserDirectory;
  /** Where new alerts are published (SNS in AWS); without one, alerts are stored and returned only. */
  readonly alertSink?: AlertSink;
  /** SNS topic for new alerts (the Lambda functions' `ALERT_TOPIC_ARN`). */
  readonly alertTopicArn?: string;
  readonly detection?: Partial<DetectionConfig>;
  /** Told when opening the embedded store waits for another process on the same data dir (the CLI: stderr). */
  readonly onStoreWait?: (message: string) => void;
}

export interface Runtime {
  readonly store: TableStore;
  readonly directory: UserDirectory;
  readonly pipeline: Pipeline;
  readonly queries: TimelineQueries;
  /** Role sessions in member accounts: the person, the portal session and what was done. */
  readonly roleQueries: RoleQueries;
  /** Directory changes: to a person, to a group, by an administrator. */
  readonly changeQueries: ChangeQueries;
  /** Stored alerts whose episode started in the range, oldest first. */
  alerts(since?: string, until?: string): Promise<Alert[]>;
  /** `embedded (<dir>)` or `table <name>`, for messages. */
  readonly description: string;
  close(): Promise<void>;
}

export const DEFAULT_DATA_DIR = ".idc-audit";
export const EMBEDDED_TABLE = "idc-audit";

export async function buildDirectory(config: RuntimeConfig): Promise<UserDirectory> {
  if (config.directory) return config.directory;
  const files = [...(config.directoryFile ? [config.directoryFile] : []), ...(config.directoryFiles ?? [])];
  if (files.length > 0) return ExportDirectory.fromFiles(files, config.identityStoreId);
  if (config.identityStoreId) {
    if (!/^d-[0-9a-f]{10}$|^[0-9a-f-]{1,36}$/.test(config.identityStoreId)) {
      throw new UsageError(`identity store id ${config.identityStoreId} is not of the form d-xxxxxxxxxx`);
    }
    const client = new IdentitystoreClient(
      config.identityStoreRegion ? { region: config.identityStoreRegion } : {},
    );
    return new IdentityStoreDirectory(client, {
      identityStoreId: config.identityStoreId,
      logger: config.logger ?? silentLogger,
    });
  }
  return noDirectory;
}

/**
 * A DynamoDB client for the table, as every idc-audit process (and the bench) sets one up.
 * - Every request of an ingest goes through the client's middleware chain, which it otherwise builds anew for
 *   each request (sorting every step of the stack): built once per kind of command instead
 *   (`cacheMiddleware`). A step added to the stack after the first request is then not applied (tests that
 *   record requests drop the cache first: `changeClientSteps` in `test/support/store.ts`).
 * - No logger is ever given to the SDK, yet its logger step copies every request and answer through a
 *   sensitive-data filter for the no-op logger on each call: items and query pages, at a measurable share of
 *   the ingesting process's CPU. Without the step nothing the table holds can reach an SDK log either.
 */
export function storeClient(config: DynamoDBClientConfig): DynamoDBClient {
  const client = new DynamoDBClient({ ...config, cacheMiddleware: true });
  client.middlewareStack.remove("loggerMiddleware");
  return client;
}

/** Opens the store (embedded unless a table is named) and wires the pipeline and queries to it. */
export async function openRuntime(config: RuntimeConfig = {}): Promise<Runtime> {
  const directory = await buildDirectory(config);
  const useRealTable = config.endpoint !== undefined || config.tableName !== undefined;
  let closeEmbedded: (() => Promise<void>) | undefined;
  let client: DynamoDBClient;
  let tableName: string;
  let description: string;
  if (useRealTable) {
    tableName = config.tableName ?? EMBEDDED_TABLE;
    client = storeClient({
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.region ? { region: config.region } : {}),
    });
    description = `table ${tableName}${config.endpoint ? ` at ${config.endpoint}` : ""}`;
  } else {
    const dataDir = config.dataDir ?? DEFAULT_DATA_DIR;
    // Every process on a data dir goes through the same shared store: the first serves it, the others use it.
    const shared = await SharedStore.open(
      config.inMemory ? undefined : dataDir,
      config.onStoreWait ? { onWait: config.onStoreWait } : {},
    );
    closeEmbedded = () => shared.close();
    tableName = EMBEDDED_TABLE;
    client = storeClient({
      endpoint: shared.address.endpoint,
      region: "local",
      // Placeholders: the SDK resolves credentials before it calls the signer, which uses none of them.
      credentials: { accessKeyId: "embedded", secretAccessKey: "embedded" },
      signer: EMBEDDED_STORE_SIGNER,
      maxAttempts: 3,
    });
    routeThroughSharedStore(client, shared);
    description = config.inMemory ? "embedded store (in memory)" : `embedded store in ${dataDir}`;
  }
  const store = new TableStore(client, { tableName });
  try {
    // Tables in AWS belong to the infrastructure: functions and analysts never create (or describe) them, so
    // they need no such permission and a mistyped --table fails on its first read instead of creating one.
    // The embedded store, and a local endpoint such as DynamoDB Local, get the table created on first use.
    if (!useRealTable || config.endpoint !== undefined) await createTableIfMissing(store);
  } catch (error) {
    client.destroy();
    await closeEmbedded?.();
    throw error;
  }
  return runtimeOnTable(store, directory, config, description, async () => {
    client.destroy();
    await closeEmbedded?.();
  });
}

/**
 * Creates the table if it does not exist, marked with what a table idc-audit created holds: only what versions
 * that insert workflow heads, write presence marks and write a day's coverage item before committing its
 * events stored (`Pipeline`, `Detector`).
 */
export async function createTableIfMissing(store: TableStore): Promise<void> {
  if (await store.ensureTable())
    await store.putAll([
      Items.workflowHeadsMarker(),
      Items.presenceMarksMarker(),
      Items.coverageDaysMarker(),
    ]);
}

/**
 * The pipeline, queries and detections of one table, wired as every entry point wires them (`openRuntime`;
 * the bench also wires a table of its own to warm a process up). `close` ends whatever the table is reached by.
 */
export async function runtimeOnTable(
  store: TableStore,
  directory: UserDirectory,
  config: RuntimeConfig,
  description: string,
  close: () => Promise<void>,
): Promise<Runtime> {
  const logger = config.logger ?? silentLogger;
  const queries = new TimelineQueries(store);
  const roleQueries = new RoleQueries(store, queries);
  const sink = config.alertSink ?? (config.alertTopicArn ? await snsSink(config.alertTopicArn) : undefined);
  const detector = new Detector(
    store,
    queries,
    sink,
    { ...DEFAULT_DETECTION_CONFIG, ...config.detection },
    logger,
    roleQueries,
  );
  const pipeline = new Pipeline(store, directory, {
    logger,
    detector,
    ...(config.cacheLifetimeMs !== undefined ? { cacheLifetimeMs: config.cacheLifetimeMs } : {}),
  });
  return {
    store,
    directory,
    pipeline,
    queries,
    roleQueries,
    changeQueries: new ChangeQueries(store, queries),
    alerts: (since, until) => listAlerts(store, since, until),
    description,
    close,
  };
}

/** The SNS SDK is loaded only where alerts are published to a topic. */
async function snsSink(topicArn: string): Promise<AlertSink> {
  const { SnsAlertSink } = await import("../detect/sns.ts");
  return SnsAlertSink.forTopic(topicArn);
}

/** Runtime settings a Lambda function reads from its environment (set by the infrastructure). */
export function configFromEnvironment(env: NodeJS.ProcessEnv, logger?: AuditLogger): RuntimeConfig {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new UsageError("TABLE_NAME is not set");
  return {
    tableName,
    ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
    ...(env.IDENTITY_STORE_ID ? { identityStoreId: env.IDENTITY_STORE_ID } : {}),
    ...(env.IDENTITY_STORE_REGION ? { identityStoreRegion: env.IDENTITY_STORE_REGION } : {}),
    ...(env.DIRECTORY_FILE ? { directoryFile: env.DIRECTORY_FILE } : {}),
    ...(env.ALERT_TOPIC_ARN ? { alertTopicArn: env.ALERT_TOPIC_ARN } : {}),
    ...(logger ? { logger } : {}),
  };
}
