/**
 * A round's independent evaluation and verdict (issue 17): the judge reward model (trained on the
 * held-out split, so it did not train the policy), its win-rate of the new policy over the
 * previous one with a 95 % interval, the length-controlled win-rate, and whether the round is
 * confirmed — or unconfirmed, with the reasons, waiting for a person to promote or reject its
 * policy. With a blind human evaluation (loop/services/human_eval.py) the annotators' A/B win-rate
 * of the new policy over the previous one is a second independent judge: it can confirm what the
 * judge reward model could not, and stop a round the annotators do not prefer. Parsed from
 * `GET /api/v1/rounds/…` (loop/services/evaluation.py, verdict.py, human_eval.py). Pure.
 */

import { asObj, int, num, percent, str } from "./resource";

export interface WinRate {
  n: number;
  wins: number;
  losses: number;
  ties: number;
  winRate: number | null;
  /** 95 % cluster-bootstrap interval over prompts; null for rounds evaluated before it. */
  ciLow: number | null;
  ciHigh: number | null;
  /** The judge's win-rate: its plain wins (ties ½) beside the calibrated `winRate`; null for
   * the self-judged win-rate and for rounds evaluated before calibration. */
  hardWinRate: number | null;
}

export interface Judge {
  /** null: the round had no judge (`reason` says why). */
  modelVersion: number | null;
  reason: string;
  pairs: number;
  accuracy: number | null;
  lengthBaseline: number | null;
}

export interface LengthControlled {
  winRate: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** Log-odds per standard deviation of length difference. */
  lengthSlope: number | null;
}

/** The annotators' blind A/B win-rate of the new policy over the previous one
 * (`evaluation.human_win_rate`). */
export interface HumanWinRate {
  /** null: no ranking compared the two policies (`reason` says why). */
  winRate: number | null;
  /** 95 % bootstrap interval over prompts. */
  ciLow: number | null;
  ciHigh: number | null;
  comparisons: number;
  rankings: number;
  prompts: number;
  /** A/B sets written; null where the server did not say. */
  sets: number | null;
  reason: string;
  /** An admin decided before every A/B set was ranked: the rankings so far. */
  partial: boolean;
}

/** How far the annotators are with a round's A/B sets (`human_eval`). */
export interface HumanEvalProgress {
  sets: number;
  /** Sets complete (or retired by an admin). */
  complete: number;
  rankings: number;
}

export type Verdict = "confirmed" | "unconfirmed" | "";
export type Decision = "promoted" | "rejected" | "";

export interface RoundVerdict {
  verdict: Verdict;
  reasons: string[];
  decision: Decision;
  decidedBy: number | null;
  decidedAt: string | null;
}

export function parseWinRate(value: unknown): WinRate | null {
  const w = asObj(value);
  if (!w) return null;
  return {
    n: int(w.n),
    wins: int(w.wins),
    losses: int(w.losses),
    ties: int(w.ties),
    winRate: num(w.win_rate),
    ciLow: num(w.ci_low),
    ciHigh: num(w.ci_high),
    hardWinRate: num(w.hard_win_rate),
  };
}

export function parseJudge(value: unknown): Judge | null {
  const j = asObj(value);
  if (!j) return null;
  return {
    modelVersion: Number.isInteger(j.model_version) ? (j.model_version as number) : null,
    reason: str(j.reason),
    pairs: int(j.pairs),
    accuracy: num(j.accuracy),
    lengthBaseline: num(j.length_baseline),
  };
}

export function parseLengthControlled(value: unknown): LengthControlled | null {
  const l = asObj(value);
  if (!l) return null;
  return { winRate: num(l.win_rate), ciLow: num(l.ci_low), ciHigh: num(l.ci_high), lengthSlope: num(l.length_slope) };
}

export function parseHumanWinRate(value: unknown): HumanWinRate | null {
  const h = asObj(value);
  if (!h) return null;
  const winRate = num(h.win_rate);
  return {
    winRate,
    ciLow: num(h.ci_low),
    ciHigh: num(h.ci_high),
    comparisons: int(h.comparisons),
    rankings: int(h.rankings),
    prompts: int(h.prompts),
    sets: Number.isInteger(h.sets) ? (h.sets as number) : null,
    reason: str(h.reason, winRate === null ? "no ranking compared the two policies" : ""),
    partial: h.partial === true,
  };
}

