/**
 * The exact actions each function is granted, in one place: the infra files grant them and the offline tests
 * assert them. Pure (no SST globals), so tests import it directly.
 */

/** Ingest and backfill: read, write and update audit items and caches. */
export const TABLE_WRITE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:PutItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
];

/** The query API: reads only. */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];

/** Resolving users of old-shape events: only these two, only on the configured store and its users. */
export const IDENTITY_STORE_ACTIONS = ["identitystore:DescribeUser", "identitystore:GetUserId"];
