/**
 * Reading an API answer into what a reviewer/admin page shows: the parsed body, "signed out"
 * (401), or a message (403 and every other refusal are shown, never thrown). Pure; the fetching
 * lives in ./reviewApi.ts.
 */

import { errorMessage } from "../apiErrors";
import { type Schemas, wire } from "../apiTypes";

export type Loaded<T> =
  | { kind: "loaded"; value: T }
  | { kind: "signed-out" }
  | { kind: "failed"; status: number; message: string };

export function loadedFrom<T>(
  status: number,
  body: unknown,
  parse: (body: unknown) => T | null,
  okStatus: number = 200,
): Loaded<T> {
  if (status === 401) return { kind: "signed-out" };
  if (status === 403 && errorMessage(status, body).startsWith("The server refused")) {
    // Not DRF's JSON (which says why): a plain 403 page.
    return { kind: "failed", status, message: "You do not have access to this (403)." };
  }
  if (status !== okStatus) return { kind: "failed", status, message: errorMessage(status, body) };
  const value = parse(body);
  return value === null
    ? { kind: "failed", status, message: "The server answered with something unexpected." }
    : { kind: "loaded", value };
}

/** `{"errors": {"config.beta": ["…"]}}` → `{"config.beta": "…"}` (messages joined). */
export function fieldErrors(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const errors = wire<Schemas["Error"]>(body)?.errors;
  if (typeof errors !== "object" || errors === null) return out;
  for (const [field, messages] of Object.entries(errors as Record<string, unknown>)) {
    if (Array.isArray(messages)) {
      const text = messages.filter((m): m is string => typeof m === "string").join(" ");
      if (text) out[field] = text;
    } else if (typeof messages === "string") {
      out[field] = messages;
    } else if (typeof messages === "object" && messages !== null) {
      // DRF nests errors of a nested serializer: {"filters": {"since": ["…"]}}.
      for (const [sub, text] of Object.entries(fieldErrors({ errors: messages }))) {
        out[`${field}.${sub}`] = text;
      }
    }
  }
  return out;
}

// Small readers used by the parsers of the pages' bodies.

export type Obj = Record<string, unknown>;

export function asObj(value: unknown): Obj | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : null;
}

export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function int(value: unknown, fallback = 0): number {
  return typeof value === "number" && Number.isInteger(value) ? value : fallback;
}

export function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

export function intList(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => Number.isInteger(v)) : [];
}

export function tierList(value: unknown): number[][] {
  return Array.isArray(value) ? value.filter(Array.isArray).map(intList) : [];
}

/** A page `{"count", "results": [...]}` of rows `parse` accepts (unreadable rows left out). */
export interface Page<T> {
  count: number;
  results: T[];
}

export function parsePage<T>(body: unknown, parse: (row: unknown) => T | null): Page<T> | null {
  const o = asObj(body);
  if (!o || !Array.isArray(o.results)) return null;
  const results = o.results.map(parse).filter((r): r is T => r !== null);
  return { count: int(o.count, results.length), results };
}

/** "0.734" / "–" for a missing number; `digits` after the point. */
export function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? "–" : value.toFixed(digits);
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

export function dateTime(value: string | null): string {
  if (!value) return "–";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString();
}
