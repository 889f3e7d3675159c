/** Admin: every model version in its lineage: the graph of datasets → runs → models →
 * generation jobs, and below it each model's facts (what produced it, which base an adapter
 * applies to, what uses it) and, on an adapter version, the "Merge" action. `#/models/:id` picks
 * a model out in both. */

import { useEffect, useMemo, useRef } from "react";
import { lineageGraph } from "../../review/lineage";
import type { Loaded } from "../../review/resource";
import { fetchAllDatasets, fetchAllGenerationJobs, fetchAllRuns, fetchModels } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import { LineageGraph } from "./LineageGraph";
import { MergeAction } from "./MergeAction";
import { RegisterModelForm } from "./RegisterModelForm";
import { LoadNotice } from "../shared/LoadNotice";

/** The rows of a list that loaded, or none (the graph is drawn from the models alone). */
function rows<T>(state: Loaded<{ results: T[] }> | null): T[] {
  return state?.kind === "loaded" ? state.value.results : [];
}

export function ModelsPage({ modelId, onSignedOut }: { modelId: number | undefined; onSignedOut: () => void }) {
  const [models, reloadModels] = useLoaded(() => fetchModels(), "models", onSignedOut);
  const [runs] = useLoaded(() => fetchAllRuns(), "all-runs", onSignedOut);
  const [jobs] = useLoaded(() => fetchAllGenerationJobs(), "all-jobs", onSignedOut);
  const [datasets] = useLoaded(() => fetchAllDatasets(), "all-datasets", onSignedOut);
  const picked = useRef<HTMLLIElement>(null);
  useEffect(() => {
    document.title = "Models · Flywheel";
  }, []);
  const ready = models?.kind === "loaded" && runs !== null && jobs !== null && datasets !== null;
  const graph = useMemo(
    () =>
      ready ? lineageGraph({ models: rows(models), runs: rows(runs), jobs: rows(jobs), datasets: rows(datasets) }) : null,
    [ready, models, runs, jobs, datasets],
  );
  useEffect(() => {
    if (modelId !== undefined && graph) picked.current?.focus();
  }, [modelId, graph]);
  const missing = [runs, jobs, datasets].find((s) => s?.kind === "failed");
  const modelName = new Map(rows(models).map((m) => [m.id, m.name]));

  return (
    <section aria-labelledby="models-heading">
      <h1 id="models-heading">Models and lineage</h1>
      <p className="hint">Dataset → run → model, left to right; a model's generation jobs to its right. Select a box to open it.</p>
      <RegisterModelForm models={rows(models)} onRegistered={reloadModels} onSignedOut={onSignedOut} />
      <LoadNotice state={models} what="the models" />
      {missing?.kind === "failed" && (
        <p className="hint" role="status">
          Part of the lineage could not be loaded ({missing.message}); the graph shows what the models say.
        </p>
      )}
      {models?.kind === "loaded" && models.value.results.length === 0 && <p>No models registered yet.</p>}
      {graph && graph.nodes.length > 0 && <LineageGraph graph={graph} selected={modelId === undefined ? null : `model-${modelId}`} />}
      {models?.kind === "loaded" && models.value.results.length > 0 && (
        <>
          <h2>Models</h2>
          <ul className="lineage-list">
            {[...models.value.results]
              .sort((a, b) => a.id - b.id)
              .map((m) => (
                <li
                  key={m.id}
                  id={`model-${m.id}`}
                  ref={m.id === modelId ? picked : undefined}
                  tabIndex={m.id === modelId ? -1 : undefined}
                  className={`panel lineage-node${m.id === modelId ? " selected" : ""}`}
                >
                  <p>
                    <strong>{m.name}</strong> <span className={`kind kind-${m.kind}`}>{m.kind}</span>{" "}
                    <span className="hint">#{m.id}</span>
                  </p>
                  <p className="lineage-facts">
                    {m.adapterBase !== null && (
                      <>
                        Adapter of <a href={`#/models/${m.adapterBase}`}>{modelName.get(m.adapterBase) ?? `model #${m.adapterBase}`}</a>.{" "}
                      </>
                    )}
                    {m.endpoint !== null && (
                      <>
                        Served by an OpenAI-compatible endpoint: {m.endpoint.model} at {m.endpoint.baseUrl}.{" "}
                      </>
                    )}
                    {m.producedBy !== null ? (
                      <>
                        Trained on dataset {m.dataset !== null ? <a href={`#/datasets/${m.dataset}`}>#{m.dataset}</a> : "?"} by{" "}
                        <a href={`#/runs/${m.producedBy}`}>run #{m.producedBy}</a>
                        {m.parent !== null && (
                          <>
                            {" "}
                            from <a href={`#/models/${m.parent}`}>model #{m.parent}</a>
                          </>
                        )}
                        .
                      </>
                    ) : (
                      <>
                        Registered
                        {m.parent !== null && (
                          <>
                            {" "}
                            (from <a href={`#/models/${m.parent}`}>model #{m.parent}</a>)
                          </>
                        )}
                        .
                      </>
                    )}{" "}
                    {m.usedByRuns.length > 0 && (
                      <>
                        Used by{" "}
                        {m.usedByRuns.map((r, i) => (
                          <span key={r}>
                            {i > 0 && ", "}
                            <a href={`#/runs/${r}`}>run #{r}</a>
                          </span>
                        ))}
                        .{" "}
                      </>
                    )}
                    {m.generationJobs.length > 0 && (
                      <>
                        {m.generationJobs.length} generation job{m.generationJobs.length === 1 ? "" : "s"}, {m.candidatesGenerated}{" "}
                        candidates.
                      </>
                    )}
                  </p>
                  {m.adapterBase !== null && <MergeAction model={m} onMerged={reloadModels} onSignedOut={onSignedOut} />}
                </li>
              ))}
          </ul>
        </>
      )}
    </section>
  );
}
