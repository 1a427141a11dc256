/**
 * Read access to the Identity Store the audited users live in: DescribeUser and GetUserId only, on that
 * store and on its users (the user resource ARN has no account or region: arn:aws:identitystore:::user/*);
 * DescribeGroup only, on that store and on its groups.
 */
import type { StageConfig } from "./config.ts";
import { IDENTITY_STORE_ACTIONS, IDENTITY_STORE_GROUP_ACTIONS } from "./grants.ts";

export function createIdentityStoreLink(config: StageConfig) {
  const partition = aws.getPartitionOutput().partition;
  const storeArn = $interpolate`arn:${partition}:identitystore::${config.identityStoreAccountId}:identitystore/${config.identityStoreId}`;
  const usersArn = $interpolate`arn:${partition}:identitystore:::user/*`;
  const groupsArn = $interpolate`arn:${partition}:identitystore:::group/*`;
  return new sst.Linkable("IdentityStore", {
    properties: {
      id: config.identityStoreId,
      region: config.identityStoreRegion,
      accountId: config.identityStoreAccountId,
    },
    include: [
      sst.aws.permission({ actions: IDENTITY_STORE_ACTIONS, resources: [storeArn, usersArn] }),
      sst.aws.permission({ actions: IDENTITY_STORE_GROUP_ACTIONS, resources: [storeArn, groupsArn] }),
    ],
  });
}
