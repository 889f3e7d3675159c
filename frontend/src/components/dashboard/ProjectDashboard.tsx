/** Reviewer/admin: a project's progress, throughput per day, agreement, the per-annotator
 * table (speed, agreement, gold accuracy, flags) and the position-bias chart. */

import { useEffect } from "react";
import { flagsText } from "../../review/dashboard";
import { fixed, percent } from "../../review/resource";
import { fetchAnnotators, fetchProgress, fetchProjectSummary } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";
import { PositionBiasChart } from "./PositionBiasChart";
import { ThroughputChart } from "./ThroughputChart";

function Stat({ label, value, id }: { label: string; value: string | number; id: string }) {
  return (
    <div className="stat" data-stat={id}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

export function ProjectDashboard({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [progress] = useLoaded(() => fetchProgress(projectId), `progress-${projectId}`, onSignedOut);
  const [annotators] = useLoaded(() => fetchAnnotators(projectId), `annotators-${projectId}`, onSignedOut);
  const [project] = useLoaded(() => fetchProjectSummary(projectId), `project-${projectId}`, onSignedOut);
  const name = project?.kind === "loaded" ? project.value.name : `Project ${projectId}`;
  useEffect(() => {
    document.title = `${name}: dashboard · Flywheel`;
  }, [name]);
  const p = progress?.kind === "loaded" ? progress.value : null;
  return (
    <section aria-labelledby="dashboard-heading">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> › <a href={`#/projects/${projectId}/sets`}>Sets of this project</a> ·{" "}
        <a href={`#/projects/${projectId}/review`}>Review queue</a> ·{" "}
        <a href={`#/projects/${projectId}/generate`}>Generation jobs</a> · <a href={`#/projects/${projectId}/loop`}>Loop</a> ·{" "}
        <a href={`#/datasets`}>Datasets</a>
      </p>
      <h1 id="dashboard-heading">{name}: dashboard</h1>
      {!p && <LoadNotice state={progress} what="the progress" />}
      {p && (
        <>
          <h2>Progress</h2>
          <progress className="wide-progress" max={Math.max(1, p.sets)} value={p.setsComplete} aria-label="Sets complete" />
          <dl className="stats" aria-label="Progress">
            <Stat id="sets" label="Sets" value={p.sets} />
            <Stat id="sets_complete" label="Complete" value={p.setsComplete} />
            <Stat id="sets_open" label="Open" value={p.setsOpen} />
            <Stat id="gold_sets" label="Gold sets" value={p.goldSets} />
            <Stat id="rankings" label="Rankings" value={p.rankings} />
            <Stat id="gold_rankings" label="Gold rankings" value={p.goldRankings} />
            <Stat id="not_rankable" label="All bad" value={p.notRankable} />
            <Stat id="flagged" label="Flagged" value={p.flagged} />
            <Stat id="rejected" label="Rejected" value={p.rejected} />
            <Stat id="sent_back" label="Sent back" value={p.sentBack} />
          </dl>
          <h2>Agreement</h2>
          <dl className="stats" aria-label="Agreement">
            <Stat id="alpha" label="Krippendorff's α (ordinal)" value={fixed(p.agreement.alpha, 3)} />
            <Stat id="mean_pairwise" label="Mean pairwise agreement" value={fixed(p.agreement.meanPairwise, 3)} />
            <Stat id="sets_with_overlap" label="Sets ranked by ≥ 2" value={p.agreement.setsWithOverlap} />
          </dl>
          <h2>Throughput (rankings per day)</h2>
          <ThroughputChart days={p.perDay} />
        </>
      )}
      <h2>Annotators</h2>
      <LoadNotice state={annotators} what="the annotators" />
      {annotators?.kind === "loaded" &&
        (annotators.value.length === 0 ? (
          <p>No annotator has ranked in this project yet.</p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="data-table annotator-table">
                <thead>
                  <tr>
                    <th scope="col">Annotator</th>
                    <th scope="col">Rankings</th>
                    <th scope="col">Skipped</th>
                    <th scope="col">Median time</th>
                    <th scope="col">Agreement τ (sets)</th>
                    <th scope="col">Gold accuracy (sets)</th>
                    <th scope="col">Gold τ</th>
                    <th scope="col">QC flags</th>
                  </tr>
                </thead>
                <tbody>
                  {annotators.value.map((a) => (
                    <tr key={a.id} data-annotator={a.username} className={a.failsGold ? "fails-gold" : undefined}>
                      <th scope="row">{a.username}</th>
                      <td data-col="rankings">{a.rankings}</td>
                      <td data-col="skipped">{a.skipped}</td>
                      <td data-col="median_seconds">{a.medianSeconds === null ? "–" : `${Math.round(a.medianSeconds)} s`}</td>
                      <td data-col="agreement_tau">
                        {fixed(a.agreementTau)} ({a.agreementSets})
                      </td>
                      <td data-col="gold_accuracy">
                        {percent(a.goldAccuracy)} ({a.goldSets}){a.failsGold && <strong> fails gold</strong>}
                      </td>
                      <td data-col="gold_tau">{fixed(a.goldTau)}</td>
                      <td data-col="flags">{flagsText(a.flags)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h2>Position bias</h2>
            <PositionBiasChart rows={annotators.value} />
          </>
        ))}
    </section>
  );
}
