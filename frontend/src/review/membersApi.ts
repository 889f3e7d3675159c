/** The calls of a project's Members panel (admins): list, bulk add, change a role, remove.
 * Every answer becomes a Loaded<T>; a network failure a "could not be reached" message. */

import { request } from "../api";
import { type Member, type MembersPayload, type ProjectRole, parseMember, parseMemberList, parseMemberPage } from "./members";
import { type Loaded, fieldErrors, loadedFrom } from "./resource";

const UNREACHABLE = { kind: "failed", status: 0, message: "The server could not be reached." } as const;

export type Invalid = { kind: "invalid"; message: string; errors: Record<string, string> };

function base(projectId: number): string {
  return `/api/v1/projects/${projectId}/members/`;
}

export async function fetchMembers(projectId: number): Promise<Loaded<{ count: number; members: Member[] }>> {
  try {
    const { status, body } = await request(`${base(projectId)}?limit=500`);
    return loadedFrom(status, body, parseMemberPage);
  } catch {
    return UNREACHABLE;
  }
}

export async function addMembers(projectId: number, payload: MembersPayload): Promise<Loaded<Member[]> | Invalid> {
  try {
    const { status, body } = await request(base(projectId), { method: "POST", json: payload });
    const loaded = loadedFrom(status, body, parseMemberList, 201);
    if (status === 400 && loaded.kind === "failed") return { kind: "invalid", message: loaded.message, errors: fieldErrors(body) };
    return loaded;
  } catch {
    return UNREACHABLE;
  }
}

export async function changeMemberRole(projectId: number, userId: number, role: ProjectRole): Promise<Loaded<Member>> {
  try {
    const { status, body } = await request(`${base(projectId)}${userId}/`, { method: "PATCH", json: { role } });
    return loadedFrom(status, body, parseMember);
  } catch {
    return UNREACHABLE;
  }
}

export async function removeMember(projectId: number, userId: number): Promise<Loaded<true>> {
  try {
    const { status, body } = await request(`${base(projectId)}${userId}/`, { method: "DELETE" });
    return loadedFrom(status, body, () => true as const, 204);
  } catch {
    return UNREACHABLE;
  }
}