export function parseHumanEvalProgress(value: unknown): HumanEvalProgress | null {
  const p = asObj(value);
  if (!p) return null;
  return { sets: int(p.sets), complete: int(p.complete), rankings: int(p.rankings) };
}

/** "2 of 5 A/B sets ranked (7 rankings)". */
export function humanEvalProgressText(p: HumanEvalProgress | null): string {
  if (!p) return "no A/B sets yet";
  return `${p.complete} of ${p.sets} A/B sets ranked (${p.rankings} ${p.rankings === 1 ? "ranking" : "rankings"})`;
}

export function parseVerdict(row: Record<string, unknown>): RoundVerdict {
  const verdict = row.verdict === "confirmed" || row.verdict === "unconfirmed" ? row.verdict : "";
  const decision = row.decision === "promoted" || row.decision === "rejected" ? row.decision : "";
  return {
    verdict,
    reasons: Array.isArray(row.verdict_reasons) ? row.verdict_reasons.filter((r): r is string => typeof r === "string") : [],
    decision,
    decidedBy: Number.isInteger(row.decided_by) ? (row.decided_by as number) : null,
    decidedAt: typeof row.decided_at === "string" ? row.decided_at : null,
  };
}

/** "62% (95 % 51%–72%)", or just the rate where there is no interval. */
export function rateWithInterval(rate: number | null, low: number | null, high: number | null): string {
  if (rate === null) return "–";
  return low === null || high === null ? percent(rate) : `${percent(rate)} (95 % ${percent(low)}–${percent(high)})`;
}

/** Whether an interval lies above 0.5: the judge confirms the new policy is better. */
export function aboveHalf(low: number | null): boolean {
  return low !== null && low > 0.5;
}

/** A round waiting for a person to promote or reject its policy. */
export function awaitsDecision(round: { status: string }): boolean {
  return round.status === "awaiting_decision";
}

/** A round waiting for the annotators to rank its blind A/B sets; an admin may decide it early. */
export function awaitsHumanEval(round: { status: string; step: string }): boolean {
  return round.status === "running" && round.step === "human_eval";
}

/** The evidence a verdict rests on: the judge's and the annotators' win-rates. */
export interface VerdictEvidence {
  independentWinRate: WinRate | null;
  humanWinRate: HumanWinRate | null;
}

/** Whose evidence confirmed a confirmed round: the judge's (its win-rate interval above 0.5),
 * the annotators' (theirs above 0.5) or both. A round evaluated before intervals existed, or
 * with neither figure, was confirmed by the judge as its verdict then said. */
export function confirmedBy(e: VerdictEvidence | undefined): "judge" | "annotators" | "both" {
  const judge = aboveHalf(e?.independentWinRate?.ciLow ?? null);
  const people = aboveHalf(e?.humanWinRate?.ciLow ?? null);
  if (people) return judge ? "both" : "annotators";
  return "judge";
}

const CONFIRMED_BY = {
  judge: "the judge reward model agrees the policy improved.",
  annotators: "the annotators preferred the new policy in the blind A/B (95 % interval above 50%); the judge reward model could not confirm it.",
  both: "the judge reward model and the annotators' blind A/B agree the policy improved.",
} as const;

/** What the round's verdict row says in one line. */
export function verdictHeadline(round: { number: number; status: string; evaluation?: VerdictEvidence } & RoundVerdict): string {
  const n = round.number;
  if (round.verdict === "confirmed") return `Round ${n} is confirmed: ${CONFIRMED_BY[confirmedBy(round.evaluation)]}`;
  if (round.verdict !== "unconfirmed") return "";
  if (awaitsDecision(round)) return `Round ${n} is unconfirmed: its policy was not promoted, and the loop waits for a decision.`;
  if (round.decision === "promoted") {
    return round.decidedBy === null
      ? `Round ${n} is unconfirmed, and its policy was promoted anyway (the loop does not ask for confirmation).`
      : `Round ${n} is unconfirmed; a person promoted its policy.`;
  }
  if (round.decision === "rejected") return `Round ${n} is unconfirmed; a person rejected its policy (nothing was promoted).`;
  return `Round ${n} is unconfirmed.`;
}
