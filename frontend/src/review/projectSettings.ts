/**
 * The project settings form (create and edit, admins) → the body of `POST /api/v1/projects/` or
 * `PATCH /api/v1/projects/:id/`, and the import answers of `POST …/prompts/` and
 * `POST …/candidate-sets/` read into what the upload panel shows. Pure; the calls live in
 * ./projectAdminApi.ts, the form in components/projects/ProjectSettingsPage.tsx.
 *
 * Errors use the API's field names (`lease_seconds`, `criteria.ratings[1]`) so that a refusal
 * from here and one from the server land at the same field.
 */

import { type Schemas, wire } from "../apiTypes";
import type { ProjectSummary } from "../projects";
import { asObj, int, str } from "./resource";

export interface RatingRow {
  name: string;
  min: string;
  max: string;
}

export interface ProjectForm {
  name: string;
  k: string;
  annotationsPerSet: string;
  guidelines: string;
  /** Flag names, separated by commas. */
  flags: string;
  ratings: RatingRow[];
  allowTies: boolean;
  showAiSuggestion: boolean;
  leaseMinutes: string;
  goldRate: string;
}

/** The server's defaults (annotation/apis/projects.py, ProjectInput). */
export function emptyProjectForm(): ProjectForm {
  return {
    name: "",
    k: "4",
    annotationsPerSet: "1",
    guidelines: "",
    flags: "",
    ratings: [],
    allowTies: true,
    showAiSuggestion: false,
    leaseMinutes: "30",
    goldRate: "0",
  };
}

/** What an admin edits of a project as the API sent it (`ProjectOutput`). */
export interface ProjectSettings {
  id: number;
  name: string;
  k: number;
  annotationsPerSet: number;
  guidelines: string;
  flags: string[];
  ratings: { name: string; min: number; max: number }[];
  allowTies: boolean;
  showAiSuggestion: boolean;
  leaseSeconds: number;
  goldRate: number;
  promptCount: number;
  setCount: number;
}

export function parseProjectSettings(body: unknown, summary: ProjectSummary | null): ProjectSettings | null {
  const r = wire<Schemas["ProjectOutput"]>(body);
  if (!r || !summary) return null;
  return {
    id: summary.id,
    name: summary.name,
    k: summary.k,
    annotationsPerSet: int(r.annotations_per_set, 1),
    guidelines: summary.guidelines,
    flags: summary.criteria.flags,
    ratings: summary.criteria.ratings,
    allowTies: summary.allowTies,
    showAiSuggestion: summary.showAiSuggestion,
    leaseSeconds: int(r.lease_seconds, 1800),
    goldRate: typeof r.gold_rate === "number" ? r.gold_rate : 0,
    promptCount: int(r.prompt_count),
    setCount: summary.setCount,
  };
}

export function formFromSettings(p: ProjectSettings): ProjectForm {
  return {
    name: p.name,
    k: String(p.k),
    annotationsPerSet: String(p.annotationsPerSet),
    guidelines: p.guidelines,
    flags: p.flags.join(", "),
    ratings: p.ratings.map((r) => ({ name: r.name, min: String(r.min), max: String(r.max) })),
    allowTies: p.allowTies,
    showAiSuggestion: p.showAiSuggestion,
    // Whole minutes are what the form offers; an odd number of seconds is shown rounded.
    leaseMinutes: String(Math.max(1, Math.round(p.leaseSeconds / 60))),
    goldRate: String(p.goldRate),
  };
}

export type ProjectPayload = Schemas["ProjectInputRequest"];

export type Built =
  | { ok: true; payload: Partial<ProjectPayload> }
  | { ok: false; errors: Record<string, string> };

function wholeNumber(text: string): number | null {
  const t = text.trim();
  return /^-?\d{1,9}$/.test(t) ? Number(t) : null;
}

