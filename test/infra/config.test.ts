/** Stage parameters (infra/config.ts): validated up front, every problem named at once. */
import { describe, expect, it } from "vitest";
import { DEFAULT_INGEST_MAX_CONCURRENCY, loadStageConfig, trailLogPrefix } from "../../infra/config.ts";
import { BASE_ENV } from "./synth-helper.ts";

describe("loadStageConfig", () => {
  it("reads the identity store and defaults the rest", () => {
    expect(loadStageConfig(BASE_ENV, "prod")).toEqual({
      identityStoreId: "d-1234567890",
      identityStoreRegion: "eu-west-1",
      identityStoreAccountId: "111122223333",
      trailBucket: undefined,
      trailKeyPrefix: undefined,
      trailKmsKeyArn: undefined,
      ingestMaxConcurrency: DEFAULT_INGEST_MAX_CONCURRENCY,
    });
  });

  it("names every missing or malformed parameter and the .env file to put them in", () => {
    const attempt = () =>
      loadStageConfig(
        { IDC_AUDIT_IDENTITY_STORE_ID: "1234567890", IDC_AUDIT_INGEST_MAX_CONCURRENCY: "1" },
        "staging",
      );
    expect(attempt).toThrow(/\.env\.staging/);
    expect(attempt).toThrow(/IDC_AUDIT_IDENTITY_STORE_ID="1234567890" is not valid/);
    expect(attempt).toThrow(/IDC_AUDIT_IDENTITY_STORE_REGION is not set/);
    expect(attempt).toThrow(/IDC_AUDIT_IDENTITY_STORE_ACCOUNT_ID is not set/);
    expect(attempt).toThrow(/IDC_AUDIT_INGEST_MAX_CONCURRENCY="1" must be an integer 2\.\.1000/);
  });

  it("accepts the optional trail settings only with a trail bucket", () => {
    expect(() => loadStageConfig({ ...BASE_ENV, IDC_AUDIT_TRAIL_KEY_PREFIX: "org" }, "dev")).toThrow(
      /IDC_AUDIT_TRAIL_KEY_PREFIX is set but IDC_AUDIT_TRAIL_BUCKET is not/,
    );
    const config = loadStageConfig(
      { ...BASE_ENV, IDC_AUDIT_TRAIL_BUCKET: "org-trail", IDC_AUDIT_TRAIL_KEY_PREFIX: "org/logs" },
      "dev",
    );
    expect(trailLogPrefix(config)).toBe("org/logs/AWSLogs/");
    expect(trailLogPrefix({ trailKeyPrefix: undefined })).toBe("AWSLogs/");
  });
});
