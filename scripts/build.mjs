// Builds the CLI and the Lambda handlers with esbuild (esbuild never type-checks: `npm run typecheck` does).
import { cp, mkdir, readdir } from "node:fs/promises";
import { build } from "esbuild";

await mkdir("dist", { recursive: true });

// The CLI runs from the installed package: its dependencies stay in node_modules.
await build({
  entryPoints: ["packages/core/src/cli/bin.ts"],
  outfile: "dist/cli.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});

// The analyst page `idc-audit serve` serves: static files the bundled server finds next to dist/cli.mjs.
await cp("packages/core/src/web", "dist/web", { recursive: true });

// Lambda bundles, as deployed: one minified ESM file per handler, the AWS SDK left to the nodejs22.x runtime.
const handlers = (await readdir("functions")).filter((name) => name.endsWith(".ts"));
await build({
  entryPoints: handlers.map((name) => `functions/${name}`),
  outdir: "dist/functions",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node22",
  external: ["@aws-sdk/*", "@smithy/*", "dynalite"],
  // dynalite is only started by the CLI; a Lambda always talks to a real table.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  metafile: false,
  logLevel: "warning",
});
