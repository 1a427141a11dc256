/**
 * `findingsOf` on GuardDuty findings in the three shapes a responder hands it: the published AWS CLI sample
 * (`aws guardduty get-findings`, PascalCase), the same finding as the console exports it and as EventBridge
 * delivers it (camelCase), and the variant that names an Identity Center role session's key.
 */
import { findingsOf } from "@idc-audit/core/roles";
import { describe, expect, it } from "vitest";
import { loadEvent } from "../support/fixtures.ts";
import {
  consoleExport,
  eventBridgeFinding as eventBridge,
  PUBLISHED_FINDING as PUBLISHED,
  ROLE_FINDING_CLI as VARIANT_CLI,
  ROLE_FINDING_EVENTBRIDGE as VARIANT_EVENTBRIDGE,
} from "../support/guardduty.ts";

const published = {
  findingId: "1ab92989eaf0e742df4a014d5example",
  type: "Recon:IAMUser/UserPermissions",
  severity: 5,
  accountId: "111122223333",
  region: "us-east-1",
  accessKeyId: "ASIASZ4SI7REEEXAMPLE",
  principalId: "AIDACKCEVSQ6C2EXAMPLE",
  userName: "testuser",
  userType: "IAMUser",
  identityCenterRole: false,
};

const variant = {
  findingId: "9e4f5a6b7c8d9e0f1a2b3c4d5example",
  type: "Recon:IAMUser/UserPermissions",
  severity: 5,
  accountId: "444455556666",
  region: "eu-west-1",
  accessKeyId: "ASIA3EXAMPLEROLEKEY1",
  principalId: "AROA3EXAMPLESSOROLE99:bobsmith@example.com",
  userName: "AWSReservedSSO_AdministratorAccess_8d2c4b6a1e3f5a7c",
  userType: "AssumedRole",
  identityCenterRole: true,
};

describe("findingsOf on the published AWS CLI sample", () => {
  it("reads the finding of `aws guardduty get-findings` output (PascalCase) with its access key", () => {
    expect(findingsOf(loadEvent(PUBLISHED))).toEqual([published]);
  });

  it("reads the same finding exported from the console (camelCase)", () => {
    expect(findingsOf(consoleExport(PUBLISHED))).toEqual([published]);
  });

  it("reads the same finding delivered by EventBridge (detail-type GuardDuty Finding)", () => {
    expect(findingsOf(eventBridge(consoleExport(PUBLISHED)))).toEqual([published]);
  });

  it("reads the API's lower-case `findings` list and a list of documents", () => {
    const finding = consoleExport(PUBLISHED);
    expect(findingsOf({ findings: [finding, finding] })).toEqual([published, published]);
    expect(findingsOf([eventBridge(finding), loadEvent(PUBLISHED)])).toEqual([published, published]);
  });
});

describe("findingsOf on a finding about an Identity Center role session", () => {
  it("reads the CLI output and marks the AWSReservedSSO_ principal", () => {
    expect(findingsOf(loadEvent(VARIANT_CLI))).toEqual([variant]);
  });

  it("reads the console export", () => {
    expect(findingsOf(consoleExport(VARIANT_CLI))).toEqual([variant]);
  });

  it("reads the EventBridge event stored in events/guardduty", () => {
    expect(findingsOf(loadEvent(VARIANT_EVENTBRIDGE))).toEqual([variant]);
  });
});

describe("findingsOf on what is not a finding it can answer", () => {
  it("gives a null access key for a finding without accessKeyDetails (an instance finding)", () => {
    const finding = consoleExport(PUBLISHED) as { resource: Record<string, unknown> };
    finding.resource = { resourceType: "Instance", instanceDetails: { instanceId: "i-99999999" } };
    const [read] = findingsOf(finding);
    expect(read?.accessKeyId).toBeNull();
    expect(read?.identityCenterRole).toBe(false);
  });

  it("gives a null access key when the key is not an access key id (GuardDuty's generated samples)", () => {
    const finding = consoleExport(PUBLISHED) as { resource: { accessKeyDetails: Record<string, unknown> } };
    finding.resource.accessKeyDetails.accessKeyId = "GeneratedFindingAccessKeyId";
    expect(findingsOf(finding)[0]?.accessKeyId).toBeNull();
  });

  it("refuses a document without an id, naming the reason", () => {
    expect(() => findingsOf({ resource: {} })).toThrow(/not a GuardDuty finding/);
    expect(() => findingsOf("a finding")).toThrow(/JSON object/);
  });

  it("refuses an EventBridge event of another kind instead of reading its envelope as a finding", () => {
    const cloudTrail = {
      ...eventBridge(consoleExport(PUBLISHED)),
      "detail-type": "AWS API Call via CloudTrail",
      source: "aws.sts",
      detail: { eventName: "GetCallerIdentity", eventSource: "sts.amazonaws.com" },
    };
    expect(() => findingsOf(cloudTrail)).toThrow(/AWS API Call via CloudTrail/);
  });
});
