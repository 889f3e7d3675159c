import { describe, expect, it } from "vitest";
import { moreText, nextLimit, shownText } from "./paging";

describe("show more", () => {
  it("says how many rows are shown and raises the limit by a step until all are", () => {
    expect(shownText({ shown: 50, count: 120 }, "runs")).toBe("Showing 50 of 120 runs.");
    expect(shownText({ shown: 120, count: 120 }, "runs")).toBeNull();
    expect(nextLimit(50, { shown: 50, count: 120 }, 50)).toBe(100);
    expect(nextLimit(150, { shown: 120, count: 120 }, 50)).toBeNull();
    expect(moreText(100, { shown: 100, count: 120 }, 50, "runs")).toBe("Show 20 more runs");
    expect(moreText(50, { shown: 50, count: 120 }, 50, "runs")).toBe("Show 50 more runs");
  });
});
