/** A project's members as its Members panel shows them (`GET /api/v1/projects/:id/members/`),
 * and the panel's "add" form → the body of the bulk add. Pure. */

import { type Schemas, wire } from "../apiTypes";
import { asObj, int } from "./resource";

export type ProjectRole = Schemas["ProjectRoleEnum"];
export const PROJECT_ROLES: readonly ProjectRole[] = ["annotator", "reviewer"];

export interface Member {
  user: number;
  username: string;
  role: ProjectRole;
  accountRole: string | null;
  addedBy: string | null;
  addedAt: string | null;
}

export function parseMember(row: unknown): Member | null {
  const r = wire<Schemas["MemberOutput"]>(row);
  if (!r || typeof r.user !== "number" || !Number.isInteger(r.user) || typeof r.username !== "string") return null;
  const role = PROJECT_ROLES.find((p) => p === r.role);
  if (!role) return null;
  return {
    user: r.user,
    username: r.username,
    role,
    accountRole: typeof r.account_role === "string" ? r.account_role : null,
    addedBy: typeof r.added_by === "string" ? r.added_by : null,
    addedAt: typeof r.added_at === "string" ? r.added_at : null,
  };
}

export function parseMemberPage(body: unknown): { count: number; members: Member[] } | null {
  const o = asObj(body);
  if (!o || !Array.isArray(o.results)) return null;
  const members = o.results.map(parseMember);
  if (members.some((m) => m === null)) return null;
  return { count: int(o.count, members.length), members: members as Member[] };
}

/** The bulk add's answer `{"members": [...]}`: the users named, as members now. */
export function parseMemberList(body: unknown): Member[] | null {
  const o = asObj(body);
  if (!o || !Array.isArray(o.members)) return null;
  const members = o.members.map(parseMember);
  return members.some((m) => m === null) ? null : (members as Member[]);
}

export type MembersPayload = Schemas["MembersAddInputRequest"];

/** "ann1, ann2\nann3" → the usernames, each once, in order; whitespace, commas and semicolons
 * separate them. */
export function usernamesIn(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const name of text.split(/[\s,;]+/u)) {
    if (name && !seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      out.push(name);
    }
  }
  return out;
}

export function membersPayload(
  text: string,
  role: string,
): { ok: true; payload: MembersPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const users = usernamesIn(text);
  if (users.length === 0) errors.users = "Name at least one user.";
  else if (users.length > 1000) errors.users = "At most 1000 users at once.";
  const chosen = PROJECT_ROLES.find((r) => r === role);
  if (!chosen) errors.role = "Choose a role.";
  if (Object.keys(errors).length > 0 || !chosen) return { ok: false, errors };
  return { ok: true, payload: { users, role: chosen } };
}
