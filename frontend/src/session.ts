/**
 * Who is signed in, from `GET /api/v1/me/` (or the answer to a sign-in), and the line the page
 * shows for it. Pure functions here; api.ts does the fetching and components/ the DOM.
 */

import { type Refine, type Schemas, wire } from "./apiTypes";

export type Role = "admin" | "reviewer" | "annotator";

/** A signed-in user. `role` is null for an account no admin has given a role yet. */
export type Me = Refine<Schemas["Me"], { role: Role | null }>;

const ROLES: readonly Role[] = ["admin", "reviewer", "annotator"];

function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Validate a `{"id", "username", "role"}` body; null if it is not the documented shape. */
export function parseMe(body: unknown): Me | null {
  const me = wire<Me>(body);
  if (!me) return null;
  const { id, username, role } = me;
  if (typeof id !== "number" || !Number.isInteger(id)) return null;
  if (typeof username !== "string" || username === "") return null;
  if (role !== null && !isRole(role)) return null;
  return { id, username, role };
}

/**
 * The outcome of asking the API who we are: signed in, signed out (401/403),
 * or the API could not tell (network error, 5xx, unexpected body).
 */
export type SessionState =
  | { kind: "signed-in"; me: Me }
  | { kind: "signed-out" }
  | { kind: "unavailable"; reason: string };

export function sessionStateFrom(status: number, body: unknown): SessionState {
  if (status === 401 || status === 403) return { kind: "signed-out" };
  if (status !== 200) return { kind: "unavailable", reason: `the server answered ${status}` };
  const me = parseMe(body);
  return me ? { kind: "signed-in", me } : { kind: "unavailable", reason: "unexpected answer" };
}

/** "Signed in as ada (annotator)". Plain text: the caller puts it in with textContent. */
export function signedInText(me: Me): string {
  return `Signed in as ${me.username} (${me.role ?? "no role"})`;
}
