/**
 * The ranking workspace's state around one RankingState (./state.ts): which task is on screen,
 * the notice and the live-region announcement, the submit/skip confirmations, the lease-expiry
 * recovery, what is expanded or compared, which dialog is open, and where focus goes next.
 *
 * Pure functions, like ./state.ts: each takes the workspace and returns a new one (the same
 * object when nothing changes). The API calls, timers and DOM live in
 * components/ranking/useRankingWorkspace.ts, which runs these transitions around them.
 */

import type { NextTaskResult } from "../api";
import type { ProjectSummary } from "../projects";
import type { Task } from "../task";
import type { Command } from "./keyboard";
import {
  type CandidateId,
  type RankingState,
  type SubmissionBody,
  applySuggestion,
  candidateForNumber,
  count,
  describePlace,
  dropInGap,
  dropOnTier,
  initialState,
  moveDown,
  moveUp,
  rebase,
  responseNumber,
  select,
  splitOut,
  submissionBody,
  suggestionText,
  tieWithAbove,
} from "./state";

export type Phase =
  | { kind: "loading" }
  | { kind: "task"; task: Task }
  | { kind: "done" }
  | { kind: "failed"; message: string };

export type Tone = "info" | "success" | "warning" | "error";
export interface Notice {
  tone: Tone;
  text: string;
}

export type Move = "up" | "down" | "tie" | "split";

/** Where a response was dropped on the board: onto a tier (a tie) or a divider (a new tier). */
export type DropTarget = { kind: "tier"; index: number } | { kind: "gap"; index: number };

/** When a lease ran out and the set went elsewhere: what "Go to the next set" opens. */
export interface Lost {
  next: Task | null;
}

export type FocusTarget = CandidateId | "board" | "submit";

/** The body sent for an assignment's ranking, kept so a retry of the same ranking sends the
 * same body under the same Idempotency-Key (the server then counts it once). */
interface Attempt {
  assignment: number;
  substance: string;
  body: SubmissionBody;
}

export interface WorkspaceState {
  project: ProjectSummary | null;
  phase: Phase;
  ranking: RankingState | null;
  notice: Notice | null;
  lost: Lost | null;
  /** A submit or skip is on its way. */
  busy: boolean;
  /** The next Submit (or Skip) is the second press that confirms it. */
  confirm: "submit-untouched" | "skip" | null;
  expanded: ReadonlySet<CandidateId>;
  /** Picked for the side-by-side comparison (at most two, the latest last). */
  compare: CandidateId[];
  compareOpen: boolean;
  showHelp: boolean;
  guidelinesOpen: boolean;
  idempotencyKey: string;
  lastAttempt: Attempt | null;
  /** performance.now() when the task was shown: the submission's time spent. */
  startedAt: number;
  /** For the live region; `n` grows with each, so the same sentence twice is said twice. */
  said: { text: string; n: number } | null;
  /** Focus after the next render; `n` as for `said`. */
  focus: { target: FocusTarget; n: number } | null;
}

export function initialWorkspace(): WorkspaceState {
  return {
    project: null,
    phase: { kind: "loading" },
    ranking: null,
    notice: null,
    lost: null,
    busy: false,
    confirm: null,
    expanded: new Set(),
    compare: [],
    compareOpen: false,
    showHelp: false,
    guidelinesOpen: true,
    idempotencyKey: "",
    lastAttempt: null,
    startedAt: 0,
    said: null,
    focus: null,
  };
}

export function taskOf(s: WorkspaceState): Task | null {
  return s.phase.kind === "task" ? s.phase.task : null;
}

export function announce(s: WorkspaceState, text: string): WorkspaceState {
  return { ...s, said: { text, n: (s.said?.n ?? 0) + 1 } };
}

function focusOn(s: WorkspaceState, target: FocusTarget): WorkspaceState {
  return { ...s, focus: { target, n: (s.focus?.n ?? 0) + 1 } };
}

