/**
 * The feedback loop's rounds: rows of `GET /api/v1/projects/{id}/rounds/` and the detail of
 * `GET /api/v1/rounds/{id}/`, where a round stands in its steps (snapshot → reward → policy →
 * evaluate → human A/B → decision → generate → AI pre-ranking → done), the evaluation numbers a
 * round reports, and the series the chart across rounds draws. Pure; components/loop/LoopPage.tsx
 * renders them.
 */

import { type Schemas, wire } from "../apiTypes";
import { type Point, linePath, linearScale } from "./chart";
import { type RewardDiagnostics, parseRewardDiagnostics } from "./rewardDiagnostics";
import {
  type HumanEvalProgress,
  type HumanWinRate,
  type Judge,
  type LengthControlled,
  type RoundVerdict,
  type WinRate,
  parseHumanEvalProgress,
  parseHumanWinRate,
  parseJudge,
  parseLengthControlled,
  parseVerdict,
  parseWinRate,
} from "./loopVerdict";
import { asObj, int, num, str } from "./resource";

export const ROUND_POLL_MS = 2000;

/** The steps in the order a round takes them (loop/models.py RoundStep). */
export const ROUND_STEPS = ["snapshot", "reward", "policy", "evaluate", "human_eval", "decide", "generate", "ai_feedback", "done"] as const;
export type RoundStep = (typeof ROUND_STEPS)[number];

export const STEP_LABELS: Record<RoundStep, string> = {
  snapshot: "Snapshot",
  reward: "Reward model",
  policy: "Policy",
  evaluate: "Evaluate",
  human_eval: "Human A/B",
  decide: "Decision",
  generate: "Generate",
  ai_feedback: "AI pre-ranking",
  done: "Done",
};

export function stepLabel(step: string): string {
  return (STEP_LABELS as Record<string, string>)[step] ?? step;
}

export interface PolicySummary {
  modelVersion: number | null;
  samples: number;
  meanReward: number | null;
  /** Tiny-world oracle rates; null when the loop has no oracle. */
  traitRate: number | null;
  wellFormedRate: number | null;
  relevanceRate: number | null;
}

export interface RoundEvaluation {
  reward: { pairs: number; accuracy: number | null; lengthBaseline: number | null } | null;
  policy: PolicySummary | null;
  basePolicy: PolicySummary | null;
  /** Judged by the round's own reward model, which the policy was optimised against. */
  winRate: WinRate | null;
  /** The judge reward model (trained on the held-out split) and its accuracy on the train pairs. */
  judge: Judge | null;
  /** The same sample pairs judged by the judge. */
  independentWinRate: WinRate | null;
  lengthControlledWinRate: LengthControlled | null;
  /** The annotators' blind A/B of the new policy against the previous one; null: none asked. */
  humanWinRate: HumanWinRate | null;
  /** Held-out prompts evaluated on. */
  prompts: number | null;
}

export interface RoundSelection {
  method: string;
  pool: number;
  chosen: number;
  meanMarginChosen: number | null;
  meanMarginPool: number | null;
}

export interface LoopRound extends RoundVerdict {
  id: number;
  project: number;
  number: number;
  status: string;
  step: string;
  error: string;
  policyKind: string;
  basePolicy: number | null;
  snapshot: number | null;
  rewardRun: number | null;
  rewardRunStatus: string | null;
  policyRun: number | null;
  policyRunStatus: string | null;
  rewardModel: number | null;
  policyModel: number | null;
  judgeRun: number | null;
  judgeModel: number | null;
  generationJob: number | null;
  generationJobStatus: string | null;
  /** The generation job of the round's blind A/B sets; null without one. */
  humanEvalJob: number | null;
  /** How far the annotators are with those sets; null without them. */
  humanEval: HumanEvalProgress | null;
  selection: RoundSelection | null;
  evaluation: RoundEvaluation;
  /** Wall seconds per step (a retried step adds up). */
  stepSeconds: Record<string, number>;
  createdAt: string | null;
  finishedAt: string | null;
}

export interface AiAgreement {
  sets: number;
  rankings: number;
  meanTau: number | null;
  topChoiceAgreement: number | null;
}

export interface RoundDetail extends LoopRound {
  aiAgreement: AiAgreement | null;
  /** The round's reward run's diagnostics; null until it succeeds. */
  rewardDiagnostics: RewardDiagnostics | null;
  /** Rankings in the round's snapshot (train + test). */
  lineageRankings: number | null;
}

