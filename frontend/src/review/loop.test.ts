import { describe, expect, it } from "vitest";
import {
  type LoopRound,
  anyRoundRunning,
  change,
  duration,
  orderedTimings,
  parseRound,
  parseRoundDetail,
  parseRounds,
  roundChartLayout,
  roundChartSummary,
  roundSeries,
  roundStepMarks,
  stepProgressText,
  totalSeconds,
} from "./loop";

// A round as GET /api/v1/rounds/{id}/ sends it (the list leaves out ai_agreement and lineage).
const BODY = {
  id: 5,
  project: 2,
  number: 1,
  status: "succeeded",
  step: "done",
  error: "",
  policy_kind: "dpo",
  base_policy: 3,
  snapshot: 11,
  reward_run: 21,
  reward_run_status: "succeeded",
  policy_run: 22,
  policy_run_status: "succeeded",
  reward_model: 31,
  policy_model: 32,
  generation_job: 41,
  generation_job_status: "succeeded",
  selection: { method: "uncertainty", pool: 40, chosen: 10, mean_margin_chosen: 0.1, mean_margin_pool: 0.4 },
  evaluation: {
    reward: { pairs: 30, accuracy: 0.9, length_baseline: 0.55 },
    policy: { model_version: 32, samples: 24, mean_reward: 1.2, trait_rate: 0.95, well_formed_rate: 1, relevance_rate: 0.9 },
    base_policy: { model_version: 3, samples: 24, mean_reward: -0.4, trait_rate: 0.1, well_formed_rate: 1, relevance_rate: 0.9 },
    win_rate: { n: 24, wins: 20, losses: 3, ties: 1, win_rate: 0.854 },
    prompts: 6,
  },
  step_seconds: { reward: 40.2, snapshot: 0.4, policy: 61, evaluate: 9.5, generate: 12 },
  created_at: "2026-01-01T10:00:00Z",
  finished_at: "2026-01-01T10:02:00Z",
  ai_agreement: { sets: 8, rankings: 16, mean_tau: 0.42, top_choice_agreement: 0.625 },
  lineage: { rankings: { train: 40, test: 10 }, snapshot: 11 },
};

const round = (patch: Partial<LoopRound> = {}): LoopRound => ({ ...(parseRound(BODY) as LoopRound), ...patch });

describe("parsing rounds", () => {
  it("reads a round with its evaluation, selection and timings", () => {
    const r = parseRound(BODY);
    expect(r).toMatchObject({ id: 5, number: 1, status: "succeeded", step: "done", policyKind: "dpo", snapshot: 11 });
    expect(r?.evaluation.reward).toEqual({ pairs: 30, accuracy: 0.9, lengthBaseline: 0.55 });
    expect(r?.evaluation.policy?.traitRate).toBe(0.95);
    expect(r?.evaluation.basePolicy?.meanReward).toBe(-0.4);
    expect(r?.evaluation.winRate).toEqual({ n: 24, wins: 20, losses: 3, ties: 1, winRate: 0.854, ciLow: null, ciHigh: null, hardWinRate: null });
    expect(r?.evaluation.prompts).toBe(6);
    expect(r?.selection).toEqual({ method: "uncertainty", pool: 40, chosen: 10, meanMarginChosen: 0.1, meanMarginPool: 0.4 });
  });

  it("reads a fresh round with nothing made yet, and an evaluation without an oracle", () => {
    const r = parseRound({ id: 1, number: 1, status: "running", step: "snapshot", evaluation: {}, selection: {}, step_seconds: {} });
    expect(r).toMatchObject({ snapshot: null, rewardRun: null, rewardRunStatus: null, selection: null });
    expect(r?.evaluation).toEqual({
      reward: null,
      policy: null,
      basePolicy: null,
      winRate: null,
      judge: null,
      independentWinRate: null,
      lengthControlledWinRate: null,
      humanWinRate: null,
      prompts: null,
    });
    expect(r).toMatchObject({ verdict: "", reasons: [], decision: "", judgeRun: null, humanEvalJob: null, humanEval: null });
    const noOracle = parseRound({ ...BODY, evaluation: { policy: { model_version: 1, samples: 4, mean_reward: 0.2 } } });
    expect(noOracle?.evaluation.policy?.traitRate).toBeNull();
  });

  it("reads the detail's AI agreement and the snapshot's ranking count", () => {
    const d = parseRoundDetail(BODY);
    expect(d?.aiAgreement).toEqual({ sets: 8, rankings: 16, meanTau: 0.42, topChoiceAgreement: 0.625 });
    expect(d?.lineageRankings).toBe(50);
    expect(parseRoundDetail({ ...BODY, ai_agreement: null, lineage: { rankings: 7 } })).toMatchObject({ aiAgreement: null, lineageRankings: 7 });
  });

  it("skips unreadable rows and refuses a body that is not a list", () => {
    expect(parseRounds([BODY, { id: "x" }, null])?.map((r) => r.id)).toEqual([5]);
    expect(parseRounds({ results: [] })).toBeNull();
  });

  it("polls while a round runs", () => {
    expect(anyRoundRunning([round(), round({ status: "running" })])).toBe(true);
    expect(anyRoundRunning([round(), round({ status: "failed" })])).toBe(false);
  });
});

