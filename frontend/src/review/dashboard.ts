/** The project dashboard: `/projects/{id}/progress/` and `/projects/{id}/annotators/`. Pure. */

import { asObj, int, num, str } from "./resource";

export interface Agreement {
  alpha: number | null;
  meanPairwise: number | null;
  setsWithOverlap: number;
}

export interface Progress {
  sets: number;
  setsOpen: number;
  setsComplete: number;
  goldSets: number;
  rankings: number;
  goldRankings: number;
  notRankable: number;
  flagged: number;
  /** Rankings a reviewer rejected or sent back: not counted in `rankings`. */
  rejected: number;
  sentBack: number;
  perDay: { day: string; rankings: number }[];
  agreement: Agreement;
}

export function parseProgress(body: unknown): Progress | null {
  const o = asObj(body);
  if (!o || !Number.isInteger(o.sets)) return null;
  const a = asObj(o.agreement) ?? {};
  const perDay: { day: string; rankings: number }[] = [];
  if (Array.isArray(o.rankings_per_day)) {
    for (const row of o.rankings_per_day) {
      const r = asObj(row);
      if (r && typeof r.day === "string") perDay.push({ day: r.day, rankings: int(r.rankings) });
    }
  }
  return {
    sets: int(o.sets),
    setsOpen: int(o.sets_open),
    setsComplete: int(o.sets_complete),
    goldSets: int(o.gold_sets),
    rankings: int(o.rankings),
    goldRankings: int(o.gold_rankings),
    notRankable: int(o.not_rankable),
    flagged: int(o.flagged),
    rejected: int(o.rejected),
    sentBack: int(o.sent_back),
    perDay,
    agreement: {
      alpha: num(a.krippendorff_alpha_ordinal),
      meanPairwise: num(a.mean_pairwise_agreement),
      setsWithOverlap: int(a.sets_with_overlap),
    },
  };
}

export interface PositionBias {
  observed: number | null;
  expected: number | null;
  z: number | null;
  p: number | null;
}

export interface AnnotatorRow {
  id: number;
  username: string;
  rankings: number;
  skipped: number;
  medianSeconds: number | null;
  agreementTau: number | null;
  agreementSets: number;
  goldSets: number;
  goldAccuracy: number | null;
  goldTau: number | null;
  failsGold: boolean;
  flags: Record<string, number>;
  bias: PositionBias;
}

export function parseAnnotators(body: unknown): AnnotatorRow[] | null {
  const o = asObj(body);
  if (!o || !Array.isArray(o.results)) return null;
  const rows: AnnotatorRow[] = [];
  for (const row of o.results) {
    const r = asObj(row);
    if (!r) continue;
    const flags: Record<string, number> = {};
    for (const [k, v] of Object.entries(asObj(r.flags) ?? {})) if (Number.isInteger(v)) flags[k] = v as number;
    const b = asObj(r.position_bias) ?? {};
    rows.push({
      id: int(r.annotator_id),
      username: str(r.username, `#${int(r.annotator_id)}`),
      rankings: int(r.rankings),
      skipped: int(r.skipped),
      medianSeconds: num(r.median_seconds),
      agreementTau: num(r.agreement_tau),
      agreementSets: int(r.agreement_sets),
      goldSets: int(r.gold_sets),
      goldAccuracy: num(r.gold_accuracy),
      goldTau: num(r.gold_tau),
      failsGold: r.fails_gold === true,
      flags,
      bias: { observed: num(b.first_shown_top_rate), expected: num(b.expected_rate), z: num(b.z), p: num(b.p_value) },
    });
  }
  return rows;
}

/** "too_fast ×2, same_order ×1"; "none" without flags. */
export function flagsText(flags: Record<string, number>): string {
  const parts = Object.entries(flags)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name.replace(/_/g, " ")} ×${n}`);
  return parts.length ? parts.join(", ") : "none";
}

/** A position bias worth a look: significant at 1% and above what chance would give. */
export function biasIsNotable(bias: PositionBias): boolean {
  return bias.p !== null && bias.p < 0.01 && bias.observed !== null && bias.expected !== null && bias.observed > bias.expected;
}
