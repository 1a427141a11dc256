/**
 * The alert topic the detectors publish to, encrypted with the app's customer managed key. Subscriptions
 * (e-mail, chat, a SIEM) are added by the operator; publishing is granted through the `AlertPublisher` link.
 */
export function createAlerts(key: aws.kms.Key) {
  const topic = new sst.aws.SnsTopic("AlertTopic", {
    transform: {
      topic: (args) => {
        args.kmsMasterKeyId = key.arn;
      },
    },
  });
  const alertPublisher = new sst.Linkable("AlertPublisher", {
    properties: { arn: topic.arn },
    include: [
      sst.aws.permission({ actions: ["sns:Publish"], resources: [topic.arn] }),
      // Publishing to an encrypted topic needs the publisher to generate and decrypt the data key.
      sst.aws.permission({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [key.arn] }),
    ],
  });
  return { topic, alertPublisher };
}