/** Comma- (or newline-) separated names, trimmed, empty ones dropped. */
export function splitNames(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Checks what only the form can get wrong (a name left empty, a number that is not one, a
 * rating scale upside down); the ranges of K, overlap, lease and gold rate are the server's to
 * enforce, and its refusal lands at the same field. With `creating` false (an edit) K is left
 * out: it is fixed once the project exists. */
export function projectPayload(form: ProjectForm, creating: boolean): Built {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (!name) errors.name = "Give the project a name.";
  const k = wholeNumber(form.k);
  if (creating && k === null) errors.k = "A whole number.";
  const overlap = wholeNumber(form.annotationsPerSet);
  if (overlap === null) errors.annotations_per_set = "A whole number.";
  const lease = wholeNumber(form.leaseMinutes);
  if (lease === null) errors.lease_seconds = "A whole number of minutes.";
  const gold = Number(form.goldRate.trim());
  if (form.goldRate.trim() === "" || !Number.isFinite(gold)) errors.gold_rate = "A number, e.g. 0.1 for one task in ten.";
  const flags = splitNames(form.flags);
  if (new Set(flags).size !== flags.length) errors["criteria.flags"] = "Flag names must be unique.";
  const ratings: { name: string; min: number; max: number }[] = [];
  form.ratings.forEach((row, i) => {
    const low = wholeNumber(row.min);
    const high = wholeNumber(row.max);
    if (!row.name.trim()) errors[`criteria.ratings[${i}]`] = "Give the dimension a name.";
    else if (low === null || high === null) errors[`criteria.ratings[${i}]`] = "Min and max must be whole numbers.";
    else if (low >= high) errors[`criteria.ratings[${i}]`] = "Min must be less than max.";
    else ratings.push({ name: row.name.trim(), min: low, max: high });
  });
  if (new Set(ratings.map((r) => r.name)).size !== ratings.length) {
    errors["criteria.ratings"] = "Dimension names must be unique.";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const payload: Partial<ProjectPayload> = {
    name,
    annotations_per_set: overlap as number,
    guidelines: form.guidelines,
    criteria: { flags, ratings },
    allow_ties: form.allowTies,
    show_ai_suggestion: form.showAiSuggestion,
    lease_seconds: (lease as number) * 60,
    gold_rate: gold,
  };
  if (creating) payload.k = k as number;
  return { ok: true, payload };
}

/** The criteria errors (any key under `criteria`), shown together at the criteria fieldset,
 * with the rating row each one names as "Dimension 2: …". */
export function criteriaErrors(errors: Record<string, string>): string[] {
  return Object.entries(errors)
    .filter(([key]) => key === "criteria" || key.startsWith("criteria."))
    .map(([key, message]) => {
      const row = /^criteria\.ratings\[(\d+)\]/.exec(key);
      if (row) return `Dimension ${Number(row[1]) + 1}: ${message}`;
      if (key === "criteria.flags") return `Flags: ${message}`;
      return message;
    });
}

/** Errors whose key is no field of the form (shown with the form's status). */
export function otherErrors(errors: Record<string, string>): string[] {
  const known = new Set(["name", "k", "annotations_per_set", "guidelines", "allow_ties", "show_ai_suggestion", "lease_seconds", "gold_rate"]);
  return Object.entries(errors)
    .filter(([key]) => !known.has(key) && key !== "criteria" && !key.startsWith("criteria."))
    .map(([key, message]) => `${key}: ${message}`);
}

// Imports.

export type ImportKind = "prompts" | "candidate-sets";

export interface RowError {
  /** 1-based: the line of a JSONL file, the position in a JSON list. */
  row: number;
  /** The field inside the row (`candidates[2].text`), or "" for the row as a whole. */
  field: string;
  message: string;
}

export type ImportOutcome =
  | { kind: "imported"; created: number }
  | { kind: "refused"; message: string; rows: RowError[]; other: string[] }
  | { kind: "signed-out" };

/** `{"rows[3].prompt": ["…"]}` → row errors in row order; other keys (`rows`, `file`) apart. */
export function rowErrors(errors: unknown): { rows: RowError[]; other: string[] } {
  const rows: RowError[] = [];
  const other: string[] = [];
  const o = asObj(errors);
  if (!o) return { rows, other };
  for (const [key, value] of Object.entries(o)) {
    const text = Array.isArray(value) ? value.filter((m) => typeof m === "string").join(" ") : str(value);
    const match = /^rows\[(\d+)\](?:\.(.*))?$/.exec(key);
    if (match) rows.push({ row: Number(match[1]), field: match[2] ?? "", message: text });
    else other.push(key === "body" || key === "non_field_errors" ? text : `${key}: ${text}`);
  }
  rows.sort((a, b) => a.row - b.row);
  return { rows, other };
}

export function importOutcomeFrom(status: number, body: unknown, fallback: string): ImportOutcome {
  if (status === 401) return { kind: "signed-out" };
  if (status === 201) {
    const created = asObj(body)?.created;
    if (typeof created === "number") return { kind: "imported", created };
  }
  const detail = str(asObj(body)?.detail, fallback);
  return { kind: "refused", message: detail, ...rowErrors(asObj(body)?.errors) };
}

export function importedText(kind: ImportKind, created: number): string {
  const noun = kind === "prompts" ? (created === 1 ? "prompt" : "prompts") : created === 1 ? "candidate set" : "candidate sets";
  return `Imported ${created} ${noun}.`;
}
