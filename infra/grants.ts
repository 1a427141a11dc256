/**
 * The exact actions each function is granted, in one place: the infra files grant them and the offline tests
 * assert them. Pure (no SST globals), so tests import it directly.
 */

import {
  FINDING_RESPONDER_ACTIONS,
  STORE_READER_ACTIONS,
  STORE_WRITER_ACTIONS,
} from "../packages/core/src/timeline/permissions.ts";

/** Ingest and backfill: exactly the actions the store's ingestion code sends (a core test records them). */
export const TABLE_WRITE_ACTIONS: string[] = [...STORE_WRITER_ACTIONS];

/** The query API: reads only, exactly those the queries send. */
export const TABLE_READ_ACTIONS: string[] = [...STORE_READER_ACTIONS];

/** Resolving users of old-shape events: only these two, only on the configured store and its users. */
export const IDENTITY_STORE_ACTIONS = ["identitystore:DescribeUser", "identitystore:GetUserId"];

/**
 * Naming groups whose `displayName` the events hide: DescribeGroup only, only on the configured store and its
 * groups (the group resource ARN, like the user's, has no account or region: arn:aws:identitystore:::group/*).
 */
export const IDENTITY_STORE_GROUP_ACTIONS = ["identitystore:DescribeGroup"];

/** The GuardDuty finding function: the role-session queries' reads and the published-finding marker's put. */
export const TABLE_FINDING_ACTIONS: string[] = [...FINDING_RESPONDER_ACTIONS];

/** Of those, the put: granted only on items whose partition key is a published-finding marker. */
export const TABLE_FINDING_MARKER_ACTIONS = ["dynamodb:PutItem"];
export const TABLE_FINDING_READ_ACTIONS: string[] = TABLE_FINDING_ACTIONS.filter(
  (action) => !TABLE_FINDING_MARKER_ACTIONS.includes(action),
);

/**
 * The condition that confines the marker's put to `FINDING#v1#…` partitions (timeline/keys.ts `findingPublished`):
 * the function cannot overwrite a timeline, a profile or an alert.
 */
export const FINDING_MARKER_CONDITION = {
  test: "ForAllValues:StringLike",
  variable: "dynamodb:LeadingKeys",
  values: ["FINDING#v1#*"],
};
