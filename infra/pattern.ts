/**
 * The ingest rules' event patterns, generated from the core's catalogue pattern.
 *
 * EventBridge accepts event patterns of at most 2048 characters unless the account has raised that quota
 * (to 4096 at most). The catalogue pattern is one `$or` branch per event source and is already longer than
 * that, so it is split here into as few patterns as fit, each keeping the full `source` list and a subset of
 * the `detail.$or` branches. Every event matches at most one of them (each branch names its own
 * `eventSource`), and their union matches exactly what the single catalogue pattern matches.
 * Pure: no SST globals, so tests import it directly.
 */
import { eventBridgePattern } from "../packages/core/src/cloudtrail/catalogue.ts";

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
