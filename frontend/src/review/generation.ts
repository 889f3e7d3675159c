/**
 * Generation jobs: rows of `GET /api/v1/generation-jobs/`, the "Generate candidates" form
 * turned into the body of `POST /api/v1/projects/{id}/generate/`, and when the list polls. Pure.
 */

import { type Refine, type Schemas, wire } from "../apiTypes";
import { asObj, int, str } from "./resource";
import { isActive } from "./runs";

export interface GenerationJob {
  id: number;
  project: number;
  modelVersion: number;
  modelName: string;
  status: string;
  k: number;
  round: number;
  seed: number;
  sampling: Record<string, unknown>;
  prompts: number;
  /** Independent sets of K per prompt; `done` counts sets, of `prompts × setsPerPrompt`. */
  setsPerPrompt: number;
  done: number;
  setsCreated: number;
  promptsSkipped: number;
  error: string;
  createdAt: string | null;
  finishedAt: string | null;
}

export function parseJob(row: unknown): GenerationJob | null {
  const r = wire<Schemas["GenerationJobOutput"]>(row);
  if (!r || !Number.isInteger(r.id) || typeof r.status !== "string") return null;
  return {
    id: r.id as number,
    project: int(r.project),
    modelVersion: int(r.model_version),
    modelName: str(r.model_name),
    status: r.status,
    k: int(r.k),
    round: int(r.round),
    seed: int(r.seed),
    sampling: asObj(r.sampling) ?? {},
    prompts: int(r.prompts),
    setsPerPrompt: Number.isInteger(r.sets_per_prompt) ? (r.sets_per_prompt as number) : 1,
    done: int(r.done),
    setsCreated: int(r.sets_created),
    promptsSkipped: int(r.prompts_skipped),
    error: str(r.error),
    createdAt: typeof r.created_at === "string" ? r.created_at : null,
    finishedAt: typeof r.finished_at === "string" ? r.finished_at : null,
  };
}

/** "3 of 6 prompts", or "5 of 18 sets (3 per prompt)" (and "waiting for a worker" before the first one). */
export function jobProgressText(job: GenerationJob): string {
  const n = job.setsPerPrompt;
  const total = n > 1 ? `${job.prompts * n} sets (${n} per prompt)` : `${job.prompts} prompts`;
  if (job.status === "queued" && job.done === 0) return `0 of ${total} · waiting for a worker`;
  return `${job.done} of ${total}`;
}

/** The help text of both "Sets per prompt" inputs (generation form, loop settings). */
export const SETS_PER_PROMPT_HINT =
  "Independent draws of K per prompt; a preference that depends on the prompt needs several comparisons per prompt group.";

/** The list polls while any job may still change. */
export function anyJobActive(jobs: GenerationJob[]): boolean {
  return jobs.some((j) => isActive(j.status));
}

export const GENERATION_POLL_MS = 2000;

export type PromptChoice = "pending" | "all" | "first";

export interface GenerationForm {
  /** A model version id; "" for the project's current policy. */
  model: string;
  prompts: PromptChoice;
  /** How many prompts when `prompts` is "first". */
  count: string;
  temperature: string;
  topP: string;
  maxNewTokens: string;
  seed: string;
  /** Independent sets of K per prompt (1 to 8, the API's range). */
  setsPerPrompt: string;
}

export function emptyGenerationForm(): GenerationForm {
  return { model: "", prompts: "pending", count: "10", temperature: "", topP: "", maxNewTokens: "", seed: "0", setsPerPrompt: "1" };
}

/** The POST body: only what the form sets; the API's defaults fill the rest. */
export type GenerationPayload = Refine<
  Partial<Schemas["GenerateInputRequest"]>,
  {
    prompts: "pending" | "all" | number[];
    sampling: { temperature?: number; top_p?: number; max_new_tokens?: number };
    seed: number;
  }
>;

// Only the type is checked here; the ranges are the API's (its 400 names the field).
const SAMPLING: { key: "temperature" | "topP" | "maxNewTokens"; api: "temperature" | "top_p" | "max_new_tokens"; integer: boolean }[] = [
  { key: "temperature", api: "temperature", integer: false },
  { key: "topP", api: "top_p", integer: false },
  { key: "maxNewTokens", api: "max_new_tokens", integer: true },
];

/**
 * The POST body, or field errors keyed as the API names them (`sampling.top_p`). With
 * "first N prompts", `first` says how many prompt ids the page must fetch into `prompts`.
 */
export function generationPayload(
  form: GenerationForm,
): { ok: true; payload: GenerationPayload; first: number | null } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const payload: GenerationPayload = { prompts: form.prompts === "all" ? "all" : "pending", sampling: {}, seed: 0 };
  if (form.model !== "") {
    const model = Number(form.model);
    if (Number.isInteger(model)) payload.model = model;
    else errors.model = "Choose a model.";
  }
  let first: number | null = null;
  if (form.prompts === "first") {
    const n = Number(form.count.trim());
    if (form.count.trim() === "" || !Number.isInteger(n) || n < 1 || n > 10_000) errors.prompts = "A whole number of prompts, 1 to 10000.";
    else first = n;
  }
  for (const s of SAMPLING) {
    const text = form[s.key].trim();
    if (text === "") continue;
    const v = Number(text);
    if (!Number.isFinite(v) || (s.integer && !Number.isInteger(v))) {
      errors[`sampling.${s.api}`] = s.integer ? "Must be a whole number." : "Must be a number.";
    } else payload.sampling[s.api] = v;
  }
  const seed = Number(form.seed.trim() === "" ? "0" : form.seed.trim());
  if (!Number.isInteger(seed) || seed < 0) errors.seed = "A whole number, 0 or more.";
  else payload.seed = seed;
  const sets = Number(form.setsPerPrompt.trim() === "" ? "1" : form.setsPerPrompt.trim());
  if (!Number.isInteger(sets) || sets < 1) errors.sets_per_prompt = "A whole number, 1 or more.";
  else if (sets !== 1) payload.sets_per_prompt = sets;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, payload, first };
}
