/** Stage parameters (infra/config.ts): validated up front, every problem named at once. */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_BACKFILL_MAX_CONCURRENCY,
  DEFAULT_INGEST_MAX_CONCURRENCY,
  isDisposableStage,
  loadStageConfig,
  trailLogPrefix,
} from "../../infra/config.ts";
import { BASE_ENV } from "./synth-helper.ts";

describe("loadStageConfig", () => {
  it("reads the identity store and defaults the rest", () => {
    expect(loadStageConfig(BASE_ENV, "production")).toEqual({
      identityStoreId: "d-1234567890",
      identityStoreRegion: "eu-west-1",
      identityStoreAccountId: "111122223333",
      trailBucket: undefined,
      trailKeyPrefix: undefined,
      trailKmsKeyArn: undefined,
      ingestMaxConcurrency: DEFAULT_INGEST_MAX_CONCURRENCY,
      backfillMaxConcurrency: DEFAULT_BACKFILL_MAX_CONCURRENCY,
      disposable: false,
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

  it("caps the distributed backfill's concurrency at 1..1000, only with a trail bucket", () => {
    const withBucket = { ...BASE_ENV, IDC_AUDIT_TRAIL_BUCKET: "org-trail" };
    expect(
      loadStageConfig({ ...withBucket, IDC_AUDIT_BACKFILL_MAX_CONCURRENCY: "40" }, "dev")
        .backfillMaxConcurrency,
    ).toBe(40);
    for (const value of ["0", "1001", "2.5", "ten"]) {
      expect(
        () => loadStageConfig({ ...withBucket, IDC_AUDIT_BACKFILL_MAX_CONCURRENCY: value }, "dev"),
        value,
      ).toThrow(new RegExp(`IDC_AUDIT_BACKFILL_MAX_CONCURRENCY="${value}" must be an integer 1\\.\\.1000`));
    }
    expect(() => loadStageConfig({ ...BASE_ENV, IDC_AUDIT_BACKFILL_MAX_CONCURRENCY: "5" }, "dev")).toThrow(
      /IDC_AUDIT_BACKFILL_MAX_CONCURRENCY is set but IDC_AUDIT_TRAIL_BUCKET is not/,
    );
  });

  it("keeps every stage's data unless IDC_AUDIT_DISPOSABLE_STAGE is exactly true", () => {
    for (const stage of ["prod", "production", "dev", "staging"]) {
      expect(loadStageConfig(BASE_ENV, stage).disposable, stage).toBe(false);
      expect(isDisposableStage(BASE_ENV, stage), stage).toBe(false);
    }
    for (const value of ["", "false", " false "]) {
      const env = { ...BASE_ENV, IDC_AUDIT_DISPOSABLE_STAGE: value };
      expect(loadStageConfig(env, "dev").disposable, value).toBe(false);
      expect(isDisposableStage(env, "dev"), value).toBe(false);
    }
    const disposable = { ...BASE_ENV, IDC_AUDIT_DISPOSABLE_STAGE: "true" };
    expect(loadStageConfig(disposable, "pr-42").disposable).toBe(true);
    expect(isDisposableStage(disposable, "pr-42")).toBe(true);
  });

  it("refuses a disposable declaration it would have to guess at, naming the stage's .env file", () => {
    for (const value of ["yes", "1", "TRUE", "ture"]) {
      const env = { ...BASE_ENV, IDC_AUDIT_DISPOSABLE_STAGE: value };
      const message = new RegExp(`IDC_AUDIT_DISPOSABLE_STAGE="${value}" must be true or false`);
      expect(() => isDisposableStage(env, "sandbox"), value).toThrow(message);
      expect(() => isDisposableStage(env, "sandbox"), value).toThrow(/\.env\.sandbox/);
      expect(() => loadStageConfig(env, "sandbox"), value).toThrow(message);
    }
  });
});
