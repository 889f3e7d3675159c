/** The review queue (issue 18): a project's submitted rankings with the filters a reviewer
 * works by, the verdicts (accept, reject, send back), a disputed set's adjudicated order, and
 * an annotator's own review counts and comments. Pure: parsing, query strings, and the order
 * editor's moves. */

import { type Schemas, wire } from "../apiTypes";
import { type Message, parseMessages } from "./messages";
import { asObj, int, num, str, tierList } from "./resource";

export type ReviewState = Schemas["ReviewStateEnum"];
export type ReviewAction = Schemas["ReviewActionEnum"];

export const REVIEW_STATES: { value: ReviewState | ""; label: string }[] = [
  { value: "pending", label: "Not reviewed" },
  { value: "accepted", label: "Accepted" },
  { value: "rejected", label: "Rejected" },
  { value: "sent_back", label: "Sent back" },
  { value: "", label: "Any state" },
];

export interface QueueFilters {
  state: ReviewState | "";
  disputed: boolean;
  goldFailed: boolean;
  flagged: boolean;
  /** A user id, or null for every annotator. */
  annotator: number | null;
  /** "YYYY-MM-DD" or "". */
  since: string;
  until: string;
}

export const DEFAULT_FILTERS: QueueFilters = {
  state: "pending",
  disputed: false,
  goldFailed: false,
  flagged: false,
  annotator: null,
  since: "",
  until: "",
};

/** The queue's query string: only the filters that narrow it, then the page. */
export function queueQuery(filters: QueueFilters, limit: number, offset: number): string {
  const params = new URLSearchParams();
  if (filters.state) params.set("state", filters.state);
  if (filters.disputed) params.set("disputed", "true");
  if (filters.goldFailed) params.set("gold_failed", "true");
  if (filters.flagged) params.set("flagged", "true");
  if (filters.annotator !== null) params.set("annotator", String(filters.annotator));
  if (filters.since) params.set("since", filters.since);
  if (filters.until) params.set("until", filters.until);
  params.set("limit", String(limit));
  params.set("offset", String(offset));
  return params.toString();
}

export interface ReviewCandidate {
  id: number;
  text: string;
}

export interface ReviewItem {
  id: number;
  candidateSet: number;
  annotator: string;
  annotatorId: number;
  prompt: Message[];
  /** The set's candidates in canonical order (lettered A, B, C…). */
  candidates: ReviewCandidate[];
  tiers: number[][];
  notRankable: boolean;
  rationale: string;
  seconds: number | null;
  qcFlags: string[];
  reviewState: ReviewState;
  reviewComment: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  createdAt: string;
  isGold: boolean;
  setAgreement: number | null;
  disputed: boolean;
  goldFailed: boolean;
}

const STATES = new Set<string>(["pending", "accepted", "rejected", "sent_back"]);

function reviewState(value: unknown): ReviewState {
  return typeof value === "string" && STATES.has(value) ? (value as ReviewState) : "pending";
}

export function parseReviewItem(row: unknown): ReviewItem | null {
  const r = wire<Schemas["ReviewItemOutput"]>(row);
  if (!r || !Number.isInteger(r.id) || !Number.isInteger(r.candidate_set)) return null;
  const candidates: ReviewCandidate[] = [];
  for (const c of Array.isArray(r.candidates) ? r.candidates : []) {
    const o = asObj(c);
    if (o && Number.isInteger(o.id) && typeof o.text === "string") candidates.push({ id: o.id as number, text: o.text });
  }
  return {
    id: r.id as number,
    candidateSet: r.candidate_set as number,
    annotator: str(r.annotator),
    annotatorId: int(r.annotator_id),
    prompt: parseMessages(r.prompt),
    candidates,
    tiers: tierList(r.tiers),
    notRankable: r.not_rankable === true,
    rationale: str(r.rationale),
    seconds: num(r.time_spent_seconds),
    qcFlags: Array.isArray(r.qc_flags) ? r.qc_flags.filter((f): f is string => typeof f === "string") : [],
    reviewState: reviewState(r.review_state),
    reviewComment: str(r.review_comment),
    reviewedBy: typeof r.reviewed_by === "string" ? r.reviewed_by : null,
    reviewedAt: typeof r.reviewed_at === "string" ? r.reviewed_at : null,
    createdAt: str(r.created_at),
    isGold: r.is_gold === true,
    setAgreement: num(r.set_agreement),
    disputed: r.disputed === true,
    goldFailed: r.gold_failed === true,
  };
}

export interface Reviewed {
  id: number;
  reviewState: ReviewState;
  reviewComment: string;
  reviewedBy: string | null;
}

export function parseReviewed(body: unknown): Reviewed | null {
  const r = wire<Schemas["ReviewOutput"]>(body);
  if (!r || !Number.isInteger(r.id)) return null;
  return {
    id: r.id as number,
    reviewState: reviewState(r.review_state),
    reviewComment: str(r.review_comment),
    reviewedBy: typeof r.reviewed_by === "string" ? r.reviewed_by : null,
  };
}

