/**
 * A round's independent evaluation and verdict (issue 17): the judge reward model (trained on the
 * held-out split, so it did not train the policy), its win-rate of the new policy over the
 * previous one with a 95 % interval, the length-controlled win-rate, and whether the round is
 * confirmed — or unconfirmed, with the reasons, waiting for a person to promote or reject its
 * policy. Parsed from `GET /api/v1/rounds/…` (loop/services/evaluation.py, verdict.py). Pure.
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

/** What the round's verdict row says in one line. */
export function verdictHeadline(round: { number: number; status: string } & RoundVerdict): string {
  const n = round.number;
  if (round.verdict === "confirmed") return `Round ${n} is confirmed: the judge reward model agrees the policy improved.`;
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
