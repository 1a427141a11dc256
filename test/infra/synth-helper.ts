/**
 * Runs the offline synth (scripts/synth/synth.ts) in a child process, so that Pulumi's global runtime state,
 * process.chdir and the stage parameters in process.env stay out of the test worker.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SynthResource, SynthResult } from "../../scripts/synth/synth.ts";

export type { SynthResource, SynthResult };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const IDENTITY_STORE = { id: "d-1234567890", region: "eu-west-1", accountId: "111122223333" };
export const TRAIL_BUCKET = "example-org-trail";

export const BASE_ENV = {
  IDC_AUDIT_IDENTITY_STORE_ID: IDENTITY_STORE.id,
  IDC_AUDIT_IDENTITY_STORE_REGION: IDENTITY_STORE.region,
  IDC_AUDIT_IDENTITY_STORE_ACCOUNT_ID: IDENTITY_STORE.accountId,
};

export function runSynth(stage: string, env: Record<string, string>): Promise<SynthResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "idc-audit-synth-"));
  const out = path.join(dir, "synth.json");
  // Only what node needs plus the stage parameters: nothing from the developer's shell leaks in.
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ...env,
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/synth/synth.ts", "--stage", stage, "--out", out],
      { cwd: ROOT, env: childEnv, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        try {
          if (error) reject(new Error(`synth --stage ${stage} failed: ${stderr || error.message}`));
          else resolve(JSON.parse(readFileSync(out, "utf8")) as SynthResult);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });
}

export function ofType(result: SynthResult, type: string): SynthResource[] {
  return result.resources.filter((resource) => resource.type === type);
}

export function named(result: SynthResult, type: string, name: string): SynthResource {
  const found = result.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found) throw new Error(`no ${type} named ${name} in the synth of ${result.stage}`);
  return found;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: string | Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export function statementsOf(policy: unknown): PolicyStatement[] {
  const document = (typeof policy === "string" ? JSON.parse(policy) : policy) as {
    Statement: PolicyStatement | PolicyStatement[];
  };
  return [document.Statement].flat();
}

export const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : [value].flat();

/** The inline policy statements of the role of the SST function `name`. */
export function roleStatements(result: SynthResult, functionName: string): PolicyStatement[] {
  const role = named(result, "aws:iam/role:Role", `${functionName}Role`);
  const inline = (role.inputs.inlinePolicies ?? []) as { policy: string }[];
  return inline.flatMap((policy) => statementsOf(policy.policy));
}

/** Actions granted on each resource ARN by a function's inline policy. */
export function grants(result: SynthResult, functionName: string): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const statement of roleStatements(result, functionName)) {
    if (statement.Effect !== "Allow") continue;
    for (const resource of list(statement.Resource)) {
      const actions = map.get(resource) ?? new Set<string>();
      for (const action of list(statement.Action)) actions.add(action);
      map.set(resource, actions);
    }
  }
  return map;
}
