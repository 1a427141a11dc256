/**
 * The Lambda bundles `npm run build` writes (dist/functions/*.mjs) load and run on Node 22, the Node of the
 * nodejs22.x runtime they deploy to, whatever Node runs the tests: each is imported by a Node 22 process.
 *
 * The Node 22 binary: IDC_AUDIT_NODE22 (`.ci/run` sets it, from scripts/node22.ts), else this process when it
 * is Node 22, else the one scripts/node22.ts installs in .cache/ (from the npm registry, on first use). No
 * machine skips it: where Node 22 cannot be had, the test fails and says why.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureNode22, NODE22_BINARY, versionOf } from "../../scripts/node22.ts";
import { repoRoot } from "../support/fixtures.ts";

const INSTALL_HINT = "set IDC_AUDIT_NODE22, or install it with `node --import tsx scripts/node22.ts`";

function findNode22(): { binary: string; version: string } | undefined {
  const fromEnv = process.env.IDC_AUDIT_NODE22;
  const candidates = fromEnv ? [fromEnv] : [process.execPath, NODE22_BINARY];
  for (const binary of candidates) {
    const version = versionOf(binary);
    if (version?.startsWith("v22.")) return { binary, version };
    if (fromEnv)
      throw new Error(`IDC_AUDIT_NODE22=${fromEnv} is not Node 22 (it reports ${version ?? "nothing"})`);
  }
  return undefined;
}

/** The Node 22 to use: one already here, else the registry's, installed now (once per checkout). */
function node22OrInstall(): { binary: string; version: string } {
  const found = findNode22();
  if (found) return found;
  let binary: string;
  try {
    binary = ensureNode22();
  } catch (error) {
    throw new Error(
      `the Lambda bundles must be tested on Node 22 and none could be installed (${String(error)}): ${INSTALL_HINT}`,
    );
  }
  const version = versionOf(binary);
  if (!version?.startsWith("v22."))
    throw new Error(`${binary} is not Node 22 (it reports ${version ?? "nothing"})`);
  return { binary, version };
}

const node22 = node22OrInstall();

const bundleDir = join(repoRoot, "dist", "functions");
const handlers = readdirSync(join(repoRoot, "functions"))
  .filter((name) => name.endsWith(".ts"))
  .map((name) => name.replace(/\.ts$/, ""));

/** Runs an ES module script with Node 22 in the repository (externals such as the AWS SDK resolve there). */
function runOnNode22(
  script: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const { binary } = node22;
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ["--input-type=module", "--eval", script],
      {
        cwd: repoRoot,
        // Nothing from the developer's AWS profile: no call in these scripts may reach AWS.
        env: {
          PATH: process.env.PATH ?? "",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`Node 22 failed: ${stderr || error.message}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

describe(`Lambda bundles on Node 22 (${node22.version})`, () => {
  it("has a bundle for every handler in functions/", () => {
    const bundles = readdirSync(bundleDir).filter((name) => name.endsWith(".mjs"));
    expect(bundles.sort()).toEqual(handlers.map((name) => `${name}.mjs`).sort());
  });

  it.each(handlers)("imports dist/functions/%s.mjs and finds its handler", async (name) => {
    const url = new URL(`file://${join(bundleDir, `${name}.mjs`)}`).href;
    const { stdout } = await runOnNode22(
      `const module = await import(${JSON.stringify(url)});
       console.log(JSON.stringify({ node: process.version, exports: Object.keys(module), handler: typeof module.handler }));`,
    );
    expect(JSON.parse(stdout)).toEqual({ node: node22?.version, exports: ["handler"], handler: "function" });
  });

  it("runs the ingest bundle on an SQS batch: a poison message is rejected and reported as failed", async () => {
    const url = new URL(`file://${join(bundleDir, "ingest.mjs")}`).href;
    const record = {
      messageId: "poison-1",
      receiptHandle: "handle",
      body: "not json",
      attributes: {},
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:idc-audit-ingest",
      awsRegion: "us-east-1",
    };
    const context = {
      functionName: "idc-audit-ingest",
      awsRequestId: "request-1",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:idc-audit-ingest",
      memoryLimitInMB: "256",
      functionVersion: "$LATEST",
    };
    const { stdout, stderr } = await runOnNode22(
      `const { handler } = await import(${JSON.stringify(url)});
       const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 30000 };
       const result = await handler({ Records: [${JSON.stringify(record)}] }, context);
       console.log("RESULT " + JSON.stringify(result));`,
      {
        TABLE_NAME: "idc-audit-table",
        IDENTITY_STORE_ID: "d-1234567890",
        IDENTITY_STORE_REGION: "us-east-1",
        ALERT_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:idc-audit-alerts",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "example",
        // A closed port: if the handler did reach for AWS, it would fail here rather than leave the machine.
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      },
    );
    // Powertools writes its JSON log lines to stdout or stderr by level.
    const lines = `${stdout}\n${stderr}`.split("\n").filter((line) => line.trim() !== "");
    const result = lines.find((line) => line.startsWith("RESULT "));
    expect(JSON.parse(result?.slice("RESULT ".length) ?? "null")).toMatchObject({
      batchItemFailures: [{ itemIdentifier: "poison-1" }],
      counts: { read: 1, stored: 0, rejected: 1 },
    });
    const logged = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    expect(logged).toContainEqual(
      expect.objectContaining({ message: "message rejected", messageId: "poison-1", reason: "invalid JSON" }),
    );
  });
});
