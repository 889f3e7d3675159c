/** Admin: one training run, live. Polls every 2 s while the run is queued or running: status,
 * progress bar, metric charts (whichever of loss, accuracy, reward margin, KL … it logs), a
 * reward run's diagnostics, the log tail; Cancel; and where it sits in the lineage (dataset →
 * run → model). */

import { useEffect, useMemo, useRef, useState } from "react";
import type { Loaded } from "../../review/resource";
import { dateTime } from "../../review/resource";
import { cancelRun, fetchRun } from "../../review/reviewApi";
import { type RunDetail, isActive, metricSeries, nextPollDelay, progressText } from "../../review/runs";
import { LineChart } from "../shared/LineChart";
import { LoadNotice } from "../shared/LoadNotice";
import { RewardDiagnosticsPanel } from "./RewardDiagnosticsPanel";
import { parseRewardDiagnostics } from "../../review/rewardDiagnostics";

function useLiveRun(runId: number, onSignedOut: () => void) {
  const [state, setState] = useState<Loaded<RunDetail> | null>(null);
  const [nonce, setNonce] = useState(0);
  const failures = useRef(0);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const tick = () => {
      void fetchRun(runId).then((next) => {
        if (!live) return;
        if (next.kind === "signed-out") return onSignedOut();
        failures.current = next.kind === "failed" ? failures.current + 1 : 0;
        // Keep showing the last good run while a poll fails (the server may be restarting).
        setState((prev) => (next.kind === "failed" && prev?.kind === "loaded" ? prev : next));
        if (next.kind === "failed" && next.status === 404) return;
        const delay = nextPollDelay(next.kind === "loaded" ? next.value : null, failures.current);
        if (delay !== null) timer = window.setTimeout(tick, delay);
      });
    };
    tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [runId, nonce, onSignedOut]);
  return [state, () => setNonce((n) => n + 1)] as const;
}

export function RunDetailPage({ runId, onSignedOut }: { runId: number; onSignedOut: () => void }) {
  const [state, refresh] = useLiveRun(runId, onSignedOut);
  const [cancelMessage, setCancelMessage] = useState("");
  const [cancelling, setCancelling] = useState(false);
  const run = state?.kind === "loaded" ? state.value : null;
  const series = useMemo(() => (run ? metricSeries(run.metrics) : []), [run]);
  const diagnostics = useMemo(() => (run?.kind === "reward" ? parseRewardDiagnostics(run.diagnostics) : null), [run]);

  useEffect(() => {
    document.title = `Run #${runId} · Flywheel`;
  }, [runId]);

  const cancel = () => {
    setCancelling(true);
    setCancelMessage("");
    void cancelRun(runId).then((result) => {
      setCancelling(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded")
        setCancelMessage(result.value.status === "cancelled" ? "Run cancelled." : "Cancel requested: the run stops at its next step.");
      else if (result.kind === "failed" && result.status === 409) setCancelMessage(`Not cancelled: ${result.message}`);
      else setCancelMessage(result.message);
      refresh();
    });
  };

  return (
    <section aria-labelledby="run-heading" className="run-detail">
      <p className="breadcrumb">
        <a href="#/runs">Training runs</a> ›
      </p>
      <h1 id="run-heading">
        Run #{runId}
        {run ? ` · ${run.kind.toUpperCase()}` : ""}
      </h1>
      {!run && <LoadNotice state={state} what="the run" />}
      {run && (
        <>
          <div className="run-status-bar panel">
            <p>
              Status:{" "}
              <strong className={`status status-${run.status}`} id="run-status" aria-live="polite">
                {run.status}
              </strong>
              {run.cancelRequested && isActive(run.status) && <span className="hint"> (cancel requested)</span>}
              {isActive(run.status) && <span className="hint live-dot"> · live, updates every 2 s</span>}
            </p>
            <div className="progress-line">
              <progress
                id="run-progress"
                max={1}
                value={run.totalSteps > 0 ? run.progress : undefined}
                aria-label="Training progress"
              />
              <span id="run-progress-text">{progressText(run)}</span>
            </div>
            <p className="hint">
              Created {dateTime(run.createdAt)} · finished {dateTime(run.finishedAt)}
            </p>
            {run.error && (
              <p className="form-error" role="alert">
                Error: {run.error}
              </p>
            )}
            <div className="actions">
              {/* A finished run has nothing to cancel: no greyed-out button (issue 18). */}
              {isActive(run.status) && (
                <button type="button" className="secondary" onClick={cancel} disabled={cancelling || run.cancelRequested}>
                  Cancel run
                </button>
              )}
              <p role="status" className="form-status">
                {cancelMessage}
              </p>
            </div>
          </div>

          <h2>Metrics</h2>
          {series.length === 0 ? (
            <p className="hint">No metrics logged yet.</p>
          ) : (
            <div className="chart-grid">
              {series.map((s) => (
                <LineChart key={s.key} id={s.key} title={s.label} points={s.points} />
              ))}
            </div>
          )}

          {diagnostics && <RewardDiagnosticsPanel diagnostics={diagnostics} />}

          <h2>Lineage</h2>
          <ol className="lineage-chain" aria-label="Lineage of this run">
            <li>
              Dataset <a href={`#/datasets/${run.dataset}`}>#{run.dataset}</a>
            </li>
            <li>
              Base model <a href={`#/models/${run.baseModel}`}>#{run.baseModel}</a>
              {run.rewardModel !== null && (
                <>
                  {" "}
                  + reward model <a href={`#/models/${run.rewardModel}`}>#{run.rewardModel}</a>
                </>
              )}
            </li>
            <li>This run ({run.kind.toUpperCase()})</li>
            <li>
              Output model{" "}
              {run.outputModel !== null ? <a href={`#/models/${run.outputModel}`}>#{run.outputModel}</a> : <span className="hint">not yet</span>}
            </li>
          </ol>

          <details className="panel">
            <summary>Config</summary>
            <pre className="code-block">{JSON.stringify(run.config, null, 2)}</pre>
          </details>
          <details className="panel" open={run.status === "failed"}>
            <summary>Log tail</summary>
            <pre className="code-block log-tail">{run.logTail || "(empty)"}</pre>
          </details>
        </>
      )}
    </section>
  );
}
