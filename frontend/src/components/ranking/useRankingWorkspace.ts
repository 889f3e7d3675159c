/**
 * The ranking workspace's state (../../ranking/workspace.ts) wired to the API, the keyboard,
 * focus and the live region. The state is held in a ref as well as in React state so that two
 * keys pressed before React re-renders each act on the other's result.
 *
 * Lease expiry: a 409 `lease_expired` on submit keeps the ranking on screen and asks for the
 * next task; when the same candidate set comes back the ranking is carried over to it and can be
 * submitted again; otherwise the ranking stays visible (not submittable) with an explanation.
 *
 * Leaving: the lease on screen is given back when the workspace goes away (another page of the
 * app, or the tab closed or reloaded; a reload then takes the set again, in the same order), so
 * a tab nobody looks at does not hold a set, and the loop's round, for 30 minutes (issue 18).
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { fetchNextTask, fetchProject, releaseAssignment, skipAssignment, submitRanking } from "../../api";
import { commandFor, isTypingTarget } from "../../ranking/keyboard";
import {
  type Notice,
  type WorkspaceState,
  allDone,
  announce,
  initialWorkspace,
  leaseExpired,
  loadFailed,
  loading,
  onCommand,
  projectLoaded,
  recovered,
  requestSkip,
  requestSubmit,
  settled,
  startTask,
  taskOf,
} from "../../ranking/workspace";
import type { Task } from "../../task";
import { newUuid } from "../../uuid";

export type Update = (change: (s: WorkspaceState) => WorkspaceState) => void;

export interface RankingWorkspace {
  state: WorkspaceState;
  /** What the polite live region says now. */
  announcement: string;
  update: Update;
  loadNext: (notice: Notice | null) => Promise<void>;
  openTask: (task: Task) => void;
  submit: () => Promise<void>;
  skip: () => Promise<void>;
}

export function useRankingWorkspace(projectId: number, onSignedOut: () => void): RankingWorkspace {
  const store = useRef<WorkspaceState>(initialWorkspace());
  const [state, setState] = useState(store.current);
  const [announcement, setAnnouncement] = useState("");

  const update = useCallback<Update>((change) => {
    const next = change(store.current);
    if (next === store.current) return;
    store.current = next;
    setState(next);
  }, []);

  const openTask = useCallback(
    (task: Task, notice: Notice | null = null) => update((s) => startTask(s, task, notice, newUuid(), performance.now())),
    [update],
  );

  const loadNext = useCallback(
    async (notice: Notice | null) => {
      update(loading);
      const result = await fetchNextTask(projectId);
      if (result.kind === "task") openTask(result.task, notice);
      else if (result.kind === "done") update((s) => allDone(s, notice));
      else if (result.refusal.status === 401) onSignedOut();
      else update((s) => loadFailed(s, result.refusal.message));
    },
    [onSignedOut, openTask, projectId, update],
  );

  useEffect(() => {
    let live = true;
    void fetchProject(projectId).then((answer) => {
      if (!live) return;
      if (answer.kind === "signed-out") return onSignedOut();
      if (answer.kind === "failed") return update((s) => loadFailed(s, answer.message));
      update((s) => projectLoaded(s, answer.project));
      document.title = `Rank · ${answer.project.name} · Flywheel`;
      void loadNext(null);
    });
    return () => {
      live = false;
    };
  }, [projectId, loadNext, onSignedOut, update]);

  const held = useRef<number | null>(null);
  held.current = taskOf(state)?.assignment ?? null;
  useEffect(() => {
    const release = () => {
      if (held.current !== null) releaseAssignment(held.current);
      held.current = null;
    };
    window.addEventListener("pagehide", release);
    return () => {
      window.removeEventListener("pagehide", release);
      release();
    };
  }, []);

  // Clear first, so the same sentence twice is announced twice.
  const said = state.said;
  useEffect(() => {
    if (!said) return;
    setAnnouncement("");
    const timer = window.setTimeout(() => setAnnouncement(said.text), 30);
    return () => window.clearTimeout(timer);
  }, [said]);

  // Focus follows the selected response after it moves (it may have changed tier).
  const focus = state.focus;
  useEffect(() => {
    if (!focus) return;
    const { target } = focus;
    const element =
      target === "board"
        ? document.getElementById("board-heading")
        : target === "submit"
          ? document.getElementById("submit-button")
          : document.querySelector<HTMLElement>(`[data-candidate-id="${target}"]`);
    element?.focus({ preventScroll: true });
    element?.scrollIntoView?.({ block: "nearest" });
  }, [focus]);

  const recover = useCallback(async () => {
    update(leaseExpired);
    const result = await fetchNextTask(projectId);
    const outcome = recovered(store.current, result, newUuid());
    if (outcome === "signed-out") onSignedOut();
    else update(() => outcome);
  }, [onSignedOut, projectId, update]);

  const submit = useCallback(async () => {
    const { state: asked, send } = requestSubmit(store.current, performance.now());
    update(() => asked);
    if (!send) return;
    const result = await submitRanking(send.assignment, send.body, send.idempotencyKey);
    update((s) => settled(s));
    if (result.kind === "submitted") return loadNext({ tone: "success", text: "Ranking submitted." });
    const { refusal } = result;
    if (refusal.status === 401) return onSignedOut();
    if (refusal.code === "lease_expired") return recover();
    update((s) => announce(settled(s, refusal.message), refusal.message));
  }, [loadNext, onSignedOut, recover, update]);

  const skip = useCallback(async () => {
    const { state: asked, then } = requestSkip(store.current);
    update(() => asked);
    if (!then) return;
    if (then.kind === "next") return loadNext(null);
    const result = await skipAssignment(then.assignment);
    if (result.kind === "submitted") {
      update((s) => settled(s));
      return loadNext({ tone: "info", text: "Set skipped." });
    }
    if (result.refusal.status === 401) return onSignedOut();
    update((s) => settled(s, result.refusal.message));
  }, [loadNext, onSignedOut, update]);

  // Keyboard shortcuts, on the whole page except while typing or in a dialog.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => {});
  onKey.current = (event: KeyboardEvent) => {
    if (event.defaultPrevented || isTypingTarget(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const command = commandFor(event);
    const s = store.current;
    if (!command || !taskOf(s) || !s.ranking) return;
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (command.kind === "submit" && target?.closest("button, a, summary")) return;
    event.preventDefault();
    const { state: next, then } = onCommand(s, command);
    update(() => next);
    if (then === "submit") void submit();
    else if (then === "skip") void skip();
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  return { state, announcement, update, loadNext, openTask, submit, skip };
}
