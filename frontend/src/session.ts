/**
 * Who is signed in, from `GET /api/v1/me/`, and the line the page shows for it.
 * Pure functions here; main.ts does the fetching and the DOM.
 */

export type Role = "admin" | "reviewer" | "annotator";

export interface Me {
  username: string;
  role: Role;
}

/** What the session line says; `link` is set when the user has to act (sign in). */
export interface SessionLine {
  text: string;
  link?: { text: string; href: string };
}

export const SIGN_IN_URL = "/admin/login/?next=/";

const ROLES: readonly Role[] = ["admin", "reviewer", "annotator"];

/** Validate the body of `/api/v1/me/`; null if it is not the documented shape. */
export function parseMe(body: unknown): Me | null {
  if (typeof body !== "object" || body === null) return null;
  const { username, role } = body as Record<string, unknown>;
  if (typeof username !== "string" || username === "") return null;
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) return null;
  return { username, role: role as Role };
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

export function describeSession(state: SessionState): SessionLine {
  switch (state.kind) {
    case "signed-in":
      return { text: `Signed in as ${state.me.username} (${state.me.role})` };
    case "signed-out":
      return { text: "You are not signed in.", link: { text: "Sign in", href: SIGN_IN_URL } };
    case "unavailable":
      return { text: `Could not check your session: ${state.reason}.` };
  }
}
