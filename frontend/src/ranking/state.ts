/**
 * The ranking an annotator builds for one candidate set: tiers best → worst (responses in one
 * tier are tied), the "all bad" switch, per-response flags and ratings, the rationale, and
 * honest counters of what the annotator did (the backend flags a set submitted in display order
 * with zero moves and keys). Pure functions: every action returns a new state, or the same
 * object when it changes nothing, so callers can tell a real move from a no-op.
 */

import type { Refine, Schemas } from "../apiTypes";

export type CandidateId = number;

export interface Interaction {
  /** Changes to the ranking, by keyboard or by drag and drop. */
  moves: number;
  /** Shortcut keys the workspace acted on. */
  keys: number;
  /** Drops that changed the ranking. */
  drags: number;
  /** Long responses opened to read in full. */
  expanded: number;
  /** Side-by-side comparisons opened. */
  compared: number;
}

export interface RankingState {
  /** Candidate ids as the server showed them; response N (key N) is displayOrder[N - 1]. */
  displayOrder: CandidateId[];
  /** Best first; each tier non-empty; every candidate exactly once. */
  tiers: CandidateId[][];
  allowTies: boolean;
  selected: CandidateId | null;
  /** False until the annotator changes the ranking (or marks the set all bad). */
  touched: boolean;
  notRankable: boolean;
  flags: Record<string, string[]>;
  ratings: Record<string, Record<string, number>>;
  rationale: string;
  interaction: Interaction;
  /** A reward model's ranking shown beside the board (the loop's AI feedback), or null. */
  suggestion: CandidateId[][] | null;
  /** The annotator put the board in the suggested order at least once. */
  appliedSuggestion: boolean;
}

export const NO_INTERACTION: Interaction = { moves: 0, keys: 0, drags: 0, expanded: 0, compared: 0 };

/** Every response in its own tier, in display order, nothing touched. */
export function initialState(
  displayOrder: CandidateId[],
  allowTies: boolean,
  suggestion: CandidateId[][] | null = null,
): RankingState {
  return {
    displayOrder: [...displayOrder],
    tiers: displayOrder.map((id) => [id]),
    allowTies,
    selected: null,
    touched: false,
    notRankable: false,
    flags: {},
    ratings: {},
    rationale: "",
    interaction: { ...NO_INTERACTION },
    suggestion: suggestion && suggestion.map((tier) => [...tier]),
    appliedSuggestion: false,
  };
}

/** Index of the tier holding `id`, or -1. */
export function tierOf(state: RankingState, id: CandidateId): number {
  return state.tiers.findIndex((tier) => tier.includes(id));
}

/** 1-based number shown on a response (and the key that selects it). */
export function responseNumber(state: RankingState, id: CandidateId): number {
  return state.displayOrder.indexOf(id) + 1;
}

/** The candidate that key `n` (1–9) selects, or null. */
export function candidateForNumber(state: RankingState, n: number): CandidateId | null {
  return state.displayOrder[n - 1] ?? null;
}

function withTiers(state: RankingState, tiers: CandidateId[][], how: "key" | "drag"): RankingState {
  const counters = state.interaction;
  return {
    ...state,
    tiers: tiers.filter((tier) => tier.length > 0),
    touched: true,
    interaction: {
      ...counters,
      moves: counters.moves + 1,
      drags: counters.drags + (how === "drag" ? 1 : 0),
    },
  };
}

function without(tiers: CandidateId[][], id: CandidateId): CandidateId[][] {
  return tiers.map((tier) => tier.filter((other) => other !== id));
}

export function select(state: RankingState, id: CandidateId | null): RankingState {
  if (id !== null && !state.displayOrder.includes(id)) return state;
  return state.selected === id ? state : { ...state, selected: id };
}

/**
 * Up one place. Tied with others: leave the tie, into a tier of its own just above it.
 * Alone: swap with the tier above. Already alone at the top: no change.
 */
export function moveUp(state: RankingState, id: CandidateId, how: "key" | "drag" = "key") {
  const at = tierOf(state, id);
  if (at < 0) return state;
  const tiers = state.tiers.map((tier) => [...tier]);
  const tier = tiers[at] as CandidateId[];
  if (tier.length > 1) {
    tiers[at] = tier.filter((other) => other !== id);
    tiers.splice(at, 0, [id]);
    return withTiers(state, tiers, how);
  }
  if (at === 0) return state;
  [tiers[at - 1], tiers[at]] = [tiers[at] as CandidateId[], tiers[at - 1] as CandidateId[]];
  return withTiers(state, tiers, how);
}

