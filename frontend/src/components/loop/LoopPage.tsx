/**
 * A project's feedback loop: the current policy, every round with its steps (live every 2 s
 * while one runs), each round's evaluation as a table and a chart across rounds, the
 * Bradley–Terry leaderboard of the model versions, and the loop's settings. Admins start a
 * round, retry a failed one, promote or reject the policy of an unconfirmed one (or of one still
 * waiting for its blind human A/B), change the settings and whether annotators see the AI
 * suggestion; reviewers read all of it.
 */

import { useCallback, useEffect, useState } from "react";
import type { ProjectSummary } from "../../projects";
import type { LeaderboardSource } from "../../review/leaderboard";
import { type LoopRound, ROUND_POLL_MS, anyRoundRunning, roundSeries } from "../../review/loop";
import { adapterFields, adapterSummary } from "../../review/loopAdapter";
import type { LoopSettings } from "../../review/loopSettings";
import type { Loaded } from "../../review/resource";
import {
  decideRound,
  fetchLeaderboard,
  fetchLoop,
  fetchLoopWaiting,
  fetchModels,
  fetchProjectSummary,
  fetchRounds,
  fetchRunKinds,
  retryRound,
  startRound,
} from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import type { Me } from "../../session";
import { LeaderboardSection } from "./Leaderboard";
import { LoadNotice } from "../shared/LoadNotice";
import { LoopSettingsForm } from "./LoopSettingsForm";
import { LoopSettingsSummary } from "./LoopSettingsSummary";
import { RoundEvaluationTable } from "./RoundEvaluationTable";
import { RoundsChart } from "./RoundsChart";
import { ModelRef, type Refs, RoundsTable } from "./RoundsTable";
import { SuggestionToggle } from "./SuggestionToggle";
import { RoundWaitingPanel } from "./RoundWaitingPanel";
import { useRoundDetails } from "./useRoundDetails";

// How often the "Waiting for" panel asks again (leases come and go as annotators work).
const WAITING_POLL_MS = 5000;

type Notice = { tone: "info" | "error"; text: string } | null;

