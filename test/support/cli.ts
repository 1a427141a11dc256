import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./fixtures.ts";

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Starts the built CLI (`bin/idc-audit.mjs`) as a user would, in its own process, every stream a pipe;
 * `nodeArgs` go to node before the script.
 */
export function spawnCli(
  args: readonly string[],
  cwd: string = repoRoot,
  nodeArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
) {
  return spawn(process.execPath, [...nodeArgs, join(repoRoot, "bin/idc-audit.mjs"), ...args], {
    cwd,
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs the built CLI to its end and collects what it printed. */
export function runCli(
  args: readonly string[],
  options: {
    stdin?: string | Buffer;
    cwd?: string;
    nodeArgs?: readonly string[];
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options.cwd, options.nodeArgs, options.env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

export function json<T = Record<string, unknown>>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