/** Down one place: the mirror of {@link moveUp}. */
export function moveDown(state: RankingState, id: CandidateId, how: "key" | "drag" = "key") {
  const at = tierOf(state, id);
  if (at < 0) return state;
  const tiers = state.tiers.map((tier) => [...tier]);
  const tier = tiers[at] as CandidateId[];
  if (tier.length > 1) {
    tiers[at] = tier.filter((other) => other !== id);
    tiers.splice(at + 1, 0, [id]);
    return withTiers(state, tiers, how);
  }
  if (at === tiers.length - 1) return state;
  [tiers[at + 1], tiers[at]] = [tiers[at] as CandidateId[], tiers[at + 1] as CandidateId[]];
  return withTiers(state, tiers, how);
}

/** Join the tier above (a tie). No change at the top, or when the project allows no ties. */
export function tieWithAbove(state: RankingState, id: CandidateId): RankingState {
  const at = tierOf(state, id);
  if (at <= 0 || !state.allowTies) return state;
  return joinTier(state, id, at - 1, "key");
}

/** Leave a tie: into a tier of its own just below the others. No change when not tied. */
export function splitOut(state: RankingState, id: CandidateId): RankingState {
  const at = tierOf(state, id);
  if (at < 0 || (state.tiers[at] as CandidateId[]).length < 2) return state;
  return moveDown(state, id, "key");
}

function joinTier(
  state: RankingState,
  id: CandidateId,
  target: number,
  how: "key" | "drag",
): RankingState {
  const from = tierOf(state, id);
  if (from < 0 || target < 0 || target >= state.tiers.length || from === target) return state;
  const tiers = without(state.tiers, id);
  (tiers[target] as CandidateId[]).push(id);
  return withTiers(state, tiers, how);
}

/** Dropped onto tier `target` (0 = best): tied with the responses there. */
export function dropOnTier(state: RankingState, id: CandidateId, target: number): RankingState {
  if (!state.allowTies) return state;
  return joinTier(state, id, target, "drag");
}

/**
 * Dropped on the divider `gap` (0 = above the best tier, tiers.length = below the worst): a new
 * tier of its own there. No change when that is where it already stands alone.
 */
export function dropInGap(state: RankingState, id: CandidateId, gap: number): RankingState {
  const from = tierOf(state, id);
  if (from < 0 || gap < 0 || gap > state.tiers.length) return state;
  const alone = (state.tiers[from] as CandidateId[]).length === 1;
  if (alone && (gap === from || gap === from + 1)) return state;
  const tiers = state.tiers.map((tier) => [...tier]);
  tiers.splice(gap, 0, [id]);
  const old = gap <= from ? from + 1 : from;
  tiers[old] = (tiers[old] as CandidateId[]).filter((other) => other !== id);
  return withTiers(state, tiers, "drag");
}

export function setNotRankable(state: RankingState, notRankable: boolean): RankingState {
  if (state.notRankable === notRankable) return state;
  return { ...state, notRankable, touched: true };
}

export function toggleFlag(state: RankingState, id: CandidateId, flag: string): RankingState {
  const key = String(id);
  const current = state.flags[key] ?? [];
  const next = current.includes(flag) ? current.filter((f) => f !== flag) : [...current, flag];
  return { ...state, flags: { ...state.flags, [key]: next } };
}

/** `value` null clears the rating. */
export function setRating(
  state: RankingState,
  id: CandidateId,
  dimension: string,
  value: number | null,
): RankingState {
  const key = String(id);
  const current = { ...(state.ratings[key] ?? {}) };
  if (value === null) delete current[dimension];
  else current[dimension] = value;
  return { ...state, ratings: { ...state.ratings, [key]: current } };
}

export function setRationale(state: RankingState, rationale: string): RankingState {
  return { ...state, rationale };
}

export function count(state: RankingState, counter: keyof Interaction, by = 1): RankingState {
  const interaction = { ...state.interaction, [counter]: state.interaction[counter] + by };
  return { ...state, interaction };
}

