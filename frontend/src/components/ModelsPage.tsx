/** Admin: every model version in its lineage: parent → children as an indented tree, and for
 * each the run and dataset that produced it and the runs and generation jobs that use it. */

import { useEffect } from "react";
import { lineageTree } from "../review/models";
import { fetchModels } from "../review/reviewApi";
import { useLoaded } from "../review/useLoaded";
import { LoadNotice } from "./LoadNotice";

export function ModelsPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [models] = useLoaded(() => fetchModels(), "models", onSignedOut);
  useEffect(() => {
    document.title = "Models · Flywheel";
  }, []);
  return (
    <section aria-labelledby="models-heading">
      <h1 id="models-heading">Models and lineage</h1>
      <p className="hint">Each model under the one it was trained from; dataset → run → model beside it.</p>
      <LoadNotice state={models} what="the models" />
      {models?.kind === "loaded" &&
        (models.value.results.length === 0 ? (
          <p>No models registered yet.</p>
        ) : (
          <ul className="lineage-tree">
            {lineageTree(models.value.results).map(({ model: m, depth }) => (
              <li key={m.id} id={`model-${m.id}`} style={{ marginLeft: `${depth * 1.75}rem` }} className="panel lineage-node">
                <p>
                  {depth > 0 && <span aria-hidden="true">└ </span>}
                  <strong>{m.name}</strong> <span className={`kind kind-${m.kind}`}>{m.kind}</span>{" "}
                  <span className="hint">#{m.id}</span>
                </p>
                <p className="lineage-facts">
                  {m.producedBy !== null ? (
                    <>
                      Trained on dataset {m.dataset !== null ? <a href={`#/datasets/${m.dataset}`}>#{m.dataset}</a> : "?"} by{" "}
                      <a href={`#/runs/${m.producedBy}`}>run #{m.producedBy}</a>
                      {m.parent !== null && <> from model #{m.parent}</>}.
                    </>
                  ) : (
                    <>Registered{m.parent !== null ? ` (from model #${m.parent})` : ""}.</>
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
                      {m.generationJobs.length} generation job{m.generationJobs.length === 1 ? "" : "s"}, {m.candidatesGenerated} candidates.
                    </>
                  )}
                </p>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}