/** The ranking changed by `edit`; the same workspace when it did not. */
export function editRanking(s: WorkspaceState, edit: (r: RankingState) => RankingState): WorkspaceState {
  if (!s.ranking) return s;
  const next = edit(s.ranking);
  return next === s.ranking ? s : { ...s, ranking: next };
}

export function projectLoaded(s: WorkspaceState, project: ProjectSummary): WorkspaceState {
  return { ...s, project };
}

export function loading(s: WorkspaceState): WorkspaceState {
  return { ...s, phase: { kind: "loading" } };
}

export function loadFailed(s: WorkspaceState, message: string): WorkspaceState {
  return { ...s, phase: { kind: "failed", message } };
}

/** A new task on a fresh board; `key` is its Idempotency-Key, `now` its start time. */
export function startTask(s: WorkspaceState, task: Task, notice: Notice | null, key: string, now: number): WorkspaceState {
  const allowTies = s.project?.allowTies ?? true;
  const started: WorkspaceState = {
    ...s,
    phase: { kind: "task", task },
    ranking: initialState(task.candidates.map((c) => c.id), allowTies, task.suggestion),
    notice,
    lost: null,
    confirm: null,
    expanded: new Set(),
    compare: [],
    compareOpen: false,
    idempotencyKey: key,
    lastAttempt: null,
    startedAt: now,
  };
  const text = `${notice ? `${notice.text} ` : ""}New set: ${task.candidates.length} responses to rank.`;
  return announce(focusOn(started, "board"), text);
}

export function allDone(s: WorkspaceState, notice: Notice | null): WorkspaceState {
  const done: WorkspaceState = { ...s, phase: { kind: "done" }, ranking: null, lost: null, notice };
  return announce(done, "All done: nothing left to rank in this project.");
}

function noChangeText(state: RankingState, id: CandidateId, move: Move): string {
  const n = responseNumber(state, id);
  switch (move) {
    case "up":
      return `Response ${n} is already at the top.`;
    case "down":
      return `Response ${n} is already at the bottom.`;
    case "tie":
      return state.allowTies
        ? `Response ${n} is in the best tier: there is no tier above to tie with.`
        : "This project does not allow ties.";
    case "split":
      return `Response ${n} is not tied.`;
  }
}

/** Up, down, tie with the tier above or untie `id`; focus follows it, the live region says
 * where it is now (or why nothing changed). */
export function moveResponse(s: WorkspaceState, id: CandidateId, move: Move): WorkspaceState {
  const from = s.ranking;
  if (!from) return s;
  const moved =
    move === "up" ? moveUp(from, id) : move === "down" ? moveDown(from, id) : move === "tie" ? tieWithAbove(from, id) : splitOut(from, id);
  if (moved === from) return announce(s, noChangeText(from, id, move));
  const next = select(moved, id);
  return announce(focusOn({ ...s, ranking: next, confirm: null }, id), describePlace(next, id));
}

export function dropResponse(s: WorkspaceState, id: CandidateId, target: DropTarget): WorkspaceState {
  const from = s.ranking;
  if (!from) return s;
  const moved = target.kind === "tier" ? dropOnTier(from, id, target.index) : dropInGap(from, id, target.index);
  if (moved === from) return s;
  const next = select(moved, id);
  return announce({ ...s, ranking: next, confirm: null }, describePlace(next, id));
}

export function selectResponse(s: WorkspaceState, id: CandidateId | null): WorkspaceState {
  return editRanking(s, (r) => select(r, id));
}

export function toggleExpand(s: WorkspaceState, id: CandidateId): WorkspaceState {
  if (!s.ranking) return s;
  const opening = !s.expanded.has(id);
  const expanded = new Set(s.expanded);
  if (opening) expanded.add(id);
  else expanded.delete(id);
  return { ...s, expanded, ranking: opening ? count(s.ranking, "expanded") : s.ranking };
}

