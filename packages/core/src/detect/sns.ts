import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Alert, AlertSink } from "./detector.ts";

/** Publishes each new alert to the alert topic (encrypted; subscribers page the SOC). */
export class SnsAlertSink implements AlertSink {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  static forTopic(topicArn: string): SnsAlertSink {
    return new SnsAlertSink(new SNSClient({}), topicArn);
  }

  async publish(alert: Alert): Promise<void> {
    const who =
      alert.subject.type === "user" ? (alert.user?.userName ?? alert.subject.userId) : alert.subject.sourceIp;
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // Subjects are limited to 100 characters by SNS.
        Subject: `idc-audit ${alert.severity}: ${alert.rule} ${who}`.slice(0, 100),
        Message: JSON.stringify(alert),
        MessageAttributes: {
          rule: { DataType: "String", StringValue: alert.rule },
          severity: { DataType: "String", StringValue: alert.severity },
        },
      }),
    );
  }
}
