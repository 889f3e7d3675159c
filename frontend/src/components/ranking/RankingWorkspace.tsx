/**
 * The annotator's workspace for one project: takes the next task, shows the prompt and the
 * responses on the RankingBoard, and submits (or skips) the ranking, then loads the next task
 * without a page reload. All ranking logic lives in ../ranking/state.ts; this component wires
 * it to the API, the keyboard, the pointer and the screen reader.
 *
 * Lease expiry: a 409 `lease_expired` on submit keeps the ranking on screen and asks for the
 * next task; when the same candidate set comes back the ranking is carried over to it and can be
 * submitted again; otherwise the ranking stays visible (not submittable) with an explanation.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { fetchNextTask, fetchProject, skipAssignment, submitRanking } from "../../api";
import { isLong } from "../../markdown";
import type { ProjectSummary } from "../../projects";
import { commandFor, isTypingTarget } from "../../ranking/keyboard";
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
  setNotRankable,
  setRating,
  setRationale,
  showsSuggestion,
  splitOut,
  submissionBody,
  suggestionText,
  tieWithAbove,
  tierOf,
  toggleFlag,
} from "../../ranking/state";
import type { Candidate, Task } from "../../task";
import { newUuid } from "../../uuid";
import { CompareView } from "./CompareView";
import { GuidelinesPanel } from "./GuidelinesPanel";
import { LeaseTimer } from "./LeaseTimer";
import { PromptView } from "../shared/PromptView";
import { type DropTarget, RankingBoard } from "./RankingBoard";
import { ResponseCard } from "./ResponseCard";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { SuggestionLine } from "./SuggestionLine";

type Phase =
  | { kind: "loading" }
  | { kind: "task"; task: Task }
  | { kind: "done" }
  | { kind: "failed"; message: string };

type Tone = "info" | "success" | "warning" | "error";
interface Notice {
  tone: Tone;
  text: string;
}

type Move = "up" | "down" | "tie" | "split";

/** When a lease ran out and the set went elsewhere: what "Go to the next set" opens. */
type Lost = { next: Task | null };

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

function summary(state: RankingState): string {
  if (state.notRankable) return "Marked all bad: no order will be sent.";
  if (!state.touched) return "Untouched: still in the order shown.";
  const ties = state.tiers.filter((t) => t.length > 1).length;
  return `${state.tiers.length} tiers${ties ? `, ${ties} with a tie` : ""}.`;
}

