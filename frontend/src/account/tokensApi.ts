/** The API-token calls of the Tokens page: list the caller's, create one, revoke one. */

import { request } from "../api";
import { type Loaded, fieldErrors, loadedFrom } from "../review/resource";
import { type ApiToken, type NewApiToken, type TokenPayload, parseNewToken, parseTokenPage } from "./tokens";

const UNREACHABLE = { kind: "failed", status: 0, message: "the server could not be reached" } as const;

export type Created = Loaded<NewApiToken> | { kind: "invalid"; message: string; errors: Record<string, string> };

export async function fetchTokens(): Promise<Loaded<ApiToken[]>> {
  try {
    const { status, body } = await request("/api/v1/auth/tokens/?limit=200");
    return loadedFrom(status, body, parseTokenPage);
  } catch {
    return UNREACHABLE;
  }
}

export async function createToken(payload: TokenPayload): Promise<Created> {
  try {
    const { status, body } = await request("/api/v1/auth/tokens/", { method: "POST", json: payload });
    const loaded = loadedFrom(status, body, parseNewToken, 201);
    if (status === 400 && loaded.kind === "failed") {
      return { kind: "invalid", message: loaded.message, errors: fieldErrors(body) };
    }
    return loaded;
  } catch {
    return UNREACHABLE;
  }
}

export async function revokeToken(id: number): Promise<Loaded<null>> {
  try {
    const { status, body } = await request(`/api/v1/auth/tokens/${id}/`, { method: "DELETE" });
    if (status === 204) return { kind: "loaded", value: null };
    return loadedFrom(status, body, () => null);
  } catch {
    return UNREACHABLE;
  }
}