const id = (v: unknown): number | null => (Number.isInteger(v) ? (v as number) : null);
const optStr = (v: unknown): string | null => (typeof v === "string" ? v : null);

function parsePolicy(value: unknown): PolicySummary | null {
  const p = asObj(value);
  if (!p) return null;
  return {
    modelVersion: id(p.model_version),
    samples: int(p.samples),
    meanReward: num(p.mean_reward),
    traitRate: num(p.trait_rate),
    wellFormedRate: num(p.well_formed_rate),
    relevanceRate: num(p.relevance_rate),
  };
}

export function parseEvaluation(value: unknown): RoundEvaluation {
  const e = asObj(value) ?? {};
  const reward = asObj(e.reward);
  return {
    reward: reward ? { pairs: int(reward.pairs), accuracy: num(reward.accuracy), lengthBaseline: num(reward.length_baseline) } : null,
    policy: parsePolicy(e.policy),
    basePolicy: parsePolicy(e.base_policy),
    winRate: parseWinRate(e.win_rate),
    judge: parseJudge(e.judge),
    independentWinRate: parseWinRate(e.independent_win_rate),
    lengthControlledWinRate: parseLengthControlled(e.length_controlled_win_rate),
    humanWinRate: parseHumanWinRate(e.human_win_rate),
    prompts: id(e.prompts),
  };
}

function parseSelection(value: unknown): RoundSelection | null {
  const s = asObj(value);
  if (!s || typeof s.method !== "string") return null;
  return {
    method: s.method,
    pool: int(s.pool),
    chosen: int(s.chosen),
    meanMarginChosen: num(s.mean_margin_chosen),
    meanMarginPool: num(s.mean_margin_pool),
  };
}

function parseSeconds(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(asObj(value) ?? {})) {
    const n = num(v);
    if (n !== null) out[k] = n;
  }
  return out;
}

export function parseRound(row: unknown): LoopRound | null {
  const r = wire<Schemas["RoundOutput"]>(row);
  if (!r || !Number.isInteger(r.id) || !Number.isInteger(r.number) || typeof r.status !== "string") return null;
  return {
    id: r.id as number,
    project: int(r.project),
    number: r.number as number,
    status: r.status,
    step: str(r.step),
    error: str(r.error),
    policyKind: str(r.policy_kind),
    basePolicy: id(r.base_policy),
    snapshot: id(r.snapshot),
    rewardRun: id(r.reward_run),
    rewardRunStatus: optStr(r.reward_run_status),
    policyRun: id(r.policy_run),
    policyRunStatus: optStr(r.policy_run_status),
    rewardModel: id(r.reward_model),
    policyModel: id(r.policy_model),
    judgeRun: id(r.judge_run),
    judgeModel: id(r.judge_model),
    generationJob: id(r.generation_job),
    generationJobStatus: optStr(r.generation_job_status),
    humanEvalJob: id(r.human_eval_job),
    humanEval: parseHumanEvalProgress(r.human_eval),
    selection: parseSelection(r.selection),
    evaluation: parseEvaluation(r.evaluation),
    stepSeconds: parseSeconds(r.step_seconds),
    createdAt: optStr(r.created_at),
    finishedAt: optStr(r.finished_at),
    ...parseVerdict(r as Record<string, unknown>),
  };
}

export function parseRounds(body: unknown): LoopRound[] | null {
  if (!Array.isArray(body)) return null;
  return body.map(parseRound).filter((r): r is LoopRound => r !== null);
}

/** A snapshot's ranking count: a number, or `{"train": n, "test": m}` summed. */
function rankingCount(value: unknown): number | null {
  const n = num(value);
  if (n !== null) return n;
  const split = asObj(value);
  if (!split) return null;
  const parts = Object.values(split).map(num);
  return parts.every((p) => p !== null) && parts.length > 0 ? (parts as number[]).reduce((a, b) => a + b, 0) : null;
}

