import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { FindingAlert, FindingSink } from "../roles/finding.ts";
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

/**
 * Publishes the answer to a GuardDuty finding about an Identity Center role session to the alert topic, with
 * the attributes alerts carry so that subscription filters treat both alike.
 */
export class SnsFindingSink implements FindingSink {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  static forTopic(topicArn: string): SnsFindingSink {
    return new SnsFindingSink(new SNSClient({}), topicArn);
  }

  async publish(alert: FindingAlert): Promise<void> {
    const who = alert.person?.userName ?? alert.person?.userId ?? alert.roleSession.sessionName;
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // Subjects are limited to 100 characters by SNS.
        Subject: `idc-audit ${alert.severity}: GuardDuty ${alert.finding.type ?? "finding"} ${who}`.slice(
          0,
          100,
        ),
        Message: JSON.stringify(alert),
        MessageAttributes: {
          rule: { DataType: "String", StringValue: "guardduty-finding" },
          severity: { DataType: "String", StringValue: alert.severity },
        },
      }),
    );
  }
}
