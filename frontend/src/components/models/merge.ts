/** Merging an adapter version into a full model version: `POST /api/v1/models/{id}/merge/`
 * queues a merge job, `GET /api/v1/merge-jobs/{id}/` follows it until a worker has registered
 * the new version. The parsing and the words are pure; the calls answer a Loaded (or, for the
 * POST, the field errors of a 400) and never throw. */

import { request } from "../../api";
import { type Schemas, wire } from "../../apiTypes";
import { errorMessage } from "../../apiErrors";
import { type Loaded, fieldErrors, loadedFrom, str } from "../../review/resource";
import type { Posted } from "../../review/reviewApi";

export interface MergeJob {
  id: number;
  adapter: number;
  adapterName: string;
  name: string;
  status: string;
  mergedModel: number | null;
  error: string;
}

export function parseMergeJob(body: unknown): MergeJob | null {
  const r = wire<Schemas["MergeJobOutput"]>(body);
  if (!r || !Number.isInteger(r.id) || !Number.isInteger(r.adapter)) return null;
  return {
    id: r.id as number,
    adapter: r.adapter as number,
    adapterName: str(r.adapter_name),
    name: str(r.name),
    status: str(r.status),
    mergedModel: Number.isInteger(r.merged_model) ? (r.merged_model as number) : null,
    error: str(r.error),
  };
}

export function mergeFinished(job: MergeJob): boolean {
  return ["succeeded", "failed", "cancelled"].includes(job.status);
}

/** One line on where the merge is. */
export function mergeStatusText(job: MergeJob): string {
  switch (job.status) {
    case "queued":
      return `Merge job #${job.id} is queued for a worker.`;
    case "running":
      return `Merge job #${job.id}: a worker is merging ${job.adapterName} into full weights…`;
    case "succeeded":
      return `Merged: ${job.name} is model #${job.mergedModel ?? "?"}.`;
    case "failed": {
      const reason = job.error.split("\n").find((line) => line.trim() !== "") ?? "no reason given";
      return `Merge job #${job.id} failed: ${reason}`;
    }
    default:
      return `Merge job #${job.id} is ${job.status}.`;
  }
}

/** What the name field says before anything is sent (the API says the rest). */
export function mergeNameError(name: string): string | null {
  return name.trim() === "" ? "Name the new model." : null;
}

const UNREACHABLE = { kind: "failed", status: 0, message: "The server could not be reached." } as const;

export async function startMerge(modelId: number, name: string): Promise<Posted<MergeJob>> {
  const json: Schemas["MergeInputRequest"] = { name: name.trim() };
  try {
    const { status, body } = await request(`/api/v1/models/${modelId}/merge/`, { method: "POST", json });
    if (status === 400) return { kind: "invalid", message: errorMessage(status, body), errors: fieldErrors(body) };
    return loadedFrom(status, body, parseMergeJob, 202);
  } catch {
    return UNREACHABLE;
  }
}

export async function fetchMergeJob(id: number): Promise<Loaded<MergeJob>> {
  try {
    const { status, body } = await request(`/api/v1/merge-jobs/${id}/`);
    return loadedFrom(status, body, parseMergeJob);
  } catch {
    return UNREACHABLE;
  }
}
