import { parseTime } from "@idc-audit/core/shared";
import { afterEach, describe, expect, it } from "vitest";

describe("parseTime", () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it("reads a time without a zone as UTC, whatever the machine's time zone", () => {
    process.env.TZ = "America/New_York";
    expect(parseTime("2026-07-01T12:00:00", "--since")).toBe("2026-07-01T12:00:00Z");
    expect(parseTime("2026-07-01T12:00", "--since")).toBe("2026-07-01T12:00:00Z");
    expect(parseTime("2026-07-01 12:00:00", "--since")).toBe("2026-07-01T12:00:00Z");
    expect(parseTime("2026-07-01t12:00", "--since")).toBe("2026-07-01T12:00:00Z");
    expect(parseTime("2026-07-01", "--since")).toBe("2026-07-01T00:00:00Z");
  });

  it("keeps an explicit zone and milliseconds", () => {
    expect(parseTime("2026-07-01T12:00:00+02:00", "--since")).toBe("2026-07-01T10:00:00Z");
    expect(parseTime("2026-07-01T12:00:00.250Z", "--since")).toBe("2026-07-01T12:00:00.250Z");
  });

  it("refuses what is not ISO-8601, and dates and times that do not exist, instead of guessing", () => {
    // Date.parse reads these in the machine's zone, or rolls them over into the next day or month.
    process.env.TZ = "America/New_York";
    for (const value of [
      "2026-07-01 0:04",
      "2026-07-01 (note)",
      "2026-06-31T10:00:00Z",
      "2026-02-30",
      "2026-13-01",
      "2026-07-01T24:00:00Z",
      "2026-07-01T12:60:00Z",
      "2026-07-01T23:59:60Z",
      "2026-07-01T12:00:00+25:00",
      "0099-07-01",
    ])
      expect(() => parseTime(value, "--since"), value).toThrow(/not an ISO-8601 time/);
    expect(parseTime("2026-07-01T12:00:00+0200", "--since")).toBe("2026-07-01T10:00:00Z");
    expect(parseTime("2026-07-01T06:30:00-05:30", "--since")).toBe("2026-07-01T12:00:00Z");
    expect(parseTime("2024-02-29", "--since")).toBe("2024-02-29T00:00:00Z");
  });

  it("names the option and the value it cannot read", () => {
    expect(() => parseTime("yesterday", "--until")).toThrow(/--until yesterday is not an ISO-8601 time/);
    expect(() => parseTime("07/01/2026", "--until")).toThrow(/not an ISO-8601 time/);
  });
});
