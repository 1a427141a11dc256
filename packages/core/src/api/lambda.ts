import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { configFromEnvironment, openRuntime, type Runtime } from "../runtime/index.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { parseQueryString, route } from "./route.ts";

export interface FunctionUrlDependencies {
  readonly logger: AuditLogger;
  /** Opens the runtime once per container; defaults to the function's environment. */
  readonly openRuntime?: () => Promise<Runtime>;
}

/**
 * The query function behind a Lambda function URL (IAM auth): the same router as `idc-audit serve`, mounted
 * at the root. Raw path and query string are passed through so both adapters parse them identically (the
 * pre-split `queryStringParameters` would join a repeated parameter with commas).
 */
export function createFunctionUrlHandler(dependencies: FunctionUrlDependencies) {
  const { logger } = dependencies;
  let runtime: Promise<Runtime> | undefined;
  const open = dependencies.openRuntime ?? (() => openRuntime(configFromEnvironment(process.env, logger)));

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    runtime ??= open().catch((error: unknown) => {
      runtime = undefined;
      throw error;
    });
    const { queries, store } = await runtime;
    const response = await route(
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        query: parseQueryString(event.rawQueryString),
      },
      { queries, store, logger },
    );
    // The status only: paths and parameters name the people being looked up.
    logger.info("request answered", { method: event.requestContext.http.method, status: response.status });
    return { statusCode: response.status, headers: response.headers, body: response.body };
  };
}
