/**
 * API tokens as the Tokens page shows them (issue 18): the parsers of the API's bodies and the
 * creation form's checks. Pure; the calls live in ./tokensApi.ts.
 */

import type { Schemas } from "../apiTypes";
import { asObj, int, str } from "../review/resource";

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  username: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

/** A token just created: the only time its key is in a response. */
export interface NewApiToken extends ApiToken {
  key: string;
}

type TokenWire = { [K in keyof Schemas["TokenOutput"]]?: unknown };

export function parseToken(body: unknown): ApiToken | null {
  const o = asObj(body) as TokenWire | null;
  if (o === null || !Number.isInteger(o.id) || typeof o.name !== "string") return null;
  return {
    id: int(o.id),
    name: o.name,
    prefix: str(o.prefix),
    username: str(o.username),
    createdAt: str(o.created_at),
    expiresAt: str(o.expires_at),
    lastUsedAt: typeof o.last_used_at === "string" ? o.last_used_at : null,
  };
}

export function parseNewToken(body: unknown): NewApiToken | null {
  const token = parseToken(body);
  const key = (asObj(body) as { [K in keyof Schemas["NewTokenOutput"]]?: unknown } | null)?.key;
  return token !== null && typeof key === "string" && key !== "" ? { ...token, key } : null;
}

export function parseTokenPage(body: unknown): ApiToken[] | null {
  const results = asObj(body)?.results;
  if (!Array.isArray(results)) return null;
  return results.map(parseToken).filter((t): t is ApiToken => t !== null);
}

export interface TokenForm {
  name: string;
  /** Days, as typed; empty for the server's default. */
  days: string;
}

export type TokenPayload = Schemas["TokenInputRequest"];

export function tokenPayload(
  form: TokenForm,
): { ok: true; payload: TokenPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (name === "") errors.name = "Give the token a name.";
  else if (name.length > 100) errors.name = "At most 100 characters.";
  const days = form.days.trim();
  if (days !== "" && !/^[1-9]\d{0,4}$/.test(days)) errors.expires_in_days = "A whole number of days, 1 or more.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, payload: days === "" ? { name } : { name, expires_in_days: Number(days) } };
}

/** "never" or the time, for the last-used column. */
export function lastUsedText(token: ApiToken, format: (iso: string) => string): string {
  return token.lastUsedAt === null ? "never" : format(token.lastUsedAt);
}
