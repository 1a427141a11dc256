/**
 * The DynamoDB actions the store's code sends, for least-privilege grants: the infrastructure grants exactly
 * these, and a test records the commands ingestion and queries really send and checks they stay within them.
 */

/**
 * Ingestion (CLI, ingest and backfill functions): batched reads and writes, a conditional put (a profile first
 * seen while Identity Store is unavailable), bookkeeping deletes, and PartiQL inserts (`BatchExecuteStatement` of
 * `INSERT`s only: sign-in workflow heads, `TableStore.insertAll`).
 */
export const STORE_WRITER_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:DeleteItem",
  "dynamodb:PartiQLInsert",
  "dynamodb:PutItem",
  "dynamodb:Query",
] as const;

/** Queries (CLI, serve, query API): reads only. */
export const STORE_READER_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:Query"] as const;

/**
 * The GuardDuty finding function: the queries' reads, and one conditional put (the marker that the finding's
 * answer was published).
 */
export const FINDING_RESPONDER_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
] as const;
