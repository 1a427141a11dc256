import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const eventsDir = join(repoRoot, "events");

/**
 * The published sample events (`shared/reference/events`, beside the checkout or one of its parents: the main
 * checkout and the engineers' worktrees sit at different depths). Throws when absent: tests over it must not
 * pass by reading nothing.
 */
export function publishedEventsDir(): string {
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, "shared", "reference", "events");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no shared/reference/events above ${repoRoot}`);
  }
}

/**
 * The OCSF 1.8.0 schema sources (`shared/reference/ocsf-schema-1.8.0`), found as `publishedEventsDir` finds the
 * events. Throws when absent: validation must not pass by reading no schema.
 */
export function ocsfSchemaDir(): string {
  return join(dirname(publishedEventsDir()), "ocsf-schema-1.8.0");
}

/** A fixture event from `events/`, freshly parsed so each test can change its own copy. */
export function loadEvent(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(eventsDir, path), "utf8")) as Record<string, unknown>;
}

/** Fixture files below a folder of `events/`, relative to `events/`, sorted. */
export function fixtureFiles(folder: string, pattern = /\.json$/): string[] {
  const root = join(eventsDir, folder);
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (pattern.test(name)) found.push(relative(eventsDir, path));
    }
  };
  visit(root);
  return found;
}

/** Every fixture that is one Identity Center event, success or failure, in any shape. */
export function identityCenterFixtures(): string[] {
  return ["old", "transitional", "new", "admin"].flatMap((folder) => fixtureFiles(folder));
}

export const BOB = {
  identityStoreId: "d-1234567890",
  userId: "94d00cd8-e9e6-4810-b177-b08e84725435",
  userName: "bobsmith@example.com",
} as const;
export const ALICE = {
  identityStoreId: "d-1234567890",
  userId: "9067230c03-1f2e3d4c-5b6a-4789-9abc-def012345678",
  userName: "alice@example.com",
} as const;
