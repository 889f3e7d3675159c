/** Users as the admin's Users page shows them (`GET /api/v1/users/`), and its create form →
 * the body of `POST /api/v1/users/`. Pure. */

import { type Schemas, wire } from "../apiTypes";
import { asObj, int, str } from "./resource";

export type UserRole = Schemas["RoleEnum"];
export const USER_ROLES: readonly UserRole[] = ["annotator", "reviewer", "admin"];

export interface UserRow {
  id: number;
  username: string;
  email: string;
  role: string | null;
  isActive: boolean;
  dateJoined: string | null;
}

export function parseUser(row: unknown): UserRow | null {
  const r = wire<Schemas["UserOutput"]>(row);
  if (!r || !Number.isInteger(r.id) || typeof r.username !== "string") return null;
  return {
    id: r.id as number,
    username: r.username,
    email: str(r.email),
    role: typeof r.role === "string" ? r.role : null,
    isActive: r.is_active !== false,
    dateJoined: typeof r.date_joined === "string" ? r.date_joined : null,
  };
}

export function parseUserPage(body: unknown): { count: number; users: UserRow[] } | null {
  const o = asObj(body);
  if (!o || !Array.isArray(o.results)) return null;
  const users = o.results.map(parseUser).filter((u): u is UserRow => u !== null);
  return { count: int(o.count, users.length), users };
}

export interface UserForm {
  username: string;
  password: string;
  role: string;
  email: string;
}

export type UserPayload = Schemas["UserInputRequest"];
export type UserUpdatePayload = Schemas["PatchedUserUpdateInputRequest"];

export function emptyUserForm(): UserForm {
  return { username: "", password: "", role: "annotator", email: "" };
}

export function userPayload(form: UserForm): { ok: true; payload: UserPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const username = form.username.trim();
  if (!/^[\w.@+-]{1,150}$/u.test(username)) errors.username = "Letters, digits and @/./+/-/_ only (at most 150).";
  if (form.password === "") errors.password = "Set a password.";
  const role = USER_ROLES.find((r) => r === form.role);
  if (!role) errors.role = "Choose a role.";
  if (Object.keys(errors).length > 0 || !role) return { ok: false, errors };
  const payload: UserPayload = { username, password: form.password, role };
  const email = form.email.trim();
  if (email) payload.email = email;
  return { ok: true, payload };
}
