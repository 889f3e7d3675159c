/** A project's generation jobs: admins start one (model, which prompts, sampling, seed); everyone
 * who may review watches the list, which refreshes every 2 s while a job is queued or running. */

import { useCallback, useEffect, useState } from "react";
import {
  type GenerationForm,
  GENERATION_POLL_MS,
  anyJobActive,
  emptyGenerationForm,
  generationPayload,
  jobProgressText,
} from "../../review/generation";
import { baseModels, modelLabel } from "../../review/models";
import type { ModelVersion } from "../../review/models";
import type { ProjectSummary } from "../../projects";
import { dateTime } from "../../review/resource";
import { fetchFirstPromptIds, fetchGenerationJobs, fetchModels, fetchProjectSummary, startGeneration } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import type { Me } from "../../session";
import { FieldError, LoadNotice } from "../shared/LoadNotice";
import { ShowMore } from "../shared/ShowMore";

const PAGE = 20;

function StartGenerationForm({
  project,
  models,
  onStarted,
  onSignedOut,
}: {
  project: ProjectSummary;
  models: ModelVersion[];
  onStarted: () => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState<GenerationForm>(emptyGenerationForm);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<GenerationForm>) => setForm({ ...form, ...patch });
  const errId = (k: string) => (errors[k] ? `gen-err-${k.replace(/\W/g, "-")}` : undefined);
  const describedBy = (k: string, hint?: string) => [errId(k), hint].filter(Boolean).join(" ") || undefined;

  const submit = async () => {
    const built = generationPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Starting…");
    const payload = built.payload;
    if (built.first !== null) {
      const ids = await fetchFirstPromptIds(project.id, built.first);
      if (ids.kind === "signed-out") return onSignedOut();
      if (ids.kind === "failed") {
        setBusy(false);
        return setMessage(`Could not read the prompts: ${ids.message}`);
      }
      payload.prompts = ids.value;
    }
    const result = await startGeneration(project.id, payload);
    setBusy(false);
    if (result.kind === "signed-out") return onSignedOut();
    if (result.kind === "loaded") {
      setMessage(`Generation job #${result.value.id} queued for ${result.value.prompts} prompts.`);
      onStarted();
      return;
    }
    if (result.kind === "invalid") {
      // The API names the model `model` or (the project's policy) `model_version`.
      const errs = { ...result.errors };
      if (errs.model_version) errs.model = errs.model_version;
      setErrors(errs);
    }
    setMessage(result.message);
  };

  const numberField = (key: "temperature" | "topP" | "maxNewTokens" | "seed", api: string, label: string, hint: string) => (
    <div className="field">
      <label htmlFor={`gen-${key}`}>{label}</label>
      <input
        id={`gen-${key}`}
        type="number"
        step={key === "maxNewTokens" || key === "seed" ? 1 : "any"}
        value={form[key]}
        placeholder={key === "seed" ? undefined : "server default"}
        aria-invalid={errors[api] ? true : undefined}
        aria-describedby={describedBy(api, `gen-${key}-hint`)}
        onChange={(e) => set({ [key]: e.target.value })}
      />
      <FieldError id={errId(api) ?? ""} message={errors[api]} />
      <span id={`gen-${key}-hint`} className="hint small">
        {hint}
      </span>
    </div>
  );

  return (
    <form
      className="panel"
      aria-labelledby="generate-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2 id="generate-heading">Generate candidates</h2>
      <p className="hint">
        Each prompt gets K = {project.k} distinct responses (K is fixed by the project), written as candidate sets of a new round.
      </p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="gen-model">Model</label>
          <select
            id="gen-model"
            value={form.model}
            aria-invalid={errors.model ? true : undefined}
            aria-describedby={describedBy("model")}
            onChange={(e) => set({ model: e.target.value })}
          >
            <option value="">The project's policy</option>
            {baseModels(models).map((m) => (
              <option key={m.id} value={m.id}>
                {modelLabel(m)}
              </option>
            ))}
          </select>
          <FieldError id={errId("model") ?? ""} message={errors.model} />
        </div>
        {numberField("temperature", "sampling.temperature", "Temperature", "Blank: the server's default.")}
        {numberField("topP", "sampling.top_p", "Top-p", "Nucleus mass; blank: the server's default.")}
        {numberField("maxNewTokens", "sampling.max_new_tokens", "Max new tokens", "Longest response, in tokens.")}
        {numberField("seed", "seed", "Seed", "Same seed, same model, same prompts: the same candidates.")}
      </div>
      <fieldset className="prompt-choice" aria-describedby={errId("prompts")}>
        <legend>Prompts</legend>
        <label className="check">
          <input type="radio" name="gen-prompts" checked={form.prompts === "pending"} onChange={() => set({ prompts: "pending" })} />
          Pending: prompts without a candidate set yet
        </label>
        <label className="check">
          <input type="radio" name="gen-prompts" checked={form.prompts === "all"} onChange={() => set({ prompts: "all" })} />
          All prompts of the project
        </label>
        <span className="first-prompts">
          <label className="check">
            <input type="radio" name="gen-prompts" checked={form.prompts === "first"} onChange={() => set({ prompts: "first" })} />
            The first prompts (in import order):
          </label>
          <label htmlFor="gen-count" className="visually-hidden">
            How many
          </label>
          <input
            id="gen-count"
            type="number"
            min={1}
            step={1}
            value={form.count}
            disabled={form.prompts !== "first"}
            aria-invalid={errors.prompts ? true : undefined}
            aria-describedby={errId("prompts")}
            onChange={(e) => set({ count: e.target.value })}
          />
        </span>
        <FieldError id={errId("prompts") ?? ""} message={errors.prompts} />
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Start generation
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}

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
                {jobs.value.results.map((j) => (
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
        ))}
      {jobs?.kind === "loaded" && (
        <ShowMore limit={limit} shown={jobs.value.results.length} count={jobs.value.count} step={PAGE} noun="jobs" onMore={setLimit} />
      )}
    </section>
  );
}