/**
 * The same work carried over to a new assignment of the same candidate set (after a lease
 * expired and the set came back). Null when the candidates differ: nothing can be carried.
 */
export function rebase(state: RankingState, displayOrder: CandidateId[]): RankingState | null {
  const same =
    displayOrder.length === state.displayOrder.length &&
    displayOrder.every((id) => state.displayOrder.includes(id));
  return same ? { ...state, displayOrder: [...displayOrder] } : null;
}

/** The suggestion as the board would hold it: in a project without ties, tied responses
 * one below the other in the order the suggestion lists them. */
function suggestedTiers(state: RankingState): CandidateId[][] | null {
  if (!state.suggestion) return null;
  return state.allowTies ? state.suggestion.map((tier) => [...tier]) : state.suggestion.flat().map((id) => [id]);
}

function sameTiers(a: CandidateId[][], b: CandidateId[][]): boolean {
  const key = (tiers: CandidateId[][]) => JSON.stringify(tiers.map((tier) => [...tier].sort((x, y) => x - y)));
  return key(a) === key(b);
}

/** The board already shows the suggested order. */
export function showsSuggestion(state: RankingState): boolean {
  const tiers = suggestedTiers(state);
  return tiers !== null && !state.notRankable && sameTiers(state.tiers, tiers);
}

/**
 * "Apply suggestion": the board takes the suggested order, which the annotator can go on to
 * change. It is recorded (`applied_suggestion` in the interaction summary) but is not a move
 * of the annotator's own, so the move counters stay as they were.
 */
export function applySuggestion(state: RankingState): RankingState {
  const tiers = suggestedTiers(state);
  if (!tiers || (showsSuggestion(state) && state.appliedSuggestion)) return state;
  return { ...state, tiers, touched: true, notRankable: false, appliedSuggestion: true };
}

/** "#2 > #1 = #4 > #3": the suggestion in the response numbers the annotator sees. */
export function suggestionText(state: RankingState): string {
  const tiers = suggestedTiers(state);
  if (!tiers) return "";
  return tiers.map((tier) => tier.map((id) => `#${responseNumber(state, id)}`).join(" = ")).join(" > ");
}

/** The schema's submission, its JSON fields given their shape. */
export type SubmissionBody = Refine<
  Schemas["SubmissionInputRequest"],
  {
    ranking: CandidateId[][];
    flags: Record<string, string[]>;
    ratings: Record<string, Record<string, number>>;
    time_spent_seconds: number;
    /** The counters, and where a suggestion was shown, whether it was applied (for QC). */
    interaction: Interaction & { suggestion_shown?: boolean; applied_suggestion?: boolean };
  }
>;

/** What `POST /assignments/{id}/submit/` gets: empty flag lists and ratings left out. */
export function submissionBody(state: RankingState, timeSpentSeconds: number): SubmissionBody {
  const flags: Record<string, string[]> = {};
  for (const id of state.displayOrder) {
    const given = state.flags[String(id)] ?? [];
    if (given.length > 0) flags[String(id)] = [...given].sort();
  }
  const ratings: Record<string, Record<string, number>> = {};
  for (const id of state.displayOrder) {
    const given = state.ratings[String(id)] ?? {};
    if (Object.keys(given).length > 0) ratings[String(id)] = { ...given };
  }
  return {
    ranking: state.notRankable ? [] : state.tiers.map((tier) => [...tier]),
    not_rankable: state.notRankable,
    flags,
    ratings,
    rationale: state.rationale,
    time_spent_seconds: Math.round(Math.max(0, timeSpentSeconds) * 10) / 10,
    interaction: {
      ...state.interaction,
      ...(state.suggestion ? { suggestion_shown: true, applied_suggestion: state.appliedSuggestion } : {}),
    },
  };
}

/** "Response 3 is in tier 2 of 4, tied with response 1." — for the live region. */
export function describePlace(state: RankingState, id: CandidateId): string {
  const at = tierOf(state, id);
  if (at < 0) return "";
  const tier = state.tiers[at] as CandidateId[];
  const others = tier.filter((other) => other !== id).map((o) => responseNumber(state, o));
  const tie =
    others.length === 0
      ? ""
      : `, tied with response${others.length > 1 ? "s" : ""} ${others.join(" and ")}`;
  return `Response ${responseNumber(state, id)} is in tier ${at + 1} of ${state.tiers.length}${tie}.`;
}
