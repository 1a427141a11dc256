/**
 * The one DynamoDB table: keys `pk`/`sk` (every query is on the base keys, so no secondary index), no TTL
 * (nothing in it expires: profiles are refreshed by their `fetchedAt`), on-demand, point-in-time recovery,
 * encrypted with the AWS managed key, and deletion-protected and retained when the stage is removed, on every
 * stage not declared disposable (infra/config.ts).
 *
 * Access is granted through Linkables with exact actions (writer, reader, finding responder) rather than
 * `link: [table]`, which would grant `dynamodb:*`.
 */
import type { StageConfig } from "./config.ts";
import {
  FINDING_MARKER_CONDITION,
  TABLE_FINDING_MARKER_ACTIONS,
  TABLE_FINDING_READ_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from "./grants.ts";

export function createStorage(config: Pick<StageConfig, "disposable">) {
  const keepData = !config.disposable;
  const table = new sst.aws.Dynamo(
    "AuditTable",
    {
      fields: { pk: "string", sk: "string" },
      primaryIndex: { hashKey: "pk", rangeKey: "sk" },
      deletionProtection: keepData,
      transform: {
        table: (args, opts) => {
          args.billingMode = "PAY_PER_REQUEST";
          args.pointInTimeRecovery = { enabled: true };
          // Enabled without a key ARN: encrypted with the AWS managed key aws/dynamodb (KMS, auditable in
          // CloudTrail) rather than the default AWS owned key.
          args.serverSideEncryption = { enabled: true };
          if (keepData) opts.retainOnDelete = true;
        },
      },
    },
    // Pulumi refuses to delete a protected resource: the data survives `sst remove` and a deploy that drops it.
    { protect: keepData },
  );

  const tableWriter = new sst.Linkable("AuditTableWriter", {
    properties: { name: table.name, arn: table.arn },
    include: [sst.aws.permission({ actions: TABLE_WRITE_ACTIONS, resources: [table.arn] })],
  });
  const tableReader = new sst.Linkable("AuditTableReader", {
    properties: { name: table.name, arn: table.arn },
    include: [sst.aws.permission({ actions: TABLE_READ_ACTIONS, resources: [table.arn] })],
  });
  const tableFindingResponder = new sst.Linkable("AuditTableFindingResponder", {
    properties: { name: table.name, arn: table.arn },
    include: [
      sst.aws.permission({ actions: TABLE_FINDING_READ_ACTIONS, resources: [table.arn] }),
      sst.aws.permission({
        actions: TABLE_FINDING_MARKER_ACTIONS,
        resources: [table.arn],
        conditions: [FINDING_MARKER_CONDITION],
      }),
    ],
  });
  return { table, tableWriter, tableReader, tableFindingResponder };
}
