/** Admin: the training runs with their status and progress, and the "Start a run" form. */

import { useCallback, useEffect, useState } from "react";
import { fetchAllDatasets, fetchModels, fetchRunKinds, fetchRuns } from "../../review/reviewApi";
import { type Loaded, dateTime } from "../../review/resource";
import { isActive, progressText } from "../../review/runs";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";
import { ShowMore } from "../shared/ShowMore";
import { StartRunForm } from "./StartRunForm";

const PAGE = 50;

export function RunsPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [limit, setLimit] = useState(PAGE);
  const [runs, reloadRuns] = useLoaded(() => fetchRuns(limit), `runs-${limit}`, onSignedOut);
  const [datasets] = useLoaded(() => fetchAllDatasets(), "datasets", onSignedOut);
  const [models] = useLoaded(() => fetchModels(), "models", onSignedOut);
  const [kinds] = useLoaded(() => fetchRunKinds(), "run-kinds", onSignedOut);
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
      {datasets?.kind === "loaded" && models?.kind === "loaded" && kinds?.kind === "loaded" ? (
        <StartRunForm
          kinds={kinds.value}
          datasets={datasets.value.results}
          models={models.value.results}
          onStarted={onStarted}
          onSignedOut={onSignedOut}
        />
      ) : (
        <LoadNotice
          state={([datasets, models, kinds] as (Loaded<unknown> | null)[]).find((s) => s?.kind === "failed") ?? null}
          what="the run kinds, datasets and models for a new run"
        />
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
      {runs?.kind === "loaded" && (
        <ShowMore limit={limit} shown={runs.value.results.length} count={runs.value.count} step={PAGE} noun="runs" onMore={setLimit} />
      )}
    </section>
  );
}
