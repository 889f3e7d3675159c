import { describe, expect, it } from "vitest";
import { parseRound } from "./loop";
import {
  aboveHalf,
  awaitsDecision,
  awaitsHumanEval,
  confirmedBy,
  humanEvalProgressText,
  parseHumanEvalProgress,
  parseHumanWinRate,
  rateWithInterval,
  verdictHeadline,
} from "./loopVerdict";

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
    independent_win_rate: { n: 48, wins: 28, losses: 16, ties: 4, hard_win_rate: 0.625, calibration_slope: 0.1, win_rate: 0.5, ci_low: 0.38, ci_high: 0.62 },
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
    expect(r?.evaluation.independentWinRate).toMatchObject({ wins: 28, winRate: 0.5, ciLow: 0.38, hardWinRate: 0.625 });
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

// The same round with a blind human A/B: the annotators preferred the new policy.
const HUMAN = { win_rate: 0.7, ci_low: 0.58, ci_high: 0.81, comparisons: 40, rankings: 10, prompts: 8, sets: 8 };

describe("a round's blind human A/B", () => {
  it("reads the annotators' win-rate with its interval and what it rests on", () => {
    const r = parseRound({ ...BODY, human_eval_job: 44, human_eval: { sets: 8, complete: 8, rankings: 10 }, evaluation: { ...BODY.evaluation, human_win_rate: HUMAN } });
    expect(r?.humanEvalJob).toBe(44);
    expect(r?.humanEval).toEqual({ sets: 8, complete: 8, rankings: 10 });
    expect(r?.evaluation.humanWinRate).toEqual({
      winRate: 0.7,
      ciLow: 0.58,
      ciHigh: 0.81,
      comparisons: 40,
      rankings: 10,
      prompts: 8,
      sets: 8,
      reason: "",
      partial: false,
    });
  });

  it("reads a reason where nothing compared the policies, and marks an early decision partial", () => {
    const none = parseHumanWinRate({ reason: "no ranking compared the two policies (3 A/B sets, 0 rankings that ranked them)", sets: 3, partial: true });
    expect(none).toMatchObject({ winRate: null, ciLow: null, sets: 3, partial: true });
    expect(none?.reason).toContain("no ranking compared");
    expect(parseHumanWinRate({ reason: "the A/B generation job 7 failed" })).toMatchObject({ sets: null, partial: false });
    expect(parseHumanWinRate({})?.reason).toBe("no ranking compared the two policies");
    expect(parseHumanWinRate({ ...HUMAN, partial: true })).toMatchObject({ winRate: 0.7, partial: true, reason: "" });
    expect(parseHumanWinRate(null)).toBeNull();
    expect(parseHumanWinRate("x")).toBeNull();
  });

  it("reads the annotators' progress and says it", () => {
    const p = parseHumanEvalProgress({ sets: 5, complete: 2, rankings: 7 });
    expect(humanEvalProgressText(p)).toBe("2 of 5 A/B sets ranked (7 rankings)");
    expect(humanEvalProgressText({ sets: 1, complete: 0, rankings: 1 })).toBe("0 of 1 A/B sets ranked (1 ranking)");
    expect(humanEvalProgressText(parseHumanEvalProgress(null))).toBe("no A/B sets yet");
  });

  it("knows a round waits for the annotators only while it runs at the human A/B", () => {
    expect(awaitsHumanEval({ status: "running", step: "human_eval" })).toBe(true);
    expect(awaitsHumanEval({ status: "running", step: "generate" })).toBe(false);
    expect(awaitsHumanEval({ status: "failed", step: "human_eval" })).toBe(false);
  });

  it("says whose evidence confirmed a confirmed round", () => {
    const r = parseRound({ ...BODY, status: "running", step: "generate", verdict: "confirmed", verdict_reasons: [] });
    if (!r) throw new Error("unparsed");
    // The judge's interval (38 %–62 %) is not above one half: the annotators confirmed it.
    const human = parseHumanWinRate(HUMAN);
    const byPeople = { ...r, evaluation: { ...r.evaluation, humanWinRate: human } };
    expect(confirmedBy(byPeople.evaluation)).toBe("annotators");
    const line = verdictHeadline(byPeople);
    expect(line).toContain("annotators preferred the new policy in the blind A/B");
    expect(line).not.toContain("judge reward model agrees");
    const judgeAbove = { ...r.evaluation.independentWinRate!, ciLow: 0.55 };
    const byBoth = { ...byPeople, evaluation: { ...byPeople.evaluation, independentWinRate: judgeAbove } };
    expect(verdictHeadline(byBoth)).toBe("Round 3 is confirmed: the judge reward model and the annotators' blind A/B agree the policy improved.");
    const byJudge = { ...byBoth, evaluation: { ...byBoth.evaluation, humanWinRate: null } };
    expect(verdictHeadline(byJudge)).toBe("Round 3 is confirmed: the judge reward model agrees the policy improved.");
    // An interval across one half confirms nothing: the judge did.
    const across = parseHumanWinRate({ ...HUMAN, ci_low: 0.45 });
    expect(confirmedBy({ independentWinRate: judgeAbove, humanWinRate: across })).toBe("judge");
  });
});
