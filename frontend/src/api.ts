/**
 * Calls to the Flywheel API with the session cookie. Unsafe methods carry the CSRF token from
 * the `csrftoken` cookie; Django refuses them with 403 otherwise. A network failure rejects;
 * every HTTP answer resolves, error statuses included, for the state modules to interpret.
 */

import { errorMessage } from "./apiErrors";
import { type Schemas, wire } from "./apiTypes";
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from "./csrf";
import {
  type ProjectListState,
  type ProjectSummary,
  parseProject,
  projectListStateFrom,
} from "./projects";
import type { SubmissionBody } from "./ranking/state";
import { type SessionState, sessionStateFrom } from "./session";
import { type SignInResult, signInResultFrom } from "./signIn";
import { type Task, parseTask } from "./task";

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body; null for an empty or non-JSON body (204, Django's HTML 403). */
  body: unknown;
}

export async function request(
  path: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
  if (method !== "GET") {
    const token = readCookie(document.cookie, CSRF_COOKIE);
    if (token) headers[CSRF_HEADER] = token;
  }
  let body: string | undefined;
  if (init.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(body === undefined ? {} : { body }),
  });
  const isJson = (response.headers.get("Content-Type") ?? "").includes("application/json");
  return { status: response.status, body: isJson ? await response.json() : null };
}

export async function fetchSession(): Promise<SessionState> {
  try {
    const { status, body } = await request("/api/v1/me/");
    return sessionStateFrom(status, body);
  } catch {
    return { kind: "unavailable", reason: "the server could not be reached" };
  }
}

/** Get a fresh CSRF cookie, then sign in; the session cookie comes back with the 200. */
export async function signIn(username: string, password: string): Promise<SignInResult> {
  try {
    const csrf = await request("/api/v1/auth/csrf/");
    if (csrf.status !== 204) return signInResultFrom(csrf.status, csrf.body);
    const { status, body } = await request("/api/v1/auth/login/", {
      method: "POST",
      json: { username, password },
    });
    return signInResultFrom(status, body);
  } catch {
    return { kind: "refused", message: "The server could not be reached. Try again." };
  }
}

/** Null once signed out (or already signed out: 401); otherwise the message to show. */
export async function signOut(): Promise<string | null> {
  try {
    if (readCookie(document.cookie, CSRF_COOKIE) === null) await request("/api/v1/auth/csrf/");
    const { status, body } = await request("/api/v1/auth/logout/", { method: "POST" });
    if (status === 204 || status === 401) return null;
    return errorMessage(status, body);
  } catch {
    return "The server could not be reached. Try again.";
  }
}

export async function fetchProjects(): Promise<ProjectListState> {
  try {
    const { status, body } = await request("/api/v1/projects/");
    return projectListStateFrom(status, body);
  } catch {
    return { kind: "failed", message: "The server could not be reached." };
  }
}

export type ProjectState =
  | { kind: "loaded"; project: ProjectSummary }
  | { kind: "signed-out" }
  | { kind: "failed"; message: string };

export async function fetchProject(projectId: number): Promise<ProjectState> {
  try {
    const { status, body } = await request(`/api/v1/projects/${projectId}/`);
    if (status === 401) return { kind: "signed-out" };
    if (status !== 200) return { kind: "failed", message: errorMessage(status, body) };
    const project = parseProject(body);
    return project
      ? { kind: "loaded", project }
      : { kind: "failed", message: "The server answered with something unexpected." };
  } catch {
    return { kind: "failed", message: "The server could not be reached." };
  }
}

/** A refusal: the message to show, and the API's `code` to act on (e.g. `lease_expired`). */
export interface Refusal {
  status: number;
  code: string | null;
  message: string;
}

function refusal(status: number, body: unknown): Refusal {
  const given = wire<Schemas["Error"]>(body)?.code;
  const code = typeof given === "string" ? given : null;
  return { status, code, message: errorMessage(status, body) };
}

const UNREACHABLE: Refusal = {
  status: 0,
  code: "network",
  message: "The server could not be reached. Your work is still here; try again.",
};

export type NextTaskResult =
  | { kind: "task"; task: Task }
  | { kind: "done" }
  | { kind: "failed"; refusal: Refusal };

export async function fetchNextTask(projectId: number): Promise<NextTaskResult> {
  try {
    const { status, body } = await request(`/api/v1/projects/${projectId}/next-task/`, {
      method: "POST",
    });
    if (status === 204) return { kind: "done" };
    if (status !== 200) return { kind: "failed", refusal: refusal(status, body) };
    const task = parseTask(body);
    return task
      ? { kind: "task", task }
      : {
          kind: "failed",
          refusal: { status, code: null, message: "The server answered with something unexpected." },
        };
  } catch {
    return { kind: "failed", refusal: UNREACHABLE };
  }
}

export type SubmitResult = { kind: "submitted" } | { kind: "refused"; refusal: Refusal };

/** Submit with an `Idempotency-Key`: a retry with the same key and body cannot count twice. */
export async function submitRanking(
  assignment: number,
  submission: SubmissionBody,
  idempotencyKey: string,
): Promise<SubmitResult> {
  try {
    const { status, body } = await request(`/api/v1/assignments/${assignment}/submit/`, {
      method: "POST",
      json: submission,
      headers: { "Idempotency-Key": idempotencyKey },
    });
    return status === 201 ? { kind: "submitted" } : { kind: "refused", refusal: refusal(status, body) };
  } catch {
    return { kind: "refused", refusal: UNREACHABLE };
  }
}

/** Give a lease back, without skipping, when the annotator leaves the workspace (another page,
 * a closed or reloaded tab): otherwise an unattended tab holds the set for the whole lease and
 * the round waits for it (issue 18). `keepalive` lets the request outlive a closing page; the
 * answer is not needed (a lease already ended or submitted is left as it is). */
export function releaseAssignment(assignment: number): void {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = readCookie(document.cookie, CSRF_COOKIE);
  if (token) headers[CSRF_HEADER] = token;
  void fetch(`/api/v1/assignments/${assignment}/release/`, {
    method: "POST",
    headers,
    credentials: "same-origin",
    keepalive: true,
  }).catch(() => undefined);
}

export async function skipAssignment(assignment: number): Promise<SubmitResult> {
  try {
    const { status, body } = await request(`/api/v1/assignments/${assignment}/skip/`, {
      method: "POST",
    });
    return status === 200 ? { kind: "submitted" } : { kind: "refused", refusal: refusal(status, body) };
  } catch {
    return { kind: "refused", refusal: UNREACHABLE };
  }
}
