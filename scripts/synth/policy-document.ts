/**
 * What the AWS provider's iam.getPolicyDocument returns as `json`, for the statement shapes SST passes:
 * `{ sid?, effect?, actions?, notActions?, resources?, notResources?, principals?, notPrincipals?,
 * conditions? }`. Single-element lists become strings, as the provider renders them.
 */

export interface PolicyStatementInput {
  sid?: string;
  effect?: string;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  notPrincipals?: { type: string; identifiers: string[] }[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

const one = (values: string[]) => (values.length === 1 ? values[0] : [...values].sort());

function principalsJson(principals: NonNullable<PolicyStatementInput["principals"]>) {
  const result: Record<string, string | string[] | undefined> = {};
  for (const principal of principals) {
    const existing = result[principal.type];
    const merged = [...(existing === undefined ? [] : [existing].flat()), ...principal.identifiers];
    result[principal.type] = one(merged);
  }
  return result;
}

export function policyDocumentJson(statements: PolicyStatementInput[]): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: statements.map((statement) => {
        const json: Record<string, unknown> = {};
        if (statement.sid) json.Sid = statement.sid;
        json.Effect = statement.effect ?? "Allow";
        if (statement.actions?.length) json.Action = one(statement.actions);
        if (statement.notActions?.length) json.NotAction = one(statement.notActions);
        if (statement.resources?.length) json.Resource = one(statement.resources);
        if (statement.notResources?.length) json.NotResource = one(statement.notResources);
        if (statement.principals?.length) json.Principal = principalsJson(statement.principals);
        if (statement.notPrincipals?.length) json.NotPrincipal = principalsJson(statement.notPrincipals);
        if (statement.conditions?.length) {
          const condition: Record<string, Record<string, string | string[] | undefined>> = {};
          for (const { test, variable, values } of statement.conditions) {
            condition[test] = { ...condition[test], [variable]: one(values) };
          }
          json.Condition = condition;
        }
        return json;
      }),
    },
    null,
    2,
  );
}
