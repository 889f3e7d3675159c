/**
 * Calls to the Flywheel API with the session cookie. Unsafe methods carry the CSRF token from
 * the `csrftoken` cookie; Django refuses them with 403 otherwise. A network failure rejects;
 * every HTTP answer resolves, error statuses included, for the state modules to interpret.
 */

import { errorMessage } from "./apiErrors";
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from "./csrf";
import { type ProjectListState, projectListStateFrom } from "./projects";
import { type SessionState, sessionStateFrom } from "./session";
import { type SignInResult, signInResultFrom } from "./signIn";

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body; null for an empty or non-JSON body (204, Django's HTML 403). */
  body: unknown;
}

async function request(
  path: string,
  init: { method?: string; json?: unknown } = {},
): Promise<ApiAnswer> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
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