export function parseRoundDetail(body: unknown): RoundDetail | null {
  const round = parseRound(body);
  if (!round) return null;
  const b = wire<Schemas["RoundDetailOutput"]>(body) ?? {};
  const ai = asObj(b.ai_agreement);
  return {
    ...round,
    aiAgreement: ai
      ? { sets: int(ai.sets), rankings: int(ai.rankings), meanTau: num(ai.mean_tau), topChoiceAgreement: num(ai.top_choice_agreement) }
      : null,
    lineageRankings: rankingCount(asObj(b.lineage)?.rankings),
    rewardDiagnostics: parseRewardDiagnostics(b.reward_diagnostics),
  };
}

/** The page polls while a round may still change. */
export function anyRoundRunning(rounds: LoopRound[]): boolean {
  return rounds.some((r) => r.status === "running");
}

// ---------------------------------------------------------------------------------------------
// Step progress

export type StepState = "done" | "current" | "waiting" | "failed" | "pending";

export interface StepMark {
  step: RoundStep;
  label: string;
  state: StepState;
  /** Wall seconds spent in the step so far; null when it has not run. */
  seconds: number | null;
}

/**
 * The steps of a round with where it stands in each. The AI pre-ranking step shows only where
 * the round took it (its timing or its current step says so) or, for a round that has not
 * passed generation yet, where the loop has AI feedback on now; the human A/B step likewise,
 * for a round not past its evaluation, where the loop asks for one now (`humanEval`). A round at
 * the human A/B waits for people: the annotators ranking its A/B sets.
 */
export function roundStepMarks(
  round: Pick<LoopRound, "status" | "step" | "stepSeconds"> & { humanEvalJob?: number | null },
  aiFeedback: boolean,
  humanEval = false,
): StepMark[] {
  const at = ROUND_STEPS.indexOf(round.step as RoundStep);
  const pastGenerate = at > ROUND_STEPS.indexOf("generate");
  const withAi = round.step === "ai_feedback" || "ai_feedback" in round.stepSeconds || (!pastGenerate && aiFeedback);
  const pastEvaluate = at > ROUND_STEPS.indexOf("evaluate");
  const withHuman =
    round.step === "human_eval" ||
    "human_eval" in round.stepSeconds ||
    (round.humanEvalJob ?? null) !== null ||
    (!pastEvaluate && humanEval);
  // The decision step is a round's only where it waited for one (an unconfirmed round).
  const withDecision = round.step === "decide" || "decide" in round.stepSeconds;
  const steps = ROUND_STEPS.filter(
    (s) => (s !== "ai_feedback" || withAi) && (s !== "decide" || withDecision) && (s !== "human_eval" || withHuman),
  );
  return steps.map((step) => {
    const index = ROUND_STEPS.indexOf(step);
    let state: StepState;
    if (at < 0 || index > at) state = "pending";
    else if (index < at) state = "done";
    else if (step === "done") state = "done";
    else if (round.status === "awaiting_decision") state = "waiting";
    else if (step === "human_eval" && round.status === "running") state = "waiting";
    else state = round.status === "failed" ? "failed" : round.status === "running" ? "current" : "done";
    const seconds = round.stepSeconds[step];
    return { step, label: STEP_LABELS[step], state, seconds: seconds === undefined ? null : seconds };
  });
}

/** "Step 3 of 6: Policy (running)" — the indicator's text for screen readers and the table. */
export function stepProgressText(marks: StepMark[]): string {
  const work = marks.filter((m) => m.step !== "done");
  const doneAll = marks.every((m) => m.state === "done");
  if (doneAll) return `All ${work.length} steps done`;
  const index = work.findIndex((m) => m.state === "current" || m.state === "waiting" || m.state === "failed");
  if (index < 0) return `Not started`;
  const mark = work[index] as StepMark;
  const state = { failed: "failed", waiting: "waiting for a person", current: "running" }[mark.state as "failed" | "waiting" | "current"];
  return `Step ${index + 1} of ${work.length}: ${mark.label} (${state})`;
}

/** "12 s", "3 min 5 s", "1 h 2 min". */
export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

/** The round's wall time: the sum of its steps. */
export function totalSeconds(round: Pick<LoopRound, "stepSeconds">): number | null {
  const values = Object.values(round.stepSeconds);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** The step timings in the order of the steps (unknown keys last, as they came). */
export function orderedTimings(stepSeconds: Record<string, number>): [string, number][] {
  const at = (step: string) => {
    const i = ROUND_STEPS.indexOf(step as RoundStep);
    return i < 0 ? ROUND_STEPS.length : i;
  };
  return Object.entries(stepSeconds).sort((a, b) => at(a[0]) - at(b[0]));
}

/** "0.61 → 0.93" for a base → new pair (a dash for what is missing). */
export function change(base: number | null | undefined, next: number | null | undefined, digits = 2): string {
  const f = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(digits));
  return `${f(base)} → ${f(next)}`;
}

