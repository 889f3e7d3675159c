/** Model versions from `GET /api/v1/models/` with their lineage ids (./lineage.ts draws the
 * graph). Pure. */

import { type Schemas, wire } from "../apiTypes";
import { asObj, int, intList, str } from "./resource";

/** An OpenAI-compatible server that serves the model (its key stays in the server's
 * environment: the API names the variable only). */
export interface ModelEndpoint {
  baseUrl: string;
  model: string;
}

export interface ModelVersion {
  id: number;
  name: string;
  kind: string;
  parent: number | null;
  /** Set on a PEFT adapter (LoRA): the full version it applies to. Only adapters can be
   * merged. */
  adapterBase: number | null;
  endpoint: ModelEndpoint | null;
  children: number[];
  producedBy: number | null;
  dataset: number | null;
  usedByRuns: number[];
  generationJobs: number[];
  candidatesGenerated: number;
}

export function parseModel(row: unknown): ModelVersion | null {
  const r = wire<Schemas["ModelVersionOutput"]>(row);
  if (!r || !Number.isInteger(r.id)) return null;
  return {
    id: r.id as number,
    name: str(r.name, `model ${String(r.id)}`),
    kind: str(r.kind),
    parent: Number.isInteger(r.parent) ? (r.parent as number) : null,
    adapterBase: Number.isInteger(r.adapter_base) ? (r.adapter_base as number) : null,
    endpoint: parseEndpoint(r.endpoint),
    children: intList(r.children),
    producedBy: Number.isInteger(r.produced_by) ? (r.produced_by as number) : null,
    dataset: Number.isInteger(r.dataset) ? (r.dataset as number) : null,
    usedByRuns: intList(r.used_by_runs),
    generationJobs: intList(r.generation_jobs),
    candidatesGenerated: int(r.candidates_generated),
  };
}

function parseEndpoint(value: unknown): ModelEndpoint | null {
  const e = asObj(value);
  const baseUrl = str(e?.base_url);
  return baseUrl === "" ? null : { baseUrl, model: str(e?.model) };
}

export function modelLabel(m: ModelVersion): string {
  return `${m.name} (${m.kind}, #${m.id})`;
}

/** Models a run may start from, and reward models, as the API checks them. */
export function baseModels(models: ModelVersion[]): ModelVersion[] {
  return models.filter((m) => ["base", "sft", "policy"].includes(m.kind));
}
export function rewardModels(models: ModelVersion[]): ModelVersion[] {
  return models.filter((m) => m.kind === "reward");
}
