import { describe, expect, it } from "vitest";
import { parseRound } from "./loop";
import { aboveHalf, awaitsDecision, rateWithInterval, verdictHeadline } from "./loopVerdict";

// An unconfirmed round as GET /api/v1/rounds/{id}/ sends it (issue 17's round: its own reward
// model says 67 %, the judge 50 %).
const BODY = {
  id: 9,
  project: 2,
  number: 3,
  status: "awaiting_decision",
  step: "decide",
  error: "",
  policy_kind: "dpo",
  base_policy: 3,
  judge_run: 23,
  judge_model: 33,
  policy_model: 32,
  verdict: "unconfirmed",
  verdict_reasons: ["The reward model is within noise of its length baseline.", "The judge's win-rate is 50 %."],
  decision: "",
  decided_by: null,
  decided_at: null,
  evaluation: {
    reward: { pairs: 60, accuracy: 0.52, length_baseline: 0.5 },
    win_rate: { n: 48, wins: 30, losses: 14, ties: 4, win_rate: 0.667, ci_low: 0.55, ci_high: 0.77 },
    judge: { model_version: 33, pairs: 240, accuracy: 0.81, length_baseline: 0.52 },
    independent_win_rate: { n: 48, wins: 22, losses: 22, ties: 4, win_rate: 0.5, ci_low: 0.38, ci_high: 0.62 },
    length_controlled_win_rate: { n: 48, win_rate: 0.48, ci_low: 0.35, ci_high: 0.6, length_slope: 0.4 },
  },
  step_seconds: {},
};

describe("a round's verdict", () => {
  it("reads the verdict, the judge and both win-rates with their intervals", () => {
    const r = parseRound(BODY);
    expect(r).toMatchObject({ verdict: "unconfirmed", decision: "", decidedBy: null, judgeRun: 23, judgeModel: 33 });
    expect(r?.reasons).toHaveLength(2);
    expect(r?.evaluation.winRate).toMatchObject({ winRate: 0.667, ciLow: 0.55, ciHigh: 0.77 });
    expect(r?.evaluation.independentWinRate).toMatchObject({ wins: 22, winRate: 0.5, ciLow: 0.38 });
    expect(r?.evaluation.judge).toEqual({ modelVersion: 33, reason: "", pairs: 240, accuracy: 0.81, lengthBaseline: 0.52 });
    expect(r?.evaluation.lengthControlledWinRate).toEqual({ winRate: 0.48, ciLow: 0.35, ciHigh: 0.6, lengthSlope: 0.4 });
  });

  it("reads a round evaluated before the judge existed as having none", () => {
    const r = parseRound({ ...BODY, verdict: "", verdict_reasons: undefined, decision: "promoted", evaluation: { win_rate: { n: 4, win_rate: 1 } } });
    expect(r).toMatchObject({ verdict: "", reasons: [], decision: "promoted" });
    expect(r?.evaluation.independentWinRate).toBeNull();
    expect(r?.evaluation.winRate).toMatchObject({ winRate: 1, ciLow: null, ciHigh: null });
  });

  it("reads a round without a judge with the reason", () => {
    const r = parseRound({ ...BODY, evaluation: { judge: { model_version: null, reason: "the snapshot's test split is empty" } } });
    expect(r?.evaluation.judge).toMatchObject({ modelVersion: null, reason: "the snapshot's test split is empty" });
  });

  it("says what the verdict means for the policy", () => {
    const r = parseRound(BODY);
    if (!r) throw new Error("unparsed");
    expect(awaitsDecision(r)).toBe(true);
    expect(verdictHeadline(r)).toBe("Round 3 is unconfirmed: its policy was not promoted, and the loop waits for a decision.");
    const decided = { ...r, status: "running", decision: "promoted" as const, decidedBy: 4 };
    expect(verdictHeadline(decided)).toBe("Round 3 is unconfirmed; a person promoted its policy.");
    expect(verdictHeadline({ ...decided, decidedBy: null })).toContain("promoted anyway");
    expect(verdictHeadline({ ...r, status: "succeeded", decision: "rejected" })).toContain("rejected its policy");
    expect(verdictHeadline({ ...r, status: "running", verdict: "confirmed" })).toContain("is confirmed");
  });

  it("writes a rate with its interval, and whether the interval lies above one half", () => {
    expect(rateWithInterval(0.62, 0.514, 0.72)).toBe("62% (95 % 51%–72%)");
    expect(rateWithInterval(0.62, null, null)).toBe("62%");
    expect(rateWithInterval(null, 0.4, 0.6)).toBe("–");
    expect(aboveHalf(0.51)).toBe(true);
    expect(aboveHalf(0.5)).toBe(false);
    expect(aboveHalf(null)).toBe(false);
  });
});
