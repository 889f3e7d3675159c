import { describe, expect, it } from "vitest";
import { extent, linePath, linearScale, niceTicks, shortNumber } from "./chart";

describe("chart scaling", () => {
  it("maps a domain onto a range, flipped for SVG's y", () => {
    const y = linearScale([0, 10], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(5)).toBe(50);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });

  it("widens a flat extent so one point still shows", () => {
    expect(extent([2, 2])).toEqual([1.8, 2.2]);
    expect(extent([0])).toEqual([-1, 1]);
    expect(extent([])).toEqual([0, 1]);
    expect(extent([3, -1, 2])).toEqual([-1, 3]);
  });

  it("gives round ticks", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.43, 0.71, 3)).toEqual([0.5, 0.6, 0.7]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it("draws the line in x order", () => {
    const id = (v: number) => v;
    expect(linePath([{ x: 2, y: 1 }, { x: 1, y: 3 }], id, id)).toBe("M1.0 3.0 L2.0 1.0");
    expect(linePath([], id, id)).toBe("");
  });

  it("labels numbers briefly", () => {
    expect(shortNumber(0.123456)).toBe("0.123");
    expect(shortNumber(12345)).toBe("1.23e+4");
    expect(shortNumber(0)).toBe("0");
  });
});
