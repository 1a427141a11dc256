#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run by `npm ci` through `prepare`).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bundle = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.mjs");
if (!existsSync(bundle)) {
  process.stderr.write("idc-audit: dist/cli.mjs is missing; run `npm run build` first\n");
  process.exit(2);
}
await import(bundle);
