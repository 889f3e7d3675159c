/** A project's generation jobs: admins start one (model, which prompts, sampling, seed); everyone
 * who may review watches the list, which refreshes every 2 s while a job is queued or running. */

import { useCallback, useEffect, useState } from "react";
import { GENERATION_POLL_MS, anyJobActive } from "../../review/generation";
import { fetchGenerationJobs, fetchModels, fetchProjectSummary } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import type { Me } from "../../session";
import { LoadNotice } from "../shared/LoadNotice";
import { ShowMore } from "../shared/ShowMore";
import { GenerationJobsTable } from "./GenerationJobsTable";
import { StartGenerationForm } from "./StartGenerationForm";

const PAGE = 20;

export function GenerationPage({ projectId, me, onSignedOut }: { projectId: number; me: Me; onSignedOut: () => void }) {
  const isAdmin = me.role === "admin";
  const [limit, setLimit] = useState(PAGE);
  const [project] = useLoaded(() => fetchProjectSummary(projectId), `project-${projectId}`, onSignedOut);
  const [jobs, reloadJobs] = useLoaded(() => fetchGenerationJobs(projectId, limit), `jobs-${projectId}-${limit}`, onSignedOut);
  const [models] = useLoaded(
    () => (isAdmin ? fetchModels() : Promise.resolve({ kind: "loaded" as const, value: { count: 0, results: [] } })),
    `models-${isAdmin}`,
    onSignedOut,
  );
  const name = project?.kind === "loaded" ? project.value.name : `Project ${projectId}`;
  useEffect(() => {
    document.title = `${name}: generation · Flywheel`;
  }, [name]);
  const active = jobs?.kind === "loaded" && anyJobActive(jobs.value.results);
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(reloadJobs, GENERATION_POLL_MS);
    return () => window.clearInterval(timer);
  }, [active, reloadJobs]);
  const onStarted = useCallback(() => reloadJobs(), [reloadJobs]);

  return (
    <section aria-labelledby="generation-heading">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> › <a href={`#/projects/${projectId}/dashboard`}>Dashboard</a> ·{" "}
        <a href={`#/projects/${projectId}/sets`}>Sets</a>
      </p>
      <h1 id="generation-heading">{name}: generation</h1>
      {isAdmin &&
        (project?.kind === "loaded" && models?.kind === "loaded" ? (
          <StartGenerationForm project={project.value} models={models.value.results} onStarted={onStarted} onSignedOut={onSignedOut} />
        ) : (
          <LoadNotice state={project?.kind === "failed" ? project : models} what="the project and its models" />
        ))}
      <h2>
        Jobs {active && <span className="hint live-dot">· live, updates every 2 s</span>}
      </h2>
      <LoadNotice state={jobs} what="the generation jobs" />
      {jobs?.kind === "loaded" &&
        (jobs.value.results.length === 0 ? (
          <p>No generation jobs yet.</p>
        ) : (
          <GenerationJobsTable jobs={jobs.value.results} isAdmin={isAdmin} />
        ))}
      {jobs?.kind === "loaded" && (
        <ShowMore limit={limit} shown={jobs.value.results.length} count={jobs.value.count} step={PAGE} noun="jobs" onMore={setLimit} />
      )}
    </section>
  );
}