export function RankingWorkspace({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [project, setProject] = useState<ProjectSummary | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [ranking, setRanking] = useState<RankingState | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [busy, setBusy] = useState(false);
  const [lost, setLost] = useState<Lost | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [compare, setCompare] = useState<number[]>([]);
  const [compareOpen, setCompareOpen] = useState(false);
  const [showHelp, setShowHelp] = useState(false);
  const [guidelinesOpen, setGuidelinesOpen] = useState(true);
  const [confirm, setConfirm] = useState<"submit-untouched" | "skip" | null>(null);

  const rankingRef = useRef<RankingState | null>(null);
  const taskRef = useRef<Task | null>(null);
  const projectRef = useRef<ProjectSummary | null>(null);
  const keyRef = useRef("");
  const lastAttempt = useRef<{ assignment: number; substance: string; body: SubmissionBody } | null>(null);
  const startedAt = useRef(0);
  const busyRef = useRef(false);
  const pendingFocus = useRef<CandidateId | "board" | "submit" | null>(null);

  const commit = useCallback((next: RankingState) => {
    rankingRef.current = next;
    setRanking(next);
  }, []);

  const announce = useCallback((text: string) => {
    // Clear first, so the same sentence twice is announced twice.
    setAnnouncement("");
    window.setTimeout(() => setAnnouncement(text), 30);
  }, []);

  const startTask = useCallback(
    (task: Task, message: Notice | null) => {
      const allowTies = projectRef.current?.allowTies ?? true;
      taskRef.current = task;
      keyRef.current = newUuid();
      lastAttempt.current = null;
      startedAt.current = performance.now();
      commit(initialState(task.candidates.map((c) => c.id), allowTies, task.suggestion));
      setPhase({ kind: "task", task });
      setLost(null);
      setExpanded(new Set());
      setCompare([]);
      setCompareOpen(false);
      setConfirm(null);
      setNotice(message);
      pendingFocus.current = "board";
      announce(`${message ? `${message.text} ` : ""}New set: ${task.candidates.length} responses to rank.`);
    },
    [announce, commit],
  );

  const loadNext = useCallback(
    async (message: Notice | null) => {
      setPhase({ kind: "loading" });
      const result = await fetchNextTask(projectId);
      if (result.kind === "task") startTask(result.task, message);
      else if (result.kind === "done") {
        taskRef.current = null;
        rankingRef.current = null;
        setRanking(null);
        setLost(null);
        setNotice(message);
        setPhase({ kind: "done" });
        announce("All done: nothing left to rank in this project.");
      } else if (result.refusal.status === 401) onSignedOut();
      else setPhase({ kind: "failed", message: result.refusal.message });
    },
    [announce, onSignedOut, projectId, startTask],
  );

  useEffect(() => {
    let live = true;
    void fetchProject(projectId).then((state) => {
      if (!live) return;
      if (state.kind === "signed-out") return onSignedOut();
      if (state.kind === "failed") return setPhase({ kind: "failed", message: state.message });
      projectRef.current = state.project;
      setProject(state.project);
      document.title = `Rank · ${state.project.name} · Flywheel`;
      void loadNext(null);
    });
    return () => {
      live = false;
    };
  }, [projectId, loadNext, onSignedOut]);

  // Focus follows the selected response after it moves (it may have changed tier).
  useEffect(() => {
    const target = pendingFocus.current;
    if (target === null) return;
    pendingFocus.current = null;
    const element =
      target === "board"
        ? document.getElementById("board-heading")
        : target === "submit"
          ? document.getElementById("submit-button")
          : document.querySelector<HTMLElement>(`[data-candidate-id="${target}"]`);
    element?.focus({ preventScroll: true });
    element?.scrollIntoView?.({ block: "nearest" });
  });

  const applyMove = useCallback(
    (from: RankingState, id: CandidateId, move: Move) => {
      const moved =
        move === "up" ? moveUp(from, id) : move === "down" ? moveDown(from, id) : move === "tie" ? tieWithAbove(from, id) : splitOut(from, id);
      if (moved === from) {
        announce(noChangeText(from, id, move));
        return;
      }
      const next = select(moved, id);
      commit(next);
      setConfirm(null);
      pendingFocus.current = id;
      announce(describePlace(next, id));
    },
    [announce, commit],
  );

  const recover = useCallback(
    async (kept: RankingState) => {
      const old = taskRef.current;
      if (!old) return;
      setNotice({
        tone: "warning",
        text: "Your lease on this set expired; we'll try to get the set back. Your ranking is kept.",
      });
      const result = await fetchNextTask(projectId);
      if (result.kind === "task" && result.task.candidateSet === old.candidateSet) {
        const carried = rebase(kept, result.task.candidates.map((c) => c.id));
        if (carried) {
          if (result.task.assignment !== old.assignment) {
            keyRef.current = newUuid();
            lastAttempt.current = null;
          }
          taskRef.current = result.task;
          setPhase({ kind: "task", task: result.task });
          commit(carried);
          pendingFocus.current = "submit";
          setNotice({
            tone: "success",
            text: "Your lease expired, but the set was still free: it is yours again, with your ranking as you left it. Submit when ready.",
          });
          return;
        }
      }
      if (result.kind === "failed") {
        if (result.refusal.status === 401) return onSignedOut();
        setNotice({
          tone: "error",
          text: `Your lease expired, and getting the set back failed: ${result.refusal.message} Your ranking is still here; submit again to retry.`,
        });
        return;
      }
      setLost({ next: result.kind === "task" ? result.task : null });
      setNotice({
        tone: "error",
        text:
          "Your lease expired and this set has gone to someone else, so this ranking can no longer be submitted. " +
          "It stays on screen so nothing you did disappears without notice." +
          (result.kind === "task" ? " Go on to the next set when ready." : " There is nothing else to rank right now."),
      });
    },
    [commit, onSignedOut, projectId],
  );

  const submit = useCallback(
    async (state: RankingState) => {
      const task = taskRef.current;
      if (busyRef.current || !task || lost) return;
      if (!state.touched && confirm !== "submit-untouched") {
        setConfirm("submit-untouched");
        setNotice({
          tone: "warning",
          text: "You have not moved any response: they are still in the order shown. Press Enter or Submit again to submit that order.",
        });
        return;
      }
      setConfirm(null);
      const substance = JSON.stringify([state.tiers, state.notRankable, state.flags, state.ratings, state.rationale]);
      const previous = lastAttempt.current;
      let body: SubmissionBody;
      if (previous && previous.assignment === task.assignment && previous.substance === substance) body = previous.body;
      else {
        body = submissionBody(state, (performance.now() - startedAt.current) / 1000);
        lastAttempt.current = { assignment: task.assignment, substance, body };
      }
      busyRef.current = true;
      setBusy(true);
      announce("Submitting…");
      const result = await submitRanking(task.assignment, body, keyRef.current);
      busyRef.current = false;
      setBusy(false);
      if (result.kind === "submitted") {
        await loadNext({ tone: "success", text: "Ranking submitted." });
        return;
      }
      const { refusal } = result;
      if (refusal.status === 401) return onSignedOut();
      if (refusal.code === "lease_expired") return recover(state);
      setNotice({ tone: "error", text: refusal.message });
      announce(refusal.message);
    },
    [announce, confirm, loadNext, lost, onSignedOut, recover],
  );

  const skip = useCallback(
    async (state: RankingState) => {
      const task = taskRef.current;
      if (busyRef.current || !task) return;
      if (lost) return void loadNext(null);
      if (state.touched && confirm !== "skip") {
        setConfirm("skip");
        setNotice({ tone: "warning", text: "Skipping drops the ranking you made. Press s or Skip again to skip this set." });
        return;
      }
      setConfirm(null);
      busyRef.current = true;
      setBusy(true);
      const result = await skipAssignment(task.assignment);
      busyRef.current = false;
      setBusy(false);
      if (result.kind === "submitted") return void loadNext({ tone: "info", text: "Set skipped." });
      if (result.refusal.status === 401) return onSignedOut();
      setNotice({ tone: "error", text: result.refusal.message });
    },
    [confirm, loadNext, lost, onSignedOut],
  );

  const toggleExpand = useCallback(
    (id: CandidateId) => {
      const s = rankingRef.current;
      if (!s) return;
      const opening = !expanded.has(id);
      const next = new Set(expanded);
      if (opening) next.add(id);
      else next.delete(id);
      setExpanded(next);
      if (opening) commit(count(s, "expanded"));
    },
    [commit, expanded],
  );

  const toggleCompare = useCallback(
    (id: CandidateId) => {
      const s = rankingRef.current;
      if (!s) return;
      if (compare.includes(id)) {
        setCompare(compare.filter((c) => c !== id));
        announce(`Response ${responseNumber(s, id)} removed from the comparison.`);
        return;
      }
      const next = [...compare, id].slice(-2);
      setCompare(next);
      if (next.length === 2) {
        setCompareOpen(true);
        commit(count(s, "compared"));
      } else announce(`Response ${responseNumber(s, id)} picked for comparison: pick one more.`);
    },
    [announce, commit, compare],
  );

  const onDrop = useCallback(
    (id: CandidateId, target: DropTarget) => {
      const s = rankingRef.current;
      if (!s) return;
      const moved = target.kind === "tier" ? dropOnTier(s, id, target.index) : dropInGap(s, id, target.index);
      if (moved === s) return;
      const next = select(moved, id);
      commit(next);
      setConfirm(null);
      announce(describePlace(next, id));
    },
    [announce, commit],
  );

  // Keyboard shortcuts, on the whole page except while typing or in a dialog.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => {});
  onKey.current = (event: KeyboardEvent) => {
    if (event.defaultPrevented || isTypingTarget(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const command = commandFor(event);
    if (!command || phase.kind !== "task") return;
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (command.kind === "submit" && target?.closest("button, a, summary")) return;
    const start = rankingRef.current;
    if (!start) return;
    event.preventDefault();
    const s = count(start, "keys");
    commit(s);
    const selected = s.selected;
    switch (command.kind) {
      case "select": {
        const id = candidateForNumber(s, command.number);
        if (id === null) return announce(`There is no response ${command.number}.`);
        commit(select(s, id));
        pendingFocus.current = id;
        return announce(`Selected. ${describePlace(s, id)}`);
      }
      case "up":
      case "down":
      case "tie":
      case "split":
        if (selected === null) return announce("Select a response first: press its number.");
        return applyMove(s, selected, command.kind);
      case "submit":
        return void submit(s);
      case "skip":
        return void skip(s);
      case "help":
        return setShowHelp(true);
      case "guidelines":
        return setGuidelinesOpen((open) => !open);
      case "expand":
        if (selected === null) return announce("Select a response first: press its number.");
        return toggleExpand(selected);
      case "compare":
        if (selected === null) return announce("Select a response first: press its number.");
        return toggleCompare(selected);
      case "escape":
        commit(select(s, null));
        return announce("Selection cleared.");
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  const task = phase.kind === "task" ? phase.task : null;
  const byId = new Map<number, Candidate>((task?.candidates ?? []).map((c) => [c.id, c]));
  const criteria = project?.criteria ?? { flags: [], ratings: [] };
  const k = task?.candidates.length ?? 0;

  const renderCard = (id: CandidateId, tierIndex: number) => {
    const s = ranking as RankingState;
    const candidate = byId.get(id);
    if (!candidate) return null;
    const tier = s.tiers[tierIndex] ?? [];
    return (
      <ResponseCard
        candidate={candidate}
        number={responseNumber(s, id)}
        place={`Tier ${tierIndex + 1} of ${s.tiers.length}${tier.length > 1 ? " · tied" : ""}`}
        tierIndex={tierIndex}
        tierCount={s.tiers.length}
        tied={tier.length > 1}
        selected={s.selected === id}
        long={isLong(candidate.text)}
        expanded={expanded.has(id)}
        comparing={compare.includes(id)}
        allowTies={s.allowTies}
        criteria={criteria}
        flags={s.flags[String(id)] ?? []}
        ratings={s.ratings[String(id)] ?? {}}
        onSelect={() => {
          const current = rankingRef.current;
          if (current && current.selected !== id) commit(select(current, id));
        }}
        onMove={(move) => {
          const current = rankingRef.current;
          if (current) applyMove(current, id, move);
        }}
        onToggleExpand={() => toggleExpand(id)}
        onToggleCompare={() => toggleCompare(id)}
        onFlag={(flag) => {
          const current = rankingRef.current;
          if (current) commit(toggleFlag(current, id, flag));
        }}
        onRating={(dimension, value) => {
          const current = rankingRef.current;
          if (current) commit(setRating(current, id, dimension, value));
        }}
      />
    );
  };

  const placeOf = (id: number) => {
    const s = rankingRef.current;
    if (!s) return "";
    const at = tierOf(s, id);
    return `Tier ${at + 1} of ${s.tiers.length}`;
  };

  return (
    <div className="workspace">
      <div className="workspace-head">
        <div>
          <p className="breadcrumb">
            <a href="#/projects">Projects</a> <span aria-hidden="true">›</span>
          </p>
          <h1>{project ? project.name : "Ranking"}</h1>
          {task && (
            <p className="set-info">
              Set {task.candidateSet} · {k} responses{project?.allowTies ? " · ties allowed" : " · no ties"}
            </p>
          )}
        </div>
        <div className="workspace-tools">
          {task && <LeaseTimer key={task.leaseExpiresAt.getTime()} expiresAt={task.leaseExpiresAt} />}
          <button type="button" className="secondary" onClick={() => setShowHelp(true)} aria-keyshortcuts="?">
            Shortcuts <kbd aria-hidden="true">?</kbd>
          </button>
        </div>
      </div>

      <div className="live visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <div className="notice-area" aria-live="polite">
        {notice && (
          <div className={`notice notice-${notice.tone}`} role={notice.tone === "error" ? "alert" : undefined}>
            <p>{notice.text}</p>
            {lost && (
              <button type="button" onClick={() => (lost.next ? startTask(lost.next, null) : void loadNext(null))}>
                Go to the next set
              </button>
            )}
          </div>
        )}
      </div>

      {phase.kind === "loading" && <p role="status" className="loading">Getting the next set…</p>}
      {phase.kind === "failed" && (
        <div className="notice notice-error" role="alert">
          <p>Could not get a set to rank: {phase.message}</p>
          <button type="button" onClick={() => void loadNext(null)}>Try again</button>
        </div>
      )}
      {phase.kind === "done" && (
        <section className="all-done panel" aria-labelledby="done-heading">
          <h2 id="done-heading">All done</h2>
          <p>There are no more sets for you to rank in this project right now. Thank you!</p>
          <p>
            <button type="button" onClick={() => void loadNext(null)}>Check again</button>{" "}
            <a href="#/projects">Back to the projects</a>
          </p>
        </section>
      )}

      {task && ranking && (
        <div className="workspace-body">
          <aside className="workspace-context" aria-label="Prompt and guidelines">
            <PromptView messages={task.prompt} />
            <GuidelinesPanel guidelines={project?.guidelines ?? ""} open={guidelinesOpen} onToggle={() => setGuidelinesOpen(!guidelinesOpen)} />
          </aside>
          <section className="workspace-ranking" aria-labelledby="board-heading" data-untouched={!ranking.touched || undefined}>
            <h2 id="board-heading" tabIndex={-1}>
              Rank the responses, best first
            </h2>
            <p className="hint board-hint" id="board-hint">
              {ranking.touched ? "" : "Untouched: the responses are in the order shown. "}
              Press <kbd>1</kbd>–<kbd>{Math.min(9, k)}</kbd> to select, <kbd>↑</kbd>/<kbd>↓</kbd> to move
              {ranking.allowTies ? <>, <kbd>t</kbd> to tie with the tier above, <kbd>u</kbd> to untie</> : null}; or drag a
              response by its title{ranking.allowTies ? " (onto a tier to tie)" : ""}.
            </p>
            {ranking.suggestion && (
              <SuggestionLine
                text={suggestionText(ranking)}
                applied={ranking.appliedSuggestion}
                showing={showsSuggestion(ranking)}
                onApply={() => {
                  const current = rankingRef.current;
                  if (!current) return;
                  const next = applySuggestion(current);
                  if (next === current) return;
                  commit(next);
                  setConfirm(null);
                  announce(`Suggested order applied: ${suggestionText(next)}. You can still change it.`);
                }}
              />
            )}
            <RankingBoard
              state={ranking}
              renderCard={renderCard}
              onDrop={onDrop}
              onDragStart={(id) => {
                const current = rankingRef.current;
                if (current) commit(select(current, id));
              }}
            />
            <div className="submit-panel panel">
              <label className="check all-bad">
                <input
                  type="checkbox"
                  checked={ranking.notRankable}
                  onChange={(e) => {
                    const current = rankingRef.current;
                    if (current) commit(setNotRankable(current, e.target.checked));
                  }}
                />
                All responses are bad: none can be ranked
              </label>
              <div className="field">
                <label htmlFor="rationale">Rationale (optional)</label>
                <textarea
                  id="rationale"
                  rows={3}
                  value={ranking.rationale}
                  onChange={(e) => {
                    const current = rankingRef.current;
                    if (current) commit(setRationale(current, e.target.value));
                  }}
                />
              </div>
            </div>
          </section>
        </div>
      )}

      {task && ranking && (
        <div className="action-bar" role="region" aria-label="Submit">
          <p className="ranking-summary">{summary(ranking)}</p>
          <div className="actions">
            <button type="button" className="secondary" disabled={busy} onClick={() => void skip(rankingRef.current ?? ranking)} aria-keyshortcuts="s">
              {lost ? "Next set" : "Skip"} <kbd aria-hidden="true">s</kbd>
            </button>
            <button id="submit-button" type="button" disabled={busy || lost !== null} onClick={() => void submit(rankingRef.current ?? ranking)} aria-keyshortcuts="Enter">
              {busy ? "Submitting…" : confirm === "submit-untouched" ? "Submit as shown" : "Submit ranking"} <kbd aria-hidden="true">Enter</kbd>
            </button>
          </div>
        </div>
      )}

      {showHelp && <ShortcutsDialog onClose={() => setShowHelp(false)} />}
      {compareOpen && compare.length === 2 && byId.get(compare[0] as number) && byId.get(compare[1] as number) && ranking && (
        <CompareView
          left={byId.get(compare[0] as number) as Candidate}
          right={byId.get(compare[1] as number) as Candidate}
          numberOf={(id) => responseNumber(ranking, id)}
          placeOf={placeOf}
          onClose={() => {
            setCompareOpen(false);
            setCompare([]);
          }}
        />
      )}
    </div>
  );
}
