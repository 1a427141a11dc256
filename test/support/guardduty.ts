import { loadEvent } from "./fixtures.ts";

export const PUBLISHED_FINDING = "guardduty/awscli__get-findings__1.json";
export const ROLE_FINDING_CLI = "guardduty/get-findings__sso-role-session.json";
export const ROLE_FINDING_EVENTBRIDGE = "guardduty/eventbridge__sso-role-session.json";

/** A CLI finding's keys as the API, the console export and EventBridge spell them (`AccessKeyId` → `accessKeyId`). */
export function camelCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCase);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      `${key[0]?.toLowerCase()}${key.slice(1)}`,
      camelCase(inner),
    ]),
  );
}

/** The single finding of a `get-findings` fixture, as the console's "Export" gives it (camelCase). */
export function consoleExport(path: string): Record<string, unknown> {
  const document = loadEvent(path) as { Findings: unknown[] };
  return camelCase(document.Findings[0]) as Record<string, unknown>;
}

/** A finding wrapped in the EventBridge envelope GuardDuty puts it in on the default bus. */
export function eventBridgeFinding(
  finding: Record<string, unknown>,
  eventId = "cd2d702e-ab31-411b-9344-793ce56b1bc7",
) {
  return {
    version: "0",
    id: eventId,
    "detail-type": "GuardDuty Finding",
    source: "aws.guardduty",
    account: String(finding.accountId),
    time: "2020-05-26T22:55:21Z",
    region: String(finding.region),
    resources: [] as string[],
    detail: finding,
  };
}
