/** The reviewer/admin calls. Every answer becomes a Loaded<T> (./resource.ts); a network
 * failure becomes a "could not be reached" message, never a thrown error. */

import { request } from "../api";
import { type ProjectSummary, parseProject } from "../projects";
import { type AnnotatorRow, type Progress, parseAnnotators, parseProgress } from "./dashboard";
import { type Snapshot, type SnapshotPayload, parseSnapshot } from "./datasets";
import { type ModelVersion, parseModel } from "./models";
import { type Loaded, type Page, fieldErrors, loadedFrom, parsePage } from "./resource";
import { type Run, type RunDetail, type RunPayload, parseRun, parseRunDetail } from "./runs";
import { type SetDetail, type SetRow, parseSetDetail, parseSetRow } from "./sets";

const UNREACHABLE = { kind: "failed", status: 0, message: "The server could not be reached." } as const;

async function get<T>(path: string, parse: (body: unknown) => T | null): Promise<Loaded<T>> {
  try {
    const { status, body } = await request(path);
    return loadedFrom(status, body, parse);
  } catch {
    return UNREACHABLE;
  }
}

/** A POST's outcome: the created/changed thing, or the message and per-field errors. */
export type Posted<T> = Loaded<T> | { kind: "invalid"; message: string; errors: Record<string, string> };

async function post<T>(path: string, json: unknown, parse: (body: unknown) => T | null, ok: number): Promise<Posted<T>> {
  try {
    const { status, body } = await request(path, { method: "POST", json });
    if (status === 400) {
      const loaded = loadedFrom(status, body, parse, ok);
      return { kind: "invalid", message: loaded.kind === "failed" ? loaded.message : "Invalid.", errors: fieldErrors(body) };
    }
    return loadedFrom(status, body, parse, ok);
  } catch {
    return UNREACHABLE;
  }
}

export const fetchRuns = (limit = 50) =>
  get<Page<Run>>(`/api/v1/training-runs/?limit=${limit}`, (b) => parsePage(b, parseRun));
export const fetchRun = (id: number) => get<RunDetail>(`/api/v1/training-runs/${id}/`, parseRunDetail);
export const startRun = (payload: RunPayload) => post<Run>("/api/v1/training-runs/", payload, parseRun, 201);
export const cancelRun = (id: number) => post<Run>(`/api/v1/training-runs/${id}/cancel/`, undefined, parseRun, 200);

export const fetchModels = () =>
  get<Page<ModelVersion>>("/api/v1/models/?limit=200", (b) => parsePage(b, parseModel));

export const fetchDatasets = (project?: number) =>
  get<Page<Snapshot>>(`/api/v1/datasets/?limit=100${project ? `&project=${project}` : ""}`, (b) =>
    parsePage(b, parseSnapshot),
  );
export const fetchDataset = (id: number) => get<Snapshot>(`/api/v1/datasets/${id}/`, parseSnapshot);
export const createDataset = (payload: SnapshotPayload) =>
  post<Snapshot>("/api/v1/datasets/", payload, parseSnapshot, 201);

export const fetchProgress = (projectId: number) =>
  get<Progress>(`/api/v1/projects/${projectId}/progress/`, parseProgress);
export const fetchAnnotators = (projectId: number) =>
  get<AnnotatorRow[]>(`/api/v1/projects/${projectId}/annotators/`, parseAnnotators);

export const fetchSets = (projectId: number, limit: number, offset: number) =>
  get<Page<SetRow>>(`/api/v1/projects/${projectId}/candidate-sets/?limit=${limit}&offset=${offset}`, (b) =>
    parsePage(b, parseSetRow),
  );
export const fetchSet = (id: number) => get<SetDetail>(`/api/v1/candidate-sets/${id}/`, parseSetDetail);

export const fetchProjectList = () =>
  get<Page<ProjectSummary>>("/api/v1/projects/?limit=200", (b) => parsePage(b, parseProject));
