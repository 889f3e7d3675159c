/** Admin: the training runs with their status and progress, and the "Start a run" form. */

import { useCallback, useEffect } from "react";
import { fetchDatasets, fetchModels, fetchRuns } from "../review/reviewApi";
import { dateTime } from "../review/resource";
import { isActive, progressText } from "../review/runs";
import { useLoaded } from "../review/useLoaded";
import { LoadNotice } from "./LoadNotice";
import { StartRunForm } from "./StartRunForm";

export function RunsPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [runs, reloadRuns] = useLoaded(() => fetchRuns(), "runs", onSignedOut);
  const [datasets] = useLoaded(() => fetchDatasets(), "datasets", onSignedOut);
  const [models] = useLoaded(() => fetchModels(), "models", onSignedOut);
  useEffect(() => {
    document.title = "Training runs · Flywheel";
  }, []);
  // While any run is queued or running, refresh the list every few seconds.
  const anyActive = runs?.kind === "loaded" && runs.value.results.some((r) => isActive(r.status));
  useEffect(() => {
    if (!anyActive) return;
    const timer = window.setInterval(reloadRuns, 4000);
    return () => window.clearInterval(timer);
  }, [anyActive, reloadRuns]);
  const onStarted = useCallback(() => reloadRuns(), [reloadRuns]);

  return (
    <section aria-labelledby="runs-heading">
      <h1 id="runs-heading">Training runs</h1>
      <p className="hint">
        See also the <a href="#/models">models and their lineage</a>.
      </p>
      {datasets?.kind === "loaded" && models?.kind === "loaded" ? (
        <StartRunForm
          datasets={datasets.value.results}
          models={models.value.results}
          onStarted={onStarted}
          onSignedOut={onSignedOut}
        />
      ) : (
        <LoadNotice state={datasets?.kind === "failed" ? datasets : models} what="the datasets and models for a new run" />
      )}
      <h2>Runs</h2>
      <LoadNotice state={runs} what="the runs" />
      {runs?.kind === "loaded" &&
        (runs.value.results.length === 0 ? (
          <p>No runs yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table runs-table">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Dataset</th>
                  <th scope="col">Base → output</th>
                  <th scope="col">Created</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {runs.value.results.map((r) => (
                  <tr key={r.id} data-run-id={r.id}>
                    <td>
                      <a href={`#/runs/${r.id}`}>Run #{r.id}</a>
                    </td>
                    <td>{r.kind.toUpperCase()}</td>
                    <td>
                      <span className={`status status-${r.status}`}>{r.status}</span>
                    </td>
                    <td>{progressText(r)}</td>
                    <td>
                      <a href={`#/datasets/${r.dataset}`}>#{r.dataset}</a>
                    </td>
                    <td>
                      #{r.baseModel}
                      {r.rewardModel !== null ? ` (reward #${r.rewardModel})` : ""} → {r.outputModel !== null ? `#${r.outputModel}` : "–"}
                    </td>
                    <td>{dateTime(r.createdAt)}</td>
                    <td>{dateTime(r.finishedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
