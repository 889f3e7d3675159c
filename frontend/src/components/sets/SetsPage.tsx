/** Reviewer/admin: a project's candidate sets, a page at a time, each linking to its review. */

import { useEffect, useState } from "react";
import { fetchProjectSummary, fetchSets } from "../../review/reviewApi";
import { promptPreview } from "../../review/sets";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";

const PAGE = 25;

export function SetsPage({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [offset, setOffset] = useState(0);
  const [sets] = useLoaded(() => fetchSets(projectId, PAGE, offset), `sets-${projectId}-${offset}`, onSignedOut);
  const [project] = useLoaded(() => fetchProjectSummary(projectId), `project-${projectId}`, onSignedOut);
  const name = project?.kind === "loaded" ? project.value.name : `Project ${projectId}`;
  useEffect(() => {
    document.title = `${name}: sets · Flywheel`;
  }, [name]);
  return (
    <section aria-labelledby="sets-heading">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> › <a href={`#/projects/${projectId}/dashboard`}>Dashboard</a>
      </p>
      <h1 id="sets-heading">{name}: candidate sets</h1>
      <LoadNotice state={sets} what="the sets" />
      {sets?.kind === "loaded" && (
        <>
          {sets.value.results.length === 0 ? (
            <p>No sets.</p>
          ) : (
            <div className="table-wrap">
              <table className="data-table sets-table">
                <thead>
                  <tr>
                    <th scope="col">Set</th>
                    <th scope="col">Prompt</th>
                    <th scope="col">Round</th>
                    <th scope="col">State</th>
                    <th scope="col">Rankings</th>
                  </tr>
                </thead>
                <tbody>
                  {sets.value.results.map((s) => (
                    <tr key={s.id} data-set-id={s.id}>
                      <td>
                        <a href={`#/sets/${s.id}`}>Set #{s.id}</a>
                      </td>
                      <td>{promptPreview(s.prompt)}</td>
                      <td>{s.round}</td>
                      <td>{s.state}</td>
                      <td>{s.rankingCount}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav className="pager" aria-label="Pages of sets">
            <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <span>
              {sets.value.count === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, sets.value.count)} of {sets.value.count}
            </span>
            <button type="button" className="secondary" disabled={offset + PAGE >= sets.value.count} onClick={() => setOffset(offset + PAGE)}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
