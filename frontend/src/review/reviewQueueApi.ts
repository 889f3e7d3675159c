/** The review queue's calls (issue 18): the queue, a verdict, an adjudication, and the
 * annotator's own review counts. Answers become Loaded / Posted values, never thrown errors. */

import { request } from "../api";
import { type Loaded, type Page, fieldErrors, loadedFrom, parsePage } from "./resource";
import type { Posted } from "./reviewApi";
import {
  type Adjudicated,
  type MyReviews,
  type QueueFilters,
  type ReviewAction,
  type ReviewItem,
  type Reviewed,
  parseAdjudicated,
  parseMyReviews,
  parseReviewItem,
  parseReviewed,
  queueQuery,
} from "./reviewQueue";

const UNREACHABLE = { kind: "failed", status: 0, message: "The server could not be reached." } as const;

async function get<T>(path: string, parse: (body: unknown) => T | null): Promise<Loaded<T>> {
  try {
    const { status, body } = await request(path);
    return loadedFrom(status, body, parse);
  } catch {
    return UNREACHABLE;
  }
}

async function post<T>(path: string, json: unknown, parse: (body: unknown) => T | null): Promise<Posted<T>> {
  try {
    const { status, body } = await request(path, { method: "POST", json });
    const loaded = loadedFrom(status, body, parse);
    if (status === 400) {
      return { kind: "invalid", message: loaded.kind === "failed" ? loaded.message : "Invalid.", errors: fieldErrors(body) };
    }
    return loaded;
  } catch {
    return UNREACHABLE;
  }
}

export const fetchReviewQueue = (projectId: number, filters: QueueFilters, limit: number, offset: number) =>
  get<Page<ReviewItem>>(`/api/v1/projects/${projectId}/review-queue/?${queueQuery(filters, limit, offset)}`, (b) =>
    parsePage(b, parseReviewItem),
  );

export const reviewRanking = (projectId: number, rankingId: number, action: ReviewAction, comment: string) =>
  post<Reviewed>(`/api/v1/projects/${projectId}/rankings/${rankingId}/review/`, { action, comment }, parseReviewed);

export const adjudicateSet = (projectId: number, setId: number, tiers: number[][], promoteToGold: boolean) =>
  post<Adjudicated>(
    `/api/v1/projects/${projectId}/candidate-sets/${setId}/adjudication/`,
    { tiers, promote_to_gold: promoteToGold },
    parseAdjudicated,
  );

export const fetchMyReviews = (projectId: number) =>
  get<MyReviews>(`/api/v1/me/reviews/?project=${projectId}`, parseMyReviews);
