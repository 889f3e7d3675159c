/** A task from `POST /api/v1/projects/{id}/next-task/`: one leased candidate set to rank. */

import { type Schemas, wire } from "./apiTypes";

export type Message = Schemas["MessageOutput"];

export type Candidate = Schemas["TaskCandidateOutput"];

export interface Task {
  assignment: number;
  leaseExpiresAt: Date;
  project: number;
  candidateSet: number;
  prompt: Message[];
  /** In this annotator's display order. */
  candidates: Candidate[];
  /** A reward model's ranking (tiers of candidate ids, best first), where the project shows AI
   * suggestions; null otherwise, or when it does not rank exactly these candidates. */
  suggestion: number[][] | null;
  /** When a reviewer sent this set back to the annotator: their comment (issue 18). */
  reviewComment?: string | null;
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

/** `{"ranking": [[id, …], …]}` when its tiers hold every candidate exactly once; else null
 * (a suggestion that does not fit is left out rather than failing the task). */
export function parseSuggestion(value: unknown, candidates: Candidate[]): number[][] | null {
  const ranking = wire<Schemas["TaskSuggestionOutput"]>(value)?.ranking;
  if (!Array.isArray(ranking)) return null;
  const tiers: number[][] = [];
  for (const tier of ranking as unknown[]) {
    if (!Array.isArray(tier) || tier.length === 0 || !tier.every(isId)) return null;
    tiers.push([...(tier as number[])]);
  }
  const ids = tiers.flat();
  const expected = new Set(candidates.map((c) => c.id));
  if (ids.length !== expected.size || new Set(ids).size !== ids.length || !ids.every((id) => expected.has(id))) return null;
  return tiers;
}

/** Validate the 200 body; null if it is not the documented shape. */
export function parseTask(body: unknown): Task | null {
  const b = wire<Schemas["TaskOutput"]>(body);
  if (!b) return null;
  if (!isId(b.assignment) || !isId(b.project) || !isId(b.candidate_set)) return null;
  if (typeof b.lease_expires_at !== "string") return null;
  const leaseExpiresAt = new Date(b.lease_expires_at);
  if (Number.isNaN(leaseExpiresAt.getTime())) return null;
  if (!Array.isArray(b.prompt) || !Array.isArray(b.candidates)) return null;
  const prompt: Message[] = [];
  for (const m of b.prompt as unknown[]) {
    const message = wire<Message>(m);
    if (!message) return null;
    const { role, content } = message;
    if (typeof role !== "string" || typeof content !== "string") return null;
    prompt.push({ role, content });
  }
  const candidates: Candidate[] = [];
  for (const c of b.candidates as unknown[]) {
    const candidate = wire<Candidate>(c);
    if (!candidate) return null;
    const { id, text } = candidate;
    if (!isId(id) || typeof text !== "string") return null;
    candidates.push({ id, text });
  }
  if (candidates.length < 2 || new Set(candidates.map((c) => c.id)).size !== candidates.length)
    return null;
  return {
    assignment: b.assignment,
    leaseExpiresAt,
    project: b.project,
    candidateSet: b.candidate_set,
    prompt,
    candidates,
    suggestion: parseSuggestion(b.suggestion, candidates),
    reviewComment: typeof b.review_comment === "string" && b.review_comment ? b.review_comment : null,
  };
}

/** "12:05 left", "1:02:00 left", or "expired"; `ms` is the time until the lease ends. */
export function leaseText(ms: number): string {
  if (ms <= 0) return "expired";
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  const clock = `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
  return `${clock} left`;
}

/** Human labels for chat roles. */
export function roleLabel(role: string): string {
  if (role === "user") return "User";
  if (role === "assistant") return "Assistant";
  if (role === "system") return "System";
  return role;
}
