import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/fixtures.ts";

const source = join(repoRoot, "packages/core/src");

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(folder, entry.name))
      : /\.(ts|js)$/.test(entry.name)
        ? [join(folder, entry.name)]
        : [],
  );
}

/** Domain folder → the domain folders its files import (type-only imports and dynamic imports included). */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of filesUnder(source)) {
    const from = relative(source, file).split(sep)[0] as string;
    for (const match of readFileSync(file, "utf8").matchAll(/(?:from|import\()\s*["'](\.\.?\/[^"']+)["']/g)) {
      const to = relative(source, normalize(join(dirname(file), match[1] as string))).split(sep)[0] as string;
      if (to === from || to.startsWith(".")) continue;
      const targets = edges.get(from) ?? new Set<string>();
      targets.add(to);
      edges.set(from, targets);
    }
  }
  return edges;
}

/** Every folder that can reach itself through imports. */
function foldersOnACycle(edges: Map<string, Set<string>>): string[] {
  const reaches = (start: string, goal: string, seen = new Set<string>()): boolean => {
    for (const next of edges.get(start) ?? []) {
      if (next === goal) return true;
      if (!seen.has(next)) {
        seen.add(next);
        if (reaches(next, goal, seen)) return true;
      }
    }
    return false;
  };
  return [...edges.keys()].filter((folder) => reaches(folder, folder)).sort();
}

describe("the shape of packages/core/src", () => {
  it("has no import cycle between its domain folders", () => {
    const edges = folderImports();
    expect(edges.get("roles")).toBeDefined();
    expect(foldersOnACycle(edges)).toEqual([]);
  });

  it("keeps the role-session join out of the timeline and the pipeline out of roles", () => {
    const edges = folderImports();
    expect([...(edges.get("timeline") ?? [])]).not.toContain("roles");
    expect([...(edges.get("timeline") ?? [])]).not.toContain("detect");
    expect([...(edges.get("roles") ?? [])]).not.toContain("ingest");
    expect([...(edges.get("roles") ?? [])]).not.toContain("detect");
  });
});
