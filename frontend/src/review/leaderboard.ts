/**
 * The Bradley–Terry leaderboard of `GET /api/v1/projects/{id}/leaderboard/?source=rm|human`:
 * its rows in rank order, and the layout of its dot-and-whisker chart (a rating dot per model
 * with its 95 % bootstrap interval as a horizontal bar). Pure; components/loop/Leaderboard.tsx draws it.
 */

import { type Schemas, wire } from "../apiTypes";
import { linearScale, niceTicks } from "./chart";
import { int, num, str } from "./resource";

export type LeaderboardSource = "rm" | "human";

export interface LeaderboardEntry {
  modelVersion: number;
  name: string;
  /** Elo-like: 1000 is the mean of the versions compared; null for a version never compared. */
  rating: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  wins: number;
  losses: number;
  ties: number;
  comparisons: number;
}

export interface Leaderboard {
  source: LeaderboardSource;
  comparisons: number;
  entries: LeaderboardEntry[];
}

/** The rating every component of the comparison graph is centred on. */
export const BASE_RATING = 1000;

export function parseLeaderboard(body: unknown): Leaderboard | null {
  const b = wire<Schemas["LeaderboardOutput"]>(body);
  if (!b || !Array.isArray(b.entries)) return null;
  const entries: LeaderboardEntry[] = [];
  for (const row of b.entries) {
    const e = wire<Schemas["LeaderboardEntryOutput"]>(row);
    if (!e || !Number.isInteger(e.model_version)) continue;
    entries.push({
      modelVersion: e.model_version as number,
      name: str(e.name, `model ${String(e.model_version)}`),
      rating: num(e.rating),
      ciLow: num(e.ci_low),
      ciHigh: num(e.ci_high),
      wins: int(e.wins),
      losses: int(e.losses),
      ties: int(e.ties),
      comparisons: int(e.comparisons),
    });
  }
  return { source: b.source === "human" ? "human" : "rm", comparisons: int(b.comparisons), entries };
}

export interface RankedEntry extends LeaderboardEntry {
  /** 1 = best; null for a version without a rating. Equal ratings share a rank. */
  rank: number | null;
}

/** Rated versions by rating (best first, ties sharing a rank), then the unrated ones by name. */
export function rankEntries(entries: LeaderboardEntry[]): RankedEntry[] {
  const rated = entries.filter((e) => e.rating !== null).sort((a, b) => (b.rating as number) - (a.rating as number));
  const unrated = entries.filter((e) => e.rating === null).sort((a, b) => a.name.localeCompare(b.name));
  const out: RankedEntry[] = [];
  rated.forEach((e, i) => {
    const previous = out[i - 1];
    const rank = previous && previous.rating === e.rating ? previous.rank : i + 1;
    out.push({ ...e, rank });
  });
  return [...out, ...unrated.map((e) => ({ ...e, rank: null }))];
}

/** "1012", or "–" without a rating. */
export function ratingText(e: Pick<LeaderboardEntry, "rating">): string {
  return e.rating === null ? "–" : String(Math.round(e.rating));
}

/** "968 – 1055", or "–" without an interval. */
export function intervalText(e: Pick<LeaderboardEntry, "ciLow" | "ciHigh">): string {
  return e.ciLow === null || e.ciHigh === null ? "–" : `${Math.round(e.ciLow)} – ${Math.round(e.ciHigh)}`;
}

export interface LeaderboardFrame {
  width: number;
  /** Room for the model names on the left, and for the rating label on the right. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  rowHeight: number;
}

export interface LeaderboardRow {
  entry: RankedEntry;
  /** The row's vertical centre. */
  y: number;
  /** The rating dot; null for an unrated version. */
  x: number | null;
  /** The interval's ends; null when there is no interval. */
  x1: number | null;
  x2: number | null;
}

export interface LeaderboardLayout {
  width: number;
  height: number;
  rows: LeaderboardRow[];
  ticks: { value: number; x: number }[];
  domain: [number, number];
  /** Where the base rating (1000) stands, for a reference line. */
  baseX: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
}

/**
 * Rows top to bottom in rank order; the x axis spans every rating and interval and the base
 * rating, widened to round tick values so the ends of the bars never touch the frame.
 */
export function leaderboardLayout(entries: LeaderboardEntry[], frame: LeaderboardFrame): LeaderboardLayout {
  const ranked = rankEntries(entries);
  const values = [BASE_RATING];
  for (const e of ranked) {
    for (const v of [e.rating, e.ciLow, e.ciHigh]) if (v !== null) values.push(v);
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 20) {
    lo -= 10;
    hi += 10;
  }
  const rough = niceTicks(lo, hi, 5);
  const step = rough.length > 1 ? (rough[1] as number) - (rough[0] as number) : 10;
  const d0 = Math.floor(lo / step) * step;
  const d1 = Math.ceil(hi / step) * step;
  const ticks = niceTicks(d0, d1, 5);
  const plot = { x0: frame.left, x1: frame.width - frame.right, y0: frame.top, y1: frame.top + ranked.length * frame.rowHeight };
  const sx = linearScale([d0, d1], [plot.x0, plot.x1]);
  const rows = ranked.map((entry, i) => ({
    entry,
    y: frame.top + (i + 0.5) * frame.rowHeight,
    x: entry.rating === null ? null : sx(entry.rating),
    x1: entry.ciLow === null || entry.ciHigh === null ? null : sx(entry.ciLow),
    x2: entry.ciLow === null || entry.ciHigh === null ? null : sx(entry.ciHigh),
  }));
  return {
    width: frame.width,
    height: plot.y1 + frame.bottom,
    rows,
    ticks: ticks.map((value) => ({ value, x: sx(value) })),
    domain: [d0, d1],
    baseX: sx(BASE_RATING),
    plot,
  };
}

/** The chart's text alternative: "tw-dpo-r2 1085 (1040 – 1130), tw-sft 1000 (…), …". */
export function leaderboardSummary(entries: LeaderboardEntry[], source: LeaderboardSource): string {
  const ranked = rankEntries(entries).filter((e) => e.rating !== null);
  const judge = source === "rm" ? "reward-model judgements" : "human rankings";
  if (ranked.length === 0) return `No ratings from ${judge} yet.`;
  const rows = ranked.map((e) => `${e.rank}. ${e.name} ${ratingText(e)} (95% interval ${intervalText(e)})`);
  return `Bradley–Terry ratings from ${judge}: ${rows.join("; ")}.`;
}