describe("step progress", () => {
  const states = (marks: ReturnType<typeof roundStepMarks>) => marks.map((m) => `${m.step}:${m.state}`);

  it("marks the steps before the current one done, the current running, the rest to come", () => {
    const marks = roundStepMarks({ status: "running", step: "policy", stepSeconds: { snapshot: 1, reward: 30 } }, false);
    expect(states(marks)).toEqual(["snapshot:done", "reward:done", "policy:current", "evaluate:pending", "generate:pending", "done:pending"]);
    expect(marks[1]?.seconds).toBe(30);
    expect(marks[2]?.seconds).toBeNull();
    expect(stepProgressText(marks)).toBe("Step 3 of 5: Policy (running)");
  });

  it("shows the failed step", () => {
    const marks = roundStepMarks({ status: "failed", step: "reward", stepSeconds: { snapshot: 1 } }, false);
    expect(states(marks).slice(0, 3)).toEqual(["snapshot:done", "reward:failed", "policy:pending"]);
    expect(stepProgressText(marks)).toBe("Step 2 of 5: Reward model (failed)");
  });

  it("shows AI pre-ranking where the round took it or will take it", () => {
    const done = { status: "succeeded", step: "done" };
    expect(roundStepMarks({ ...done, stepSeconds: { generate: 3 } }, true).map((m) => m.step)).not.toContain("ai_feedback");
    const took = roundStepMarks({ ...done, stepSeconds: { generate: 3, ai_feedback: 2 } }, false);
    expect(states(took)).toContain("ai_feedback:done");
    expect(stepProgressText(took)).toBe("All 6 steps done");
    const ahead = roundStepMarks({ status: "running", step: "evaluate", stepSeconds: {} }, true);
    expect(states(ahead).slice(-3)).toEqual(["generate:pending", "ai_feedback:pending", "done:pending"]);
    const now = roundStepMarks({ status: "running", step: "ai_feedback", stepSeconds: {} }, false);
    expect(stepProgressText(now)).toBe("Step 6 of 6: AI pre-ranking (running)");
  });

  it("shows the decision step only for a round that waited for one, as waiting while it does", () => {
    const ran = roundStepMarks({ status: "running", step: "generate", stepSeconds: { evaluate: 3 } }, false);
    expect(ran.map((m) => m.step)).not.toContain("decide");
    const waiting = roundStepMarks({ status: "awaiting_decision", step: "decide", stepSeconds: { evaluate: 3 } }, false);
    expect(states(waiting)).toEqual(["snapshot:done", "reward:done", "policy:done", "evaluate:done", "decide:waiting", "generate:pending", "done:pending"]);
    expect(stepProgressText(waiting)).toBe("Step 5 of 6: Decision (waiting for a person)");
    const rejected = roundStepMarks({ status: "succeeded", step: "done", stepSeconds: { evaluate: 3, decide: 60 } }, false);
    expect(states(rejected)).toContain("decide:done");
    expect(stepProgressText(rejected)).toBe("All 6 steps done");
  });

  it("shows the human A/B where the round holds one or the loop will ask for one, waiting for the annotators", () => {
    const at = roundStepMarks({ status: "running", step: "human_eval", stepSeconds: { evaluate: 3 }, humanEvalJob: 12 }, false);
    expect(states(at)).toEqual(["snapshot:done", "reward:done", "policy:done", "evaluate:done", "human_eval:waiting", "generate:pending", "done:pending"]);
    expect(stepProgressText(at)).toBe("Step 5 of 6: Human A/B (waiting for a person)");
    const ahead = roundStepMarks({ status: "running", step: "policy", stepSeconds: {} }, false, true);
    expect(states(ahead)).toContain("human_eval:pending");
    // A round past its evaluation without one does not grow the step when the setting is turned on.
    const without = roundStepMarks({ status: "running", step: "generate", stepSeconds: { evaluate: 3 } }, false, true);
    expect(without.map((m) => m.step)).not.toContain("human_eval");
    const held = roundStepMarks({ status: "succeeded", step: "done", stepSeconds: { evaluate: 3, human_eval: 600 }, humanEvalJob: 12 }, false);
    expect(states(held)).toContain("human_eval:done");
    expect(held.find((m) => m.step === "human_eval")?.label).toBe("Human A/B");
  });

  it("orders the timings by step and adds them up", () => {
    expect(orderedTimings({ reward: 2, x: 1, snapshot: 1, ai_feedback: 3 }).map(([s]) => s)).toEqual(["snapshot", "reward", "ai_feedback", "x"]);
    expect(orderedTimings({ decide: 1, human_eval: 2, evaluate: 3 }).map(([s]) => s)).toEqual(["evaluate", "human_eval", "decide"]);
    expect(totalSeconds(round())).toBeCloseTo(123.1);
    expect(totalSeconds(round({ stepSeconds: {} }))).toBeNull();
  });

  it("writes durations and changes briefly", () => {
    expect(duration(0.42)).toBe("0.4 s");
    expect(duration(42.4)).toBe("42 s");
    expect(duration(125)).toBe("2 min 5 s");
    expect(duration(3725)).toBe("1 h 2 min");
    expect(duration(null)).toBe("–");
    expect(change(0.1, 0.953)).toBe("0.10 → 0.95");
    expect(change(null, 1)).toBe("– → 1.00");
  });
});

