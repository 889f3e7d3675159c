/** The generation jobs as a table: model, status, progress bar, sets created, prompts skipped,
 * round and seed, and the last lines of a failed job's error. */

import { type GenerationJob, jobProgressText } from "../../review/generation";
import { dateTime } from "../../review/resource";

export function GenerationJobsTable({ jobs, isAdmin }: { jobs: GenerationJob[]; isAdmin: boolean }) {
  return (
    <div className="table-wrap">
      <table className="data-table jobs-table">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Model</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Sets created</th>
            <th scope="col">Prompts skipped</th>
            <th scope="col">Round · seed</th>
            <th scope="col">Created</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-job-id={j.id}>
              <th scope="row">#{j.id}</th>
              <td>
                {isAdmin ? <a href={`#/models/${j.modelVersion}`}>{j.modelName || `#${j.modelVersion}`}</a> : j.modelName || `#${j.modelVersion}`}
              </td>
              <td>
                <span className={`status status-${j.status}`}>{j.status}</span>
              </td>
              <td data-col="progress">
                <progress max={Math.max(1, j.prompts)} value={j.done} aria-label={`Job #${j.id} progress`} /> {jobProgressText(j)}
              </td>
              <td data-col="sets_created">{j.setsCreated}</td>
              <td data-col="prompts_skipped">{j.promptsSkipped}</td>
              <td>
                {j.round} · {j.seed}
              </td>
              <td>{dateTime(j.createdAt)}</td>
              <td data-col="error">{j.error ? <span className="form-error">{j.error.split("\n").slice(-2).join(" ")}</span> : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
