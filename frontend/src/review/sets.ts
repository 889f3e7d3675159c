/** Candidate sets for review: the project's list and one set with every ranking. Pure. */

import { type Schemas, wire } from "../apiTypes";
import { type Message, parseMessages } from "./messages";
import { asObj, int, num, str, tierList } from "./resource";

export interface SetCandidate {
  id: number;
  text: string;
  model: string;
}

function parseCandidates(value: unknown): SetCandidate[] {
  if (!Array.isArray(value)) return [];
  const out: SetCandidate[] = [];
  for (const c of value) {
    const o = wire<Schemas["CandidateOutput"]>(c);
    if (!o || !Number.isInteger(o.id)) continue;
    const model = typeof o.model === "string" ? o.model : o.model === null || o.model === undefined ? "" : String(o.model);
    out.push({ id: o.id as number, text: str(o.text), model });
  }
  return out;
}

export interface SetRow {
  id: number;
  prompt: Message[];
  round: number;
  state: string;
  rankingCount: number;
  candidateCount: number;
}

export function parseSetRow(row: unknown): SetRow | null {
  const r = wire<Schemas["CandidateSetOutput"]>(row);
  if (!r || !Number.isInteger(r.id)) return null;
  const prompt = parseMessages(r.messages ?? r.prompt);
  return {
    id: r.id as number,
    prompt,
    round: int(r.round),
    state: str(r.state),
    rankingCount: int(r.ranking_count),
    candidateCount: Array.isArray(r.candidates) ? r.candidates.length : 0,
  };
}

/** The first user message, cut to `max` characters, as the set's title in the list. */
export function promptPreview(messages: Message[], max = 120): string {
  const first = messages.find((m) => m.role === "user") ?? messages[0];
  const text = (first?.content ?? "").replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text || "(empty prompt)";
}

export interface SetRanking {
  id: number;
  annotator: string;
  tiers: number[][];
  notRankable: boolean;
  flags: Record<string, string[]>;
  rationale: string;
  seconds: number | null;
  qcFlags: string[];
  createdAt: string | null;
  /** "pending", "accepted", "rejected" or "sent_back"; the last two do not count (issue 18). */
  reviewState: string;
  reviewComment: string;
}

export interface Consensus {
  method: string;
  tiers: number[][];
  agreement: number | null;
}

export interface SetDetail {
  id: number;
  project: number;
  prompt: Message[];
  round: number;
  state: string;
  goldTiers: number[][] | null;
  candidates: SetCandidate[];
  rankings: SetRanking[];
  consensus: Consensus | null;
}

function parseFlags(value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(asObj(value) ?? {})) {
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === "string");
  }
  return out;
}

function parseQcFlags(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
  const o = asObj(value);
  return o ? Object.keys(o).filter((k) => o[k]) : [];
}

export function parseSetDetail(body: unknown): SetDetail | null {
  const o = wire<Schemas["SetDetailOutput"]>(body);
  if (!o || !Number.isInteger(o.id)) return null;
  const rankings: SetRanking[] = [];
  if (Array.isArray(o.rankings)) {
    for (const row of o.rankings) {
      const r = wire<Schemas["SetRankingOutput"]>(row);
      if (!r) continue;
      rankings.push({
        id: int(r.id),
        annotator: str(r.annotator, "?"),
        tiers: tierList(r.tiers),
        notRankable: r.not_rankable === true,
        flags: parseFlags(r.flags),
        rationale: str(r.rationale),
        seconds: num(r.time_spent_seconds),
        qcFlags: parseQcFlags(r.qc_flags),
        createdAt: typeof r.created_at === "string" ? r.created_at : null,
        reviewState: str(r.review_state, "pending"),
        reviewComment: str(r.review_comment),
      });
    }
  }
  const c = asObj(o.consensus);
  return {
    id: o.id as number,
    project: int(o.project),
    prompt: parseMessages(o.prompt),
    round: int(o.round),
    state: str(o.state),
    goldTiers: Array.isArray(o.gold_tiers) ? tierList(o.gold_tiers) : null,
    candidates: parseCandidates(o.candidates),
    rankings,
    consensus: c ? { method: str(c.method), tiers: tierList(c.tiers), agreement: num(c.agreement) } : null,
  };
}

/** Letters for candidates in canonical order (A, B, C…), so tiers read as "A = C > B". */
export function candidateLetters(candidates: SetCandidate[]): Map<number, string> {
  return new Map(candidates.map((c, i) => [c.id, String.fromCharCode(65 + i)]));
}

/** "Rejected: too fast" / "Sent back" / "Accepted"; "" for a ranking not reviewed. */
export function reviewNote(state: string, comment: string): string {
  const label = { accepted: "Accepted", rejected: "Rejected (not counted)", sent_back: "Sent back (not counted)" }[state];
  if (!label) return "";
  return comment ? `${label}: ${comment}` : label;
}

/** "A = C > B" (ties with "=", tiers best first with ">"). */
export function tiersText(tiers: number[][], letters: Map<number, string>): string {
  if (tiers.length === 0) return "–";
  return tiers.map((t) => t.map((id) => letters.get(id) ?? `#${id}`).join(" = ")).join(" > ");
}
