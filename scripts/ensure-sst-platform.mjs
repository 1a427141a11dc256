// `npm test` type-checks and synthesizes the SST infrastructure, which needs SST's platform in .sst/platform.
// Only `sst install` writes it (offline here: npm instead of bun, no dependency check, no telemetry).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync(".sst/platform/config.d.ts")) {
  const result = spawnSync("npx", ["sst", "install"], {
    stdio: "inherit",
    env: {
      ...process.env,
      SST_STAGE: process.env.SST_STAGE ?? "ci",
      SST_SKIP_DEPENDENCY_CHECK: "1",
      SST_TELEMETRY_DISABLED: "1",
      SST_NO_BUN: "1",
    },
  });
  if (result.status !== 0) {
    process.stderr.write("sst install failed: the infrastructure cannot be type-checked or synthesized\n");
    process.exit(result.status ?? 1);
  }
}
