/**
 * The query API: the CLI's queries over HTTPS, behind a Lambda function URL that only signed (SigV4) requests
 * from principals allowed lambda:InvokeFunctionUrl and lambda:InvokeFunction (both, for URLs created since
 * October 2025) can call. Read-only access to the table.
 */
import { FUNCTION_DEFAULTS, powertoolsEnvironment } from "./functions.ts";

export function createApi(deps: {
  readonly table: sst.aws.Dynamo;
  readonly tableReader: sst.Linkable<Record<string, unknown>>;
}) {
  const fn = new sst.aws.Function("Api", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: query API (function URL, AWS_IAM)",
    handler: "functions/api.handler",
    timeout: "30 seconds",
    memory: "512 MB",
    // No CORS (SST's default allows every origin, header and method): tools call it, not pages elsewhere.
    url: { authorization: "iam", cors: false },
    environment: { TABLE_NAME: deps.table.name, ...powertoolsEnvironment("idc-audit-api") },
    link: [deps.tableReader],
  });
  return { fn };
}
