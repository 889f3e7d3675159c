/** The calls of the admin's set-up pages: read a project's settings, create or change a
 * project, upload a file of prompts or candidate sets, list, create and change users, register a
 * model directory. */

import { request } from "../api";
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from "../csrf";
import { parseProject } from "../projects";
import {
  type ImportKind,
  type ImportOutcome,
  type ProjectPayload,
  type ProjectSettings,
  importOutcomeFrom,
  parseProjectSettings,
} from "./projectSettings";
import { type ModelRegisterPayload } from "./modelRegistration";
import { type ModelVersion, parseModel } from "./models";
import { type Loaded, fieldErrors, loadedFrom } from "./resource";
import { type UserPayload, type UserRow, type UserUpdatePayload, parseUser, parseUserPage } from "./users";

const UNREACHABLE = { kind: "failed", status: 0, message: "the server could not be reached" } as const;

export type Saved<T> = Loaded<T> | { kind: "invalid"; message: string; errors: Record<string, string> };

function readSettings(body: unknown): ProjectSettings | null {
  return parseProjectSettings(body, parseProject(body));
}

async function send<T>(path: string, method: string, json: unknown, parse: (b: unknown) => T | null, ok: number): Promise<Saved<T>> {
  try {
    const { status, body } = await request(path, { method, json });
    const loaded = loadedFrom(status, body, parse, ok);
    // 409 (a name taken) names its field too.
    if ((status === 400 || status === 409) && loaded.kind === "failed") {
      return { kind: "invalid", message: loaded.message, errors: fieldErrors(body) };
    }
    return loaded;
  } catch {
    return UNREACHABLE;
  }
}

export async function fetchProjectSettings(projectId: number): Promise<Loaded<ProjectSettings>> {
  try {
    const { status, body } = await request(`/api/v1/projects/${projectId}/`);
    return loadedFrom(status, body, readSettings);
  } catch {
    return UNREACHABLE;
  }
}

export function createProject(payload: Partial<ProjectPayload>): Promise<Saved<ProjectSettings>> {
  return send("/api/v1/projects/", "POST", payload, readSettings, 201);
}

export function updateProject(projectId: number, payload: Partial<ProjectPayload>): Promise<Saved<ProjectSettings>> {
  return send(`/api/v1/projects/${projectId}/`, "PATCH", payload, readSettings, 200);
}

/** A multipart upload of `file` as the import's `file` field (JSON list or JSON Lines). */
export async function uploadImport(projectId: number, kind: ImportKind, file: File): Promise<ImportOutcome> {
  const form = new FormData();
  form.append("file", file);
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = readCookie(document.cookie, CSRF_COOKIE);
  if (token) headers[CSRF_HEADER] = token;
  try {
    const response = await fetch(`/api/v1/projects/${projectId}/${kind}/`, {
      method: "POST",
      headers,
      body: form,
      credentials: "same-origin",
    });
    const isJson = (response.headers.get("Content-Type") ?? "").includes("application/json");
    const body: unknown = isJson ? await response.json() : null;
    return importOutcomeFrom(response.status, body, `The server answered ${response.status}.`);
  } catch {
    return { kind: "refused", message: "The server could not be reached.", rows: [], other: [] };
  }
}

export function registerModel(payload: ModelRegisterPayload): Promise<Saved<ModelVersion>> {
  return send("/api/v1/models/", "POST", payload, parseModel, 201);
}

export async function fetchUsers(): Promise<Loaded<{ count: number; users: UserRow[] }>> {
  try {
    const { status, body } = await request("/api/v1/users/?limit=200");
    return loadedFrom(status, body, parseUserPage);
  } catch {
    return UNREACHABLE;
  }
}

export function createUser(payload: UserPayload): Promise<Saved<UserRow>> {
  return send("/api/v1/users/", "POST", payload, parseUser, 201);
}

/** Deactivate or reactivate an account, or set its password: either revokes every token and
 * session of the user (the server's doing). */
export function updateUser(userId: number, payload: UserUpdatePayload): Promise<Saved<UserRow>> {
  return send(`/api/v1/users/${userId}/`, "PATCH", payload, parseUser, 200);
}
