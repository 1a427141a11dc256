import { appendTo } from "@idc-audit/core/shared";
import { describe, expect, it } from "vitest";

describe("appendTo", () => {
  it("keeps each key's values in the order added, in one list per key", () => {
    const byAddress = new Map<string, number[]>();
    appendTo(byAddress, "203.0.113.9", 1);
    const first = byAddress.get("203.0.113.9");
    appendTo(byAddress, "198.51.100.1", 2);
    appendTo(byAddress, "203.0.113.9", 3);
    expect([...byAddress]).toEqual([
      ["203.0.113.9", [1, 3]],
      ["198.51.100.1", [2]],
    ]);
    // Added to in place, not copied: the list held before is the list after.
    expect(byAddress.get("203.0.113.9")).toBe(first);
  });
});