export interface Adjudicated {
  id: number;
  tiers: number[][];
  gold: boolean;
}

export function parseAdjudicated(body: unknown): Adjudicated | null {
  const r = wire<Schemas["AdjudicationOutput"]>(body);
  if (!r || !Number.isInteger(r.id)) return null;
  return { id: r.id as number, tiers: tierList(r.adjudicated_tiers), gold: Array.isArray(r.gold_tiers) };
}

/** What the reviewer must say before a verdict is sent; null when it may be sent. */
export function verdictProblem(action: ReviewAction, comment: string): string | null {
  if (comment.trim()) return null;
  if (action === "reject") return "Say why the ranking is rejected.";
  if (action === "send_back") return "Tell the annotator what to change: they see this comment.";
  return null;
}

/** Letters for the set's candidates in canonical order (A, B, C…), as on the set page. */
export function letters(candidates: ReviewCandidate[]): Map<number, string> {
  return new Map(candidates.map((c, i) => [c.id, String.fromCharCode(65 + i)]));
}

export const STATE_TEXT: Record<ReviewState, string> = {
  pending: "Not reviewed",
  accepted: "Accepted",
  rejected: "Rejected",
  sent_back: "Sent back",
};

// The adjudication editor: the set's candidates in a line, best first, each either tied with
// the one above or below it.

export interface Order {
  ids: number[];
  /** tiedWithPrevious[i]: ids[i] shares a tier with ids[i − 1] (always false for i = 0). */
  tiedWithPrevious: boolean[];
}

export function orderFromTiers(tiers: number[][], candidates: ReviewCandidate[]): Order {
  const known = new Set(candidates.map((c) => c.id));
  const ids: number[] = [];
  const tiedWithPrevious: boolean[] = [];
  for (const tier of tiers) {
    tier.forEach((id, i) => {
      if (!known.has(id) || ids.includes(id)) return;
      tiedWithPrevious.push(i > 0 && ids.length > 0);
      ids.push(id);
    });
  }
  for (const c of candidates) {
    if (!ids.includes(c.id)) {
      tiedWithPrevious.push(false);
      ids.push(c.id);
    }
  }
  if (tiedWithPrevious.length) tiedWithPrevious[0] = false;
  return { ids, tiedWithPrevious };
}

export function tiersFromOrder(order: Order): number[][] {
  const tiers: number[][] = [];
  order.ids.forEach((id, i) => {
    const last = tiers[tiers.length - 1];
    if (i > 0 && order.tiedWithPrevious[i] && last) last.push(id);
    else tiers.push([id]);
  });
  return tiers;
}

/** Swap position `i` with `i + by` (−1 up, +1 down); the ties stay where they were. */
export function move(order: Order, i: number, by: -1 | 1): Order {
  const j = i + by;
  if (j < 0 || j >= order.ids.length) return order;
  const ids = [...order.ids];
  const a = ids[i];
  const b = ids[j];
  if (a === undefined || b === undefined) return order;
  ids[i] = b;
  ids[j] = a;
  return { ids, tiedWithPrevious: order.tiedWithPrevious };
}

export function toggleTie(order: Order, i: number): Order {
  if (i <= 0 || i >= order.ids.length) return order;
  const tiedWithPrevious = [...order.tiedWithPrevious];
  tiedWithPrevious[i] = !tiedWithPrevious[i];
  return { ids: order.ids, tiedWithPrevious };
}

export interface MyReviews {
  counts: Record<ReviewState, number>;
  comments: { ranking: number; project: number; candidateSet: number; reviewState: ReviewState; comment: string; reviewedAt: string | null }[];
}

export function parseMyReviews(body: unknown): MyReviews | null {
  const b = wire<Schemas["MyReviewsOutput"]>(body);
  const counts = asObj(b?.counts);
  if (!b || !counts || !Array.isArray(b.comments)) return null;
  const comments: MyReviews["comments"] = [];
  for (const c of b.comments) {
    const o = wire<Schemas["ReviewCommentOutput"]>(c);
    if (!o || !Number.isInteger(o.ranking)) continue;
    comments.push({
      ranking: o.ranking as number,
      project: int(o.project),
      candidateSet: int(o.candidate_set),
      reviewState: reviewState(o.review_state),
      comment: str(o.comment),
      reviewedAt: typeof o.reviewed_at === "string" ? o.reviewed_at : null,
    });
  }
  return {
    counts: {
      pending: int(counts.pending),
      accepted: int(counts.accepted),
      rejected: int(counts.rejected),
      sent_back: int(counts.sent_back),
    },
    comments,
  };
}

/** "3 accepted · 1 rejected · 1 sent back" (the states with work in them), or null. */
export function countsText(counts: Record<ReviewState, number>): string | null {
  const parts = [
    counts.accepted ? `${counts.accepted} accepted` : "",
    counts.rejected ? `${counts.rejected} rejected` : "",
    counts.sent_back ? `${counts.sent_back} sent back` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : null;
}
