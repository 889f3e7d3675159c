/**
 * What a loop's next round waits for (`GET /api/v1/projects/{id}/loop/waiting/`): a round still
 * open, or the newest round's sets that are not complete, with who holds each and until when
 * (issue 18: the page said only "No rounds yet" while an idle tab held the last set).
 */

import { type Schemas, wire } from "../apiTypes";

export interface Lease {
  annotator: string;
  expiresAt: Date;
}

export interface OpenSet {
  candidateSet: number;
  prompt: number;
  rankings: number;
  needed: number;
  leases: Lease[];
}

export interface LoopWaiting {
  auto: boolean;
  trigger: "round_complete" | "new_rankings";
  blockedBy: string | null;
  blockingRound: number | null;
  ready: boolean;
  round: number | null;
  sets: number;
  complete: number;
  openSets: OpenSet[];
  openSetsTotal: number;
  rankingsSinceLastRound: number;
  minNewRankings: number | null;
}

const int = (v: unknown): number => (typeof v === "number" && Number.isInteger(v) ? v : 0);
const intOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);

function parseLease(value: unknown): Lease | null {
  const l = wire<Schemas["LeaseOutput"]>(value);
  if (!l || typeof l.annotator !== "string" || typeof l.expires_at !== "string") return null;
  const expiresAt = new Date(l.expires_at);
  return Number.isNaN(expiresAt.getTime()) ? null : { annotator: l.annotator, expiresAt };
}

export function parseLoopWaiting(body: unknown): LoopWaiting | null {
  const b = wire<Schemas["LoopWaitingOutput"]>(body);
  if (!b || !Array.isArray(b.open_sets)) return null;
  const openSets: OpenSet[] = [];
  for (const row of b.open_sets as unknown[]) {
    const s = wire<Schemas["OpenSetOutput"]>(row);
    if (!s || !Number.isInteger(s.candidate_set)) continue;
    const leases = Array.isArray(s.leases) ? (s.leases as unknown[]).map(parseLease).filter((l): l is Lease => l !== null) : [];
    openSets.push({ candidateSet: s.candidate_set as number, prompt: int(s.prompt), rankings: int(s.rankings), needed: int(s.needed), leases });
  }
  return {
    auto: b.auto === true,
    trigger: b.trigger === "new_rankings" ? "new_rankings" : "round_complete",
    blockedBy: typeof b.blocked_by === "string" ? b.blocked_by : null,
    blockingRound: intOrNull(b.blocking_round),
    ready: b.ready === true,
    round: intOrNull(b.round),
    sets: int(b.sets),
    complete: int(b.complete),
    openSets,
    openSetsTotal: int(b.open_sets_total),
    rankingsSinceLastRound: int(b.rankings_since_last_round),
    minNewRankings: intOrNull(b.min_new_rankings),
  };
}

/** One sentence: what the next round waits for, or null when a round is already open (the
 * rounds table shows it). */
export function waitingSummary(w: LoopWaiting): string | null {
  if (w.blockedBy !== null) return null;
  const how = w.auto ? "The next round starts by itself" : "Rounds start by hand; the trigger fires";
  if (w.ready) return w.auto ? "The trigger has fired: the next round starts within a minute." : "The trigger has fired: start the round now.";
  if (w.trigger === "new_rankings")
    return `${how} after ${w.minNewRankings ?? 1} new rankings: ${w.rankingsSinceLastRound} so far.`;
  if (w.round === null) return "No candidate sets yet: generate or import some to rank.";
  if (w.openSetsTotal === 0) return `${how} after new rankings arrive: round ${w.round}'s sets are all complete and were used.`;
  return `${how} when round ${w.round}'s sets are all ranked: ${w.complete} of ${w.sets} complete, ${w.openSetsTotal} still open.`;
}

/** "leased by annotator1 until 14:05", "leased by a and b until …", or "free". */
export function leaseText(set: OpenSet, time: (d: Date) => string): string {
  if (set.leases.length === 0) return "free: waiting for an annotator";
  return set.leases.map((l) => `leased by ${l.annotator} until ${time(l.expiresAt)}`).join("; ");
}
