import { describe, expect, it } from "vitest";
import { type LeaderboardEntry, intervalText, leaderboardLayout, leaderboardSummary, parseLeaderboard, rankEntries, ratingText } from "./leaderboard";

const entry = (id: number, name: string, rating: number | null, lo: number | null, hi: number | null): LeaderboardEntry => ({
  modelVersion: id,
  name,
  rating,
  ciLow: lo,
  ciHigh: hi,
  wins: 0,
  losses: 0,
  ties: 0,
  comparisons: 0,
});

const FRAME = { width: 400, left: 100, right: 50, top: 10, bottom: 20, rowHeight: 30 };

describe("parseLeaderboard", () => {
  it("reads the API's body, unrated versions included", () => {
    const board = parseLeaderboard({
      source: "human",
      comparisons: 32,
      entries: [
        { model_version: 4, name: "tw-sft", rating: 1060.2, ci_low: 1010, ci_high: 1120, wins: 32, losses: 0, ties: 0, comparisons: 32 },
        { model_version: 3, name: "tw-base", rating: null, ci_low: null, ci_high: null, wins: 0, losses: 0, ties: 0, comparisons: 0 },
        { name: "no id" },
      ],
    });
    expect(board?.source).toBe("human");
    expect(board?.comparisons).toBe(32);
    expect(board?.entries.map((e) => [e.modelVersion, e.rating])).toEqual([
      [4, 1060.2],
      [3, null],
    ]);
    expect(parseLeaderboard({ source: "rm" })).toBeNull();
  });
});

describe("rankEntries", () => {
  it("ranks by rating, equal ratings sharing a rank, the unrated last", () => {
    const ranked = rankEntries([
      entry(1, "b", 990, 950, 1030),
      entry(2, "zz-unrated", null, null, null),
      entry(3, "a", 1020, 990, 1050),
      entry(4, "c", 990, 940, 1040),
      entry(5, "aa-unrated", null, null, null),
    ]);
    expect(ranked.map((e) => [e.name, e.rank])).toEqual([
      ["a", 1],
      ["b", 2],
      ["c", 2],
      ["aa-unrated", null],
      ["zz-unrated", null],
    ]);
  });

  it("writes ratings and intervals as whole points", () => {
    expect(ratingText(entry(1, "a", 1012.6, 968.2, 1055.5))).toBe("1013");
    expect(intervalText(entry(1, "a", 1012.6, 968.2, 1055.5))).toBe("968 – 1056");
    expect(ratingText(entry(1, "a", null, null, null))).toBe("–");
    expect(intervalText(entry(1, "a", 1000, null, null))).toBe("–");
  });
});

describe("leaderboardLayout", () => {
  const three = [entry(1, "sft", 940, 900, 975), entry(2, "dpo-r1", 1010, 980, 1045), entry(3, "dpo-r2", 1050, 1015, 1090)];

  it("puts the best version on top, one row each", () => {
    const layout = leaderboardLayout(three, FRAME);
    expect(layout.rows.map((r) => r.entry.name)).toEqual(["dpo-r2", "dpo-r1", "sft"]);
    expect(layout.rows.map((r) => r.y)).toEqual([25, 55, 85]);
    expect(layout.height).toBe(10 + 3 * 30 + 20);
    expect(layout.plot).toEqual({ x0: 100, x1: 350, y0: 10, y1: 100 });
  });

  it("spans every interval and the base rating, out to round ticks", () => {
    const layout = leaderboardLayout(three, FRAME);
    expect(layout.domain).toEqual([900, 1100]);
    expect(layout.ticks.map((t) => t.value)).toEqual([900, 950, 1000, 1050, 1100]);
    expect(layout.ticks[0]?.x).toBe(100);
    expect(layout.ticks[4]?.x).toBe(350);
    expect(layout.baseX).toBe(225);
    const top = layout.rows[0];
    expect(top?.x).toBeCloseTo(100 + (150 / 200) * 250);
    expect(top?.x1).toBeCloseTo(100 + (115 / 200) * 250);
    expect(top?.x2).toBeCloseTo(350 - (10 / 200) * 250);
    // Every dot lies inside its own bar, and every bar inside the plot.
    for (const r of layout.rows) {
      expect(r.x1 as number).toBeLessThanOrEqual(r.x as number);
      expect(r.x as number).toBeLessThanOrEqual(r.x2 as number);
      expect(r.x1 as number).toBeGreaterThanOrEqual(layout.plot.x0);
      expect(r.x2 as number).toBeLessThanOrEqual(layout.plot.x1);
    }
  });

  it("widens a board of near-equal ratings, and keeps unrated rows without a dot", () => {
    const layout = leaderboardLayout([entry(1, "a", 1000, 1000, 1000), entry(2, "b", null, null, null)], FRAME);
    const [lo, hi] = layout.domain;
    expect(lo).toBeLessThan(1000);
    expect(hi).toBeGreaterThan(1000);
    expect(layout.rows[1]).toMatchObject({ x: null, x1: null, x2: null });
    expect(leaderboardLayout([], FRAME).rows).toEqual([]);
  });

  it("describes the chart in words", () => {
    expect(leaderboardSummary(three, "rm")).toBe(
      "Bradley–Terry ratings from reward-model judgements: 1. dpo-r2 1050 (95% interval 1015 – 1090); 2. dpo-r1 1010 (95% interval 980 – 1045); 3. sft 940 (95% interval 900 – 975).",
    );
    expect(leaderboardSummary([], "human")).toBe("No ratings from human rankings yet.");
  });
});
