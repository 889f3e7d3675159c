/** The reviewer/admin calls. Every answer becomes a Loaded<T> (./resource.ts); a network
 * failure becomes a "could not be reached" message, never a thrown error. */

import { request } from "../api";
import { type ProjectSummary, parseProject } from "../projects";
import { type AnnotatorRow, type Progress, parseAnnotators, parseProgress } from "./dashboard";
import { type Snapshot, type SnapshotPayload, parseSnapshot } from "./datasets";
import { type GenerationJob, type GenerationPayload, parseJob } from "./generation";
import { type Leaderboard, type LeaderboardSource, parseLeaderboard } from "./leaderboard";
import { type LoopRound, type RoundDetail, parseRoundDetail, parseRounds } from "./loop";
import { type LoopPatch, type LoopSettings, parseLoopSettings } from "./loopSettings";
import { type LoopWaiting, parseLoopWaiting } from "./loopWaiting";
import { type ModelVersion, parseModel } from "./models";
import { type Loaded, type Page, fieldErrors, loadedFrom, parsePage } from "./resource";
import { type RunKindInfo, type RunPayload, parseRunKinds } from "./runConfig";
import { type Run, type RunDetail, parseRun, parseRunDetail } from "./runs";
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

async function post<T>(
  path: string,
  json: unknown,
  parse: (body: unknown) => T | null,
  ok: number,
  method: "POST" | "PATCH" = "POST",
): Promise<Posted<T>> {
  try {
    const { status, body } = await request(path, { method, json });
    if (status === 400) {
      const loaded = loadedFrom(status, body, parse, ok);
      return { kind: "invalid", message: loaded.kind === "failed" ? loaded.message : "Invalid.", errors: fieldErrors(body) };
    }
    return loadedFrom(status, body, parse, ok);
  } catch {
    return UNREACHABLE;
  }
}

/** Every row of a limit/offset list, a page of `PAGE_ALL` at a time, up to `max` rows (for
 * the pickers and the lineage graph, which need them all). */
const PAGE_ALL = 200;
async function getAll<T>(path: string, parse: (row: unknown) => T | null, max = 2000): Promise<Loaded<Page<T>>> {
  const rows: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let offset = 0; offset < max; offset += PAGE_ALL) {
    const page = await get<Page<T>>(`${path}${sep}limit=${PAGE_ALL}&offset=${offset}`, (b) => parsePage(b, parse));
    if (page.kind !== "loaded") return page;
    rows.push(...page.value.results);
    if (offset + PAGE_ALL >= page.value.count) return { kind: "loaded", value: { count: page.value.count, results: rows } };
  }
  return { kind: "loaded", value: { count: rows.length, results: rows } };
}

export const fetchRunKinds = () => get<RunKindInfo[]>("/api/v1/run-kinds/", parseRunKinds);
export const fetchRuns = (limit: number) =>
  get<Page<Run>>(`/api/v1/training-runs/?limit=${limit}`, (b) => parsePage(b, parseRun));
export const fetchAllRuns = () => getAll<Run>("/api/v1/training-runs/", parseRun);
export const fetchRun = (id: number) => get<RunDetail>(`/api/v1/training-runs/${id}/`, parseRunDetail);
export const startRun = (payload: RunPayload) => post<Run>("/api/v1/training-runs/", payload, parseRun, 201);
export const cancelRun = (id: number) => post<Run>(`/api/v1/training-runs/${id}/cancel/`, undefined, parseRun, 200);

export const fetchModels = () => getAll<ModelVersion>("/api/v1/models/", parseModel);

export const fetchDatasets = (limit: number) =>
  get<Page<Snapshot>>(`/api/v1/datasets/?limit=${limit}`, (b) => parsePage(b, parseSnapshot));
export const fetchAllDatasets = () => getAll<Snapshot>("/api/v1/datasets/", parseSnapshot);
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
export const fetchProjectSummary = (id: number) => get<ProjectSummary>(`/api/v1/projects/${id}/`, parseProject);

export const fetchGenerationJobs = (projectId: number | null, limit: number) =>
  get<Page<GenerationJob>>(`/api/v1/generation-jobs/?limit=${limit}${projectId === null ? "" : `&project=${projectId}`}`, (b) =>
    parsePage(b, parseJob),
  );
export const fetchAllGenerationJobs = () => getAll<GenerationJob>("/api/v1/generation-jobs/", parseJob);
export const startGeneration = (projectId: number, payload: GenerationPayload) =>
  post<GenerationJob>(`/api/v1/projects/${projectId}/generate/`, payload, parseJob, 202);
/** The ids of the project's first `n` prompts (in import order). */
export const fetchFirstPromptIds = (projectId: number, n: number) =>
  get<number[]>(`/api/v1/projects/${projectId}/prompts/?limit=${n}`, (b) => parsePage(b, (row) => {
    const id = (row as { id?: unknown } | null)?.id;
    return typeof id === "number" && Number.isInteger(id) ? id : null;
  })?.results ?? null);

export const fetchLoop = (projectId: number) => get<LoopSettings>(`/api/v1/projects/${projectId}/loop/`, parseLoopSettings);
export const updateLoop = (projectId: number, patch: LoopPatch) =>
  post<LoopSettings>(`/api/v1/projects/${projectId}/loop/`, patch, parseLoopSettings, 200, "PATCH");
export const fetchLoopWaiting = (projectId: number) =>
  get<LoopWaiting>(`/api/v1/projects/${projectId}/loop/waiting/`, parseLoopWaiting);
export const fetchRounds = (projectId: number) => get<LoopRound[]>(`/api/v1/projects/${projectId}/rounds/`, parseRounds);
export const fetchRound = (id: number) => get<RoundDetail>(`/api/v1/rounds/${id}/`, parseRoundDetail);
export const startRound = (projectId: number) =>
  post<RoundDetail>(`/api/v1/projects/${projectId}/rounds/`, undefined, parseRoundDetail, 201);
export const retryRound = (id: number) => post<RoundDetail>(`/api/v1/rounds/${id}/retry/`, undefined, parseRoundDetail, 200);
/** Promote (true) or reject (false) the policy of an unconfirmed round waiting for a decision. */
export const decideRound = (id: number, promote: boolean) =>
  post<RoundDetail>(`/api/v1/rounds/${id}/decision/`, { promote }, parseRoundDetail, 200);
export const fetchLeaderboard = (projectId: number, source: LeaderboardSource) =>
  get<Leaderboard>(`/api/v1/projects/${projectId}/leaderboard/?source=${source}`, parseLeaderboard);
/** Whether annotators see the reward model's suggested ranking (admin). */
export const setShowAiSuggestion = (projectId: number, show: boolean) =>
  post<ProjectSummary>(`/api/v1/projects/${projectId}/`, { show_ai_suggestion: show }, parseProject, 200, "PATCH");
