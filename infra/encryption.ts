/**
 * The customer managed key that encrypts the ingest queues and the alert topic (which CloudWatch alarms publish
 * to, so CloudWatch may use it too, for this stage's alarms only).
 *
 * A customer managed key (not alias/aws/sqs) because EventBridge must be allowed in the key policy to encrypt
 * what it writes to the queue and to its dead-letter queue; AWS managed key policies cannot be changed.
 * The policy lists actions explicitly: no `kms:*`, not even for the account.
 */

import { alarmName } from "./alarms.ts";

export function createKey() {
  const partition = aws.getPartitionOutput().partition;
  const accountId = aws.getCallerIdentityOutput().accountId;
  const policy = $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        // The account (through IAM policies) administers the key and may use it: the function roles get
        // kms:Decrypt / kms:GenerateDataKey on this key only through this delegation.
        Sid: "AccountAdministersAndDelegatesUse",
        Effect: "Allow",
        Principal: { AWS: $interpolate`arn:${partition}:iam::${accountId}:root` },
        Action: [
          "kms:CancelKeyDeletion",
          "kms:CreateAlias",
          "kms:CreateGrant",
          "kms:Decrypt",
          "kms:DeleteAlias",
          "kms:DescribeKey",
          "kms:DisableKey",
          "kms:DisableKeyRotation",
          "kms:EnableKey",
          "kms:EnableKeyRotation",
          "kms:Encrypt",
          "kms:GenerateDataKey",
          "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:ListAliases",
          "kms:ListGrants",
          "kms:ListKeyPolicies",
          "kms:ListResourceTags",
          "kms:PutKeyPolicy",
          "kms:RetireGrant",
          "kms:RevokeGrant",
          "kms:ScheduleKeyDeletion",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:UpdateAlias",
          "kms:UpdateKeyDescription",
        ],
        Resource: "*",
      },
      {
        // EventBridge delivers to the encrypted ingest queue and its target dead-letter queue.
        Sid: "EventBridgeEncryptsQueueMessages",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
      {
        // CloudWatch publishes this stage's alarms (infra/monitoring.ts, the daily reconciliation's in
        // infra/reconcile.ts; all named by alarmName) to the encrypted alert topic.
        Sid: "CloudWatchAlarmsPublishToAlertTopic",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: "*",
        Condition: {
          StringEquals: { "aws:SourceAccount": accountId },
          ArnLike: {
            "aws:SourceArn": $interpolate`arn:${partition}:cloudwatch:*:${accountId}:alarm:${alarmName($app.stage, "*")}`,
          },
        },
      },
    ],
  });
  const key = new aws.kms.Key("QueueKey", {
    description: `idc-audit ${$app.stage}: ingest queues and alert topic`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy,
  });
  new aws.kms.Alias("QueueKeyAlias", { name: `alias/idc-audit-${$app.stage}`, targetKeyId: key.keyId });
  return key;
}