// ---------------------------------------------------------------------------------------------
// The chart across rounds

export interface RoundSeries {
  key: "trait_rate" | "rm_accuracy" | "win_rate";
  label: string;
  /** x: the round number (0: the first round's base policy); y in [0, 1]. */
  points: Point[];
}

/**
 * Per round: the new policy's trait rate (with the first round's base policy at x = 0, where the
 * loop started), the reward model's held-out accuracy, and the new policy's win-rate against
 * its base. Rounds without a number for a series leave a gap in it.
 */
export function roundSeries(rounds: LoopRound[]): RoundSeries[] {
  const sorted = [...rounds].sort((a, b) => a.number - b.number);
  const trait: Point[] = [];
  const start = sorted[0]?.evaluation.basePolicy?.traitRate;
  if (start !== null && start !== undefined && sorted[0]?.number === 1) trait.push({ x: 0, y: start });
  const accuracy: Point[] = [];
  const win: Point[] = [];
  for (const r of sorted) {
    const e = r.evaluation;
    if (e.policy?.traitRate != null) trait.push({ x: r.number, y: e.policy.traitRate });
    if (e.reward?.accuracy != null) accuracy.push({ x: r.number, y: e.reward.accuracy });
    if (e.winRate?.winRate != null) win.push({ x: r.number, y: e.winRate.winRate });
  }
  return [
    { key: "trait_rate", label: "Trait rate of the policy", points: trait },
    { key: "rm_accuracy", label: "Reward-model accuracy", points: accuracy },
    { key: "win_rate", label: "Win-rate vs previous policy", points: win },
  ];
}

export interface ChartFrame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface RoundChartLayout {
  xTicks: { value: number; x: number; label: string }[];
  yTicks: { value: number; y: number }[];
  series: { key: RoundSeries["key"]; label: string; path: string; points: { x: number; y: number; round: number; value: number }[] }[];
  /** The plot area's edges. */
  plot: { x0: number; x1: number; y0: number; y1: number };
}

/** Where everything of the rounds chart goes: x over the round numbers (0 labelled "base"), y a
 * fixed [0, 1] (every series is a rate), one path per series with its points. */
export function roundChartLayout(series: RoundSeries[], frame: ChartFrame): RoundChartLayout {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const lo = xs.length ? Math.min(...xs) : 0;
  const hi = xs.length ? Math.max(...xs) : 1;
  const plot = { x0: frame.left, x1: frame.width - frame.right, y0: frame.height - frame.bottom, y1: frame.top };
  // Half a slot of padding on each side, so the first and last points do not sit on the axes.
  const sx = linearScale([lo - 0.5, hi + 0.5], [plot.x0, plot.x1]);
  const sy = linearScale([0, 1], [plot.y0, plot.y1]);
  const every = Math.max(1, Math.ceil((hi - lo + 1) / 12));
  const xTicks = [];
  for (let v = lo; v <= hi; v += 1) {
    if ((v - lo) % every === 0) xTicks.push({ value: v, x: sx(v), label: v === 0 ? "base" : String(v) });
  }
  return {
    xTicks,
    yTicks: [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, y: sy(v) })),
    series: series.map((s) => ({
      key: s.key,
      label: s.label,
      path: s.points.length > 1 ? linePath(s.points, sx, sy) : "",
      points: [...s.points].sort((a, b) => a.x - b.x).map((p) => ({ x: sx(p.x), y: sy(p.y), round: p.x, value: p.y })),
    })),
    plot,
  };
}

/** The chart's text alternative: each series' values by round. */
export function roundChartSummary(series: RoundSeries[]): string {
  const parts = series
    .filter((s) => s.points.length > 0)
    .map((s) => `${s.label}: ${s.points.map((p) => `${p.x === 0 ? "base" : `round ${p.x}`} ${Math.round(p.y * 100)}%`).join(", ")}`);
  return parts.length ? `${parts.join("; ")}.` : "No evaluated rounds yet.";
}
