/**
 * The ingest rules' event patterns, generated from the core's catalogue pattern.
 *
 * EventBridge accepts event patterns of at most 2048 characters unless the account has raised that quota
 * (to 4096 at most). The catalogue pattern is one `$or` branch per event source; the Identity Center services
 * are matched by source whatever the event name (so names AWS adds later arrive too), which keeps it short,
 * but should it outgrow the limit it is split here into as few patterns as fit, each keeping the full `source`
 * list and a subset of the `detail.$or` branches. Every event matches at most one of them (each branch names its own
 * `eventSource`), and their union matches exactly what the single catalogue pattern matches.
 * Pure: no SST globals, so tests import it directly.
 */
import { eventBridgePattern } from "../packages/core/src/cloudtrail/catalogue.ts";
import { SSO_ROLE_PREFIX } from "../packages/core/src/roles/types.ts";

export const EVENT_PATTERN_MAX_LENGTH = 2048;

/**
 * The rules' state: with plain ENABLED, EventBridge does not deliver read-only CloudTrail management events
 * (ListAccounts, GetRoleCredentials, ListApplications…), i.e. most of the portal.
 */
export const INGEST_RULE_STATE = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

type Pattern = Record<string, unknown>;

export function ingestRulePatterns(
  pattern: Pattern = eventBridgePattern(),
  maxLength: number = EVENT_PATTERN_MAX_LENGTH,
): Pattern[] {
  if (JSON.stringify(pattern).length <= maxLength) return [pattern];
  const detail = pattern.detail as Record<string, unknown> | undefined;
  const branches = detail?.$or;
  if (!detail || !Array.isArray(branches)) {
    throw new Error(
      `event pattern is ${JSON.stringify(pattern).length} characters and has no detail.$or to split`,
    );
  }
  const { $or: _, ...detailRest } = detail;
  const build = (group: unknown[]): Pattern => ({
    ...pattern,
    // A single branch is inlined: `$or` with one element is not worth the risk of a rejected pattern.
    detail: group.length === 1 ? { ...detailRest, ...(group[0] as Pattern) } : { ...detailRest, $or: group },
  });

  // First fit, in catalogue order: stable grouping as long as the catalogue only grows at the end.
  const groups: unknown[][] = [];
  for (const branch of branches) {
    const fits = groups.find((group) => JSON.stringify(build([...group, branch])).length <= maxLength);
    if (fits) fits.push(branch);
    else if (JSON.stringify(build([branch])).length <= maxLength) groups.push([branch]);
    else
      throw new Error(
        `one event source's pattern alone is longer than ${maxLength}: ${JSON.stringify(branch)}`,
      );
  }
  return groups.map(build);
}

/**
 * The role-session rule's pattern: this account's Identity Center role sessions, which the catalogue pattern
 * (Identity Center's own event sources) does not match. Two branches:
 *  - every CloudTrail event whose actor is a session of an `AWSReservedSSO_*` role (any service: API calls,
 *    console sign-in, `sts:AssumeRole` into a chained role), told by `sessionContext.sessionIssuer.userName`;
 *  - `sts:AssumeRoleWithSAML` into such a role (Identity Center issuing the credentials; its actor is the
 *    SAML user, so only the requested role's ARN names it): `wildcard`, because the ARN has a path
 *    (`role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_…`) and the name is its last segment.
 * Most of these calls are read-only (Get…, List…, Describe…): the rule needs INGEST_RULE_STATE too.
 * Other accounts' role sessions reach the table through the organization trail's bucket (backfill).
 */
export function roleSessionRulePattern(rolePrefix: string = SSO_ROLE_PREFIX): Pattern {
  return {
    $or: [
      {
        detail: {
          userIdentity: { sessionContext: { sessionIssuer: { userName: [{ prefix: rolePrefix }] } } },
        },
      },
      {
        source: ["aws.sts"],
        detail: {
          eventSource: ["sts.amazonaws.com"],
          eventName: ["AssumeRoleWithSAML"],
          requestParameters: { roleArn: [{ wildcard: `*/${rolePrefix}*` }] },
        },
      },
    ],
  };
}

/**
 * The GuardDuty rule's pattern: findings that name a temporary access key (`ASIA…`). Every role session's key
 * is one; long-term IAM user keys (`AKIA…`) never belong to a role session, and findings about instances or
 * buckets name no key. Not narrowed to `userName` prefix `AWSReservedSSO_`: a finding about a role chained from
 * an Identity Center session names the chained role, and idc-audit stores that session's key too.
 */
export function guardDutyFindingPattern(): Pattern {
  return {
    source: ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    detail: { resource: { accessKeyDetails: { accessKeyId: [{ prefix: "ASIA" }] } } },
  };
}

/** GuardDuty findings are not CloudTrail events: plain ENABLED delivers them. */
export const GUARDDUTY_RULE_STATE = "ENABLED";