export function LoopPage({ projectId, me, onSignedOut }: { projectId: number; me: Me; onSignedOut: () => void }) {
  const isAdmin = me.role === "admin";
  const [project] = useLoaded(() => fetchProjectSummary(projectId), `project-${projectId}`, onSignedOut);
  const [projectOverride, setProjectOverride] = useState<ProjectSummary | null>(null);
  const [loop, reloadLoop] = useLoaded(() => fetchLoop(projectId), `loop-${projectId}`, onSignedOut);
  const [savedSettings, setSavedSettings] = useState<LoopSettings | null>(null);
  const [rounds, reloadRounds] = useLoaded(() => fetchRounds(projectId), `rounds-${projectId}`, onSignedOut);
  const [kinds] = useLoaded(() => fetchRunKinds(), "run-kinds", onSignedOut);
  const [source, setSource] = useState<LeaderboardSource>("rm");
  const roundList = rounds?.kind === "loaded" ? rounds.value : null;
  // Names of the model versions (an admin's list): read again when a round names a newer one.
  const newestModel = Math.max(0, ...(roundList ?? []).flatMap((r) => [r.basePolicy ?? 0, r.rewardModel ?? 0, r.policyModel ?? 0]));
  const [models] = useLoaded(
    () => (isAdmin ? fetchModels() : Promise.resolve({ kind: "loaded" as const, value: { count: 0, results: [] } })),
    `models-${isAdmin}-${isAdmin ? newestModel : 0}`,
    onSignedOut,
  );
  const finished = roundList ? roundList.filter((r) => r.status !== "running").map((r) => `${r.id}${r.status}`).join(",") : "";
  const [board] = useLoaded(() => fetchLeaderboard(projectId, source), `board-${projectId}-${source}-${finished}`, onSignedOut);
  const details = useRoundDetails(roundList, onSignedOut);
  const [notice, setNotice] = useState<Notice>(null);
  const [starting, setStarting] = useState(false);
  const [retrying, setRetrying] = useState<number | null>(null);
  const [deciding, setDeciding] = useState<number | null>(null);

  const projectValue = projectOverride ?? (project?.kind === "loaded" ? project.value : null);
  const settings: LoopSettings | null = savedSettings ?? (loop?.kind === "loaded" ? loop.value : null);
  const name = projectValue?.name ?? `Project ${projectId}`;
  useEffect(() => {
    document.title = `${name}: loop · Flywheel`;
  }, [name]);

  const roundsKey = roundList ? roundList.map((r) => `${r.id}${r.status}`).join(",") : "";
  const [waitingFor, reloadWaiting] = useLoaded(() => fetchLoopWaiting(projectId), `waiting-${projectId}-${roundsKey}`, onSignedOut);
  useEffect(() => {
    const timer = window.setInterval(reloadWaiting, WAITING_POLL_MS);
    return () => window.clearInterval(timer);
  }, [reloadWaiting]);

  const running = roundList !== null && anyRoundRunning(roundList);
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(reloadRounds, ROUND_POLL_MS);
    return () => window.clearInterval(timer);
  }, [running, reloadRounds]);

  const names = new Map<number, string>();
  if (models?.kind === "loaded") for (const m of models.value.results) names.set(m.id, m.name);
  if (board?.kind === "loaded") for (const e of board.value.entries) names.set(e.modelVersion, e.name);
  const refs: Refs = { isAdmin, projectId, modelName: (id) => names.get(id) ?? `model #${id}` };

  const start = useCallback(async () => {
    setStarting(true);
    setNotice(null);
    const result = await startRound(projectId);
    setStarting(false);
    if (result.kind === "signed-out") return onSignedOut();
    if (result.kind === "loaded") {
      setNotice({ tone: "info", text: `Round ${result.value.number} started.` });
      reloadRounds();
    } else setNotice({ tone: "error", text: `Could not start a round: ${result.message}` });
  }, [projectId, onSignedOut, reloadRounds]);

  const retry = useCallback(
    async (round: LoopRound) => {
      setRetrying(round.id);
      setNotice(null);
      const result = await retryRound(round.id);
      setRetrying(null);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setNotice({ tone: "info", text: `Round ${round.number} resumes at the ${result.value.step} step.` });
        reloadRounds();
      } else setNotice({ tone: "error", text: `Could not retry round ${round.number}: ${result.message}` });
    },
    [onSignedOut, reloadRounds],
  );

  const decide = useCallback(
    async (round: LoopRound, promote: boolean) => {
      setDeciding(round.id);
      setNotice(null);
      const result = await decideRound(round.id, promote);
      setDeciding(null);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setNotice({
          tone: "info",
          text: promote
            ? `Round ${round.number}'s policy is now the current policy; the round goes on to generate.`
            : `Round ${round.number}'s policy was rejected; nothing was promoted.`,
        });
        setSavedSettings(null); // the current policy may have changed
        reloadLoop();
        reloadRounds();
      } else setNotice({ tone: "error", text: `Could not decide round ${round.number}: ${result.message}` });
    },
    [onSignedOut, reloadLoop, reloadRounds],
  );

  const evaluated = (roundList ?? []).filter((r) => r.evaluation.reward || r.evaluation.policy || r.evaluation.winRate);
  const waiting = (roundList ?? []).find((r) => r.status === "awaiting_decision");
  const series = roundSeries(roundList ?? []);

  return (
    <section aria-labelledby="loop-heading" className="loop-page">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> › <a href={`#/projects/${projectId}/dashboard`}>Dashboard</a> ·{" "}
        <a href={`#/projects/${projectId}/sets`}>Sets</a> · <a href={`#/projects/${projectId}/generate`}>Generation jobs</a>
      </p>
      <h1 id="loop-heading">{name}: loop</h1>
      <p className="loop-facts">
        Current policy:{" "}
        <strong data-current-policy={settings?.currentPolicy ?? ""}>
          {settings ? settings.currentPolicy === null ? "none registered yet" : <ModelRef id={settings.currentPolicy} refs={refs} /> : "…"}
        </strong>
        {settings && (
          <>
            {" "}
            · {settings.auto ? "rounds start automatically" : "rounds start by hand"} · policy step {settings.policyKind.toUpperCase()} ·{" "}
            <span data-adapter>{adapterSummary(settings.adapter, adapterFields(kinds?.kind === "loaded" ? kinds.value : []))}</span>
          </>
        )}
      </p>

      <div className="section-head">
        <h2 id="rounds-heading">
          Rounds {running && <span className="hint live-dot">· live, updates every 2 s</span>}
        </h2>
        {isAdmin && (
          <button type="button" onClick={() => void start()} disabled={starting || running || waiting !== undefined}>
            {starting ? "Starting…" : "Start round now"}
          </button>
        )}
      </div>
      {notice?.tone === "error" && (
        <p className="form-error round-notice" role="alert">
          {notice.text}
        </p>
      )}
      <p role="status" className="form-status">
        {notice?.tone === "info" ? notice.text : ""}
      </p>
      {waiting && (
        <p className="round-waiting" data-awaiting-decision={waiting.number}>
          <strong className="verdict-unconfirmed">Round {waiting.number} is unconfirmed</strong> and waits for a decision: no round starts until
          its policy is promoted or rejected.
        </p>
      )}
      {waitingFor?.kind === "loaded" && <RoundWaitingPanel waiting={waitingFor.value} isAdmin={isAdmin} />}
      <LoadNotice state={rounds} what="the rounds" />
      {roundList &&
        (roundList.length === 0 ? (
          <p>No rounds yet. A round snapshots the rankings, trains a reward model and the policy, evaluates it and generates the next candidates.</p>
        ) : (
          <RoundsTable
            rounds={roundList}
            aiFeedback={settings?.aiFeedback ?? false}
            humanEval={(settings?.humanEvalPrompts ?? 0) > 0}
            refs={refs}
            retrying={retrying}
            onRetry={(r) => void retry(r)}
            deciding={deciding}
            onDecide={(r, promote) => void decide(r, promote)}
          />
        ))}

      <h2 id="evaluation-heading">Evaluation</h2>
      {roundList && evaluated.length === 0 && <p className="hint">No round has been evaluated yet.</p>}
      {evaluated.length > 0 && <RoundEvaluationTable rounds={evaluated} details={details} isAdmin={isAdmin} />}
      <div className="loop-charts">
        {evaluated.length > 0 && <RoundsChart series={series} />}
        <LeaderboardSection board={board} source={source} onSource={setSource} isAdmin={isAdmin} />
      </div>

      <h2 id="settings-heading">Settings</h2>
      {projectValue && (
        <SuggestionToggle project={projectValue} isAdmin={isAdmin} onChanged={setProjectOverride} onSignedOut={onSignedOut} />
      )}
      {!settings && <LoadNotice state={loop} what="the loop settings" />}
      {settings && !isAdmin && <LoopSettingsSummary settings={settings} kinds={kinds?.kind === "loaded" ? kinds.value : []} />}
      {settings && isAdmin && kinds?.kind === "loaded" && (
        <LoopSettingsForm
          settings={settings}
          kinds={kinds.value}
          k={projectValue?.k ?? null}
          onSaved={setSavedSettings}
          onSignedOut={onSignedOut}
        />
      )}
      {settings && isAdmin && kinds?.kind !== "loaded" && <LoadNotice state={kinds as Loaded<unknown> | null} what="the run kinds" />}
    </section>
  );
}
