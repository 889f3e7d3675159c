/** "Generate candidates": an admin picks the model, which prompts, the sampling and the seed, and
 * starts a generation job; the API's 400 shows next to the field it names. */

import { useState } from "react";
import type { ProjectSummary } from "../../projects";
import { type GenerationForm, SETS_PER_PROMPT_HINT, emptyGenerationForm, generationPayload } from "../../review/generation";
import { type ModelVersion, baseModels, modelLabel } from "../../review/models";
import { fetchFirstPromptIds, startGeneration } from "../../review/reviewApi";
import { FieldError } from "../shared/LoadNotice";
import { PromptsFieldset } from "./PromptsFieldset";

export function StartGenerationForm({
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
      const sets = result.value.setsPerPrompt > 1 ? `, ${result.value.setsPerPrompt} sets each` : "";
      setMessage(`Generation job #${result.value.id} queued for ${result.value.prompts} prompts${sets}.`);
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

  const numberField = (key: "temperature" | "topP" | "maxNewTokens" | "seed" | "setsPerPrompt", api: string, label: string, hint: string) => (
    <div className="field">
      <label htmlFor={`gen-${key}`}>{label}</label>
      <input
        id={`gen-${key}`}
        type="number"
        step={key === "maxNewTokens" || key === "seed" || key === "setsPerPrompt" ? 1 : "any"}
        min={key === "setsPerPrompt" ? 1 : undefined}
        value={form[key]}
        placeholder={key === "seed" || key === "setsPerPrompt" ? undefined : "server default"}
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
        {numberField("setsPerPrompt", "sets_per_prompt", "Sets per prompt", SETS_PER_PROMPT_HINT)}
      </div>
      <PromptsFieldset
        choice={form.prompts}
        count={form.count}
        error={errors.prompts}
        errorId={errId("prompts")}
        onChoice={(prompts) => set({ prompts })}
        onCount={(count) => set({ count })}
      />
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