/** Pick `id` for the side-by-side view (or drop it from it); the view opens at two. */
export function toggleCompare(s: WorkspaceState, id: CandidateId): WorkspaceState {
  const r = s.ranking;
  if (!r) return s;
  if (s.compare.includes(id)) {
    const compare = s.compare.filter((c) => c !== id);
    return announce({ ...s, compare }, `Response ${responseNumber(r, id)} removed from the comparison.`);
  }
  const compare = [...s.compare, id].slice(-2);
  if (compare.length === 2) return { ...s, compare, compareOpen: true, ranking: count(r, "compared") };
  return announce({ ...s, compare }, `Response ${responseNumber(r, id)} picked for comparison: pick one more.`);
}

export function closeCompare(s: WorkspaceState): WorkspaceState {
  return { ...s, compareOpen: false, compare: [] };
}

export function showHelp(s: WorkspaceState, show: boolean): WorkspaceState {
  return s.showHelp === show ? s : { ...s, showHelp: show };
}

export function toggleGuidelines(s: WorkspaceState): WorkspaceState {
  return { ...s, guidelinesOpen: !s.guidelinesOpen };
}

export function applySuggestedOrder(s: WorkspaceState): WorkspaceState {
  const r = s.ranking;
  if (!r) return s;
  const next = applySuggestion(r);
  if (next === r) return s;
  return announce({ ...s, ranking: next, confirm: null }, `Suggested order applied: ${suggestionText(next)}. You can still change it.`);
}

const SELECT_FIRST = "Select a response first: press its number.";

/**
 * A shortcut key's command (../ranking/keyboard.ts) on a task's board. `then` says what the
 * caller does next that is not a state change: send the ranking, or skip the set.
 */
export function onCommand(s: WorkspaceState, command: Command): { state: WorkspaceState; then: "submit" | "skip" | null } {
  if (!s.ranking) return { state: s, then: null };
  const counted: WorkspaceState = { ...s, ranking: count(s.ranking, "keys") };
  const r = counted.ranking as RankingState;
  const selected = r.selected;
  const done = (state: WorkspaceState) => ({ state, then: null });
  switch (command.kind) {
    case "select": {
      const id = candidateForNumber(r, command.number);
      if (id === null) return done(announce(counted, `There is no response ${command.number}.`));
      const chosen = focusOn({ ...counted, ranking: select(r, id) }, id);
      return done(announce(chosen, `Selected. ${describePlace(r, id)}`));
    }
    case "up":
    case "down":
    case "tie":
    case "split":
      if (selected === null) return done(announce(counted, SELECT_FIRST));
      return done(moveResponse(counted, selected, command.kind));
    case "submit":
      return { state: counted, then: "submit" };
    case "skip":
      return { state: counted, then: "skip" };
    case "help":
      return done(showHelp(counted, true));
    case "guidelines":
      return done(toggleGuidelines(counted));
    case "expand":
      if (selected === null) return done(announce(counted, SELECT_FIRST));
      return done(toggleExpand(counted, selected));
    case "compare":
      if (selected === null) return done(announce(counted, SELECT_FIRST));
      return done(toggleCompare(counted, selected));
    case "escape":
      return done(announce({ ...counted, ranking: select(r, null) }, "Selection cleared."));
  }
}

/** What to send to `POST /assignments/{id}/submit/`. */
export interface Submission {
  assignment: number;
  body: SubmissionBody;
  idempotencyKey: string;
}

/**
 * Submit pressed at `now`. An untouched board asks for a second press first. A retry of the
 * same ranking on the same assignment resends the same body (same time spent) so that the
 * Idempotency-Key replays rather than conflicts.
 */
export function requestSubmit(s: WorkspaceState, now: number): { state: WorkspaceState; send: Submission | null } {
  const task = taskOf(s);
  const r = s.ranking;
  if (s.busy || !task || !r || s.lost) return { state: s, send: null };
  if (!r.touched && s.confirm !== "submit-untouched") {
    const notice: Notice = {
      tone: "warning",
      text: "You have not moved any response: they are still in the order shown. Press Enter or Submit again to submit that order.",
    };
    return { state: { ...s, confirm: "submit-untouched", notice }, send: null };
  }
  const substance = JSON.stringify([r.tiers, r.notRankable, r.flags, r.ratings, r.rationale]);
  const previous = s.lastAttempt;
  const lastAttempt =
    previous && previous.assignment === task.assignment && previous.substance === substance
      ? previous
      : { assignment: task.assignment, substance, body: submissionBody(r, (now - s.startedAt) / 1000) };
  const state = announce({ ...s, confirm: null, busy: true, lastAttempt }, "Submitting…");
  return { state, send: { assignment: task.assignment, body: lastAttempt.body, idempotencyKey: s.idempotencyKey } };
}