describe("the chart across rounds", () => {
  const second = () =>
    round({
      id: 6,
      number: 2,
      evaluation: {
        reward: { pairs: 20, accuracy: 0.8, lengthBaseline: 0.5 },
        policy: { modelVersion: 33, samples: 24, meanReward: 1.5, traitRate: 0.98, wellFormedRate: 1, relevanceRate: 1 },
        basePolicy: { modelVersion: 32, samples: 24, meanReward: 1.2, traitRate: 0.95, wellFormedRate: 1, relevanceRate: 1 },
        winRate: null,
        judge: null,
        independentWinRate: null,
        lengthControlledWinRate: null,
        humanWinRate: null,
        prompts: 6,
      },
    });

  it("starts the trait rate at the first round's base policy, and leaves gaps for missing numbers", () => {
    const series = roundSeries([second(), round()]);
    expect(series.map((s) => s.key)).toEqual(["trait_rate", "rm_accuracy", "win_rate"]);
    expect(series[0]?.points).toEqual([
      { x: 0, y: 0.1 },
      { x: 1, y: 0.95 },
      { x: 2, y: 0.98 },
    ]);
    expect(series[1]?.points.map((p) => p.y)).toEqual([0.9, 0.8]);
    expect(series[2]?.points).toEqual([{ x: 1, y: 0.854 }]);
    // Without round 1 (say it failed before evaluating) there is no base point.
    expect(roundSeries([second()])[0]?.points.map((p) => p.x)).toEqual([2]);
  });

  it("lays the rates out on a fixed 0–100 % axis, rounds evenly spaced, round 0 called base", () => {
    const frame = { width: 200, height: 120, left: 20, right: 20, top: 10, bottom: 10 };
    const layout = roundChartLayout(roundSeries([round(), second()]), frame);
    expect(layout.plot).toEqual({ x0: 20, x1: 180, y0: 110, y1: 10 });
    expect(layout.xTicks.map((t) => t.label)).toEqual(["base", "1", "2"]);
    // Three slots of 160/3 px; the points sit in their middles.
    const xs = layout.xTicks.map((t) => Math.round(t.x));
    expect(xs).toEqual([47, 100, 153]);
    expect(layout.yTicks.map((t) => t.y)).toEqual([110, 85, 60, 35, 10]);
    const trait = layout.series[0];
    expect(trait?.points.map((p) => Math.round(p.y))).toEqual([100, 15, 12]);
    expect(trait?.path.startsWith("M46.7 100.0 L100.0 15.0")).toBe(true);
    // One point draws no line, only its marker.
    expect(layout.series[2]?.path).toBe("");
    expect(layout.series[2]?.points).toHaveLength(1);
  });

  it("thins the x labels of a long loop and copes with no points", () => {
    const many = Array.from({ length: 30 }, (_, i) => round({ id: i + 1, number: i + 1 }));
    const layout = roundChartLayout(roundSeries(many), { width: 400, height: 100, left: 0, right: 0, top: 0, bottom: 0 });
    expect(layout.xTicks.length).toBeLessThanOrEqual(12);
    const empty = roundChartLayout(roundSeries([]), { width: 100, height: 100, left: 0, right: 0, top: 0, bottom: 0 });
    expect(empty.series.every((s) => s.points.length === 0)).toBe(true);
  });

  it("says the numbers in words", () => {
    expect(roundChartSummary(roundSeries([round()]))).toBe(
      "Trait rate of the policy: base 10%, round 1 95%; Reward-model accuracy: round 1 90%; Win-rate vs previous policy: round 1 85%.",
    );
    expect(roundChartSummary(roundSeries([]))).toBe("No evaluated rounds yet.");
  });
});