/** A submit or skip came back; `refusal` is the message when it was refused. */
export function settled(s: WorkspaceState, refusal: string | null = null): WorkspaceState {
  const idle = { ...s, busy: false };
  return refusal === null ? idle : { ...idle, notice: { tone: "error", text: refusal } };
}

/**
 * Skip pressed. `then` is "skip" to skip the assignment, "next" to go on without a call (the
 * set was lost to someone else), null when nothing happens now (busy, or asking to confirm
 * throwing away a ranking the annotator made).
 */
export function requestSkip(s: WorkspaceState): { state: WorkspaceState; then: { kind: "skip"; assignment: number } | { kind: "next" } | null } {
  const task = taskOf(s);
  if (s.busy || !task || !s.ranking) return { state: s, then: null };
  if (s.lost) return { state: s, then: { kind: "next" } };
  if (s.ranking.touched && s.confirm !== "skip") {
    const notice: Notice = { tone: "warning", text: "Skipping drops the ranking you made. Press s or Skip again to skip this set." };
    return { state: { ...s, confirm: "skip", notice }, then: null };
  }
  return { state: { ...s, confirm: null, busy: true }, then: { kind: "skip", assignment: task.assignment } };
}

export function leaseExpired(s: WorkspaceState): WorkspaceState {
  return {
    ...s,
    notice: { tone: "warning", text: "Your lease on this set expired; we'll try to get the set back. Your ranking is kept." },
  };
}

/**
 * After a lease expired, the next task came back as `result`. The same candidate set: the
 * ranking carries over to it, submittable again (under `key` when it is a new assignment).
 * Another set or none: the ranking stays on screen, not submittable, with "Go to the next set".
 * "signed-out" when the session ended meanwhile.
 */
export function recovered(s: WorkspaceState, result: NextTaskResult, key: string): WorkspaceState | "signed-out" {
  const old = taskOf(s);
  if (!old || !s.ranking) return s;
  if (result.kind === "task" && result.task.candidateSet === old.candidateSet) {
    const carried = rebase(s.ranking, result.task.candidates.map((c) => c.id));
    if (carried) {
      const fresh = result.task.assignment !== old.assignment;
      return focusOn(
        {
          ...s,
          phase: { kind: "task", task: result.task },
          ranking: carried,
          ...(fresh ? { idempotencyKey: key, lastAttempt: null } : {}),
          notice: {
            tone: "success",
            text: "Your lease expired, but the set was still free: it is yours again, with your ranking as you left it. Submit when ready.",
          },
        },
        "submit",
      );
    }
  }
  if (result.kind === "failed") {
    if (result.refusal.status === 401) return "signed-out";
    return {
      ...s,
      notice: {
        tone: "error",
        text: `Your lease expired, and getting the set back failed: ${result.refusal.message} Your ranking is still here; submit again to retry.`,
      },
    };
  }
  return {
    ...s,
    lost: { next: result.kind === "task" ? result.task : null },
    notice: {
      tone: "error",
      text:
        "Your lease expired and this set has gone to someone else, so this ranking can no longer be submitted. " +
        "It stays on screen so nothing you did disappears without notice." +
        (result.kind === "task" ? " Go on to the next set when ready." : " There is nothing else to rank right now."),
    },
  };
}

/** The line in the action bar that sums up the board. */
export function rankingSummary(state: RankingState): string {
  if (state.notRankable) return "Marked all bad: no order will be sent.";
  if (!state.touched) return "Untouched: still in the order shown.";
  const ties = state.tiers.filter((t) => t.length > 1).length;
  return `${state.tiers.length} tiers${ties ? `, ${ties} with a tie` : ""}.`;
}
