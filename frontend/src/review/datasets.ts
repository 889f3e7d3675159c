/** Dataset snapshots: rows, the create form → POST body, export links. Pure. */

import { type Refine, type Schemas, wire } from "../apiTypes";
import { asObj, int, num, str } from "./resource";

export interface Snapshot {
  id: number;
  project: number;
  name: string;
  testFraction: number;
  seed: number;
  contentHash: string;
  counts: Record<string, unknown>;
  card: string;
  filters: Record<string, unknown>;
  createdAt: string | null;
}

export function parseSnapshot(row: unknown): Snapshot | null {
  const r = wire<Schemas["SnapshotOutput"]>(row);
  if (!r || !Number.isInteger(r.id)) return null;
  return {
    id: r.id as number,
    project: int(r.project),
    name: str(r.name, `snapshot ${String(r.id)}`),
    testFraction: num(r.test_fraction) ?? 0,
    seed: int(r.seed),
    contentHash: str(r.content_hash),
    counts: asObj(r.counts) ?? {},
    card: str(r.card),
    filters: asObj(r.filters) ?? {},
    createdAt: typeof r.created_at === "string" ? r.created_at : null,
  };
}

/** "120 rankings · 40 sets" from the counts object (only its numeric entries). */
export function countsText(counts: Record<string, unknown>): string {
  return Object.entries(counts)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `${String(v)} ${k.replace(/_/g, " ")}`)
    .join(" · ");
}

export const EXPORT_VIEWS = ["preference", "kto", "sft", "ranked", "consensus", "preference-text", "hh-rlhf"] as const;
export const EXPORT_SPLITS = ["train", "test"] as const;
export const EXPORT_FORMATS = ["jsonl", "parquet"] as const;

export function exportHref(id: number, view: string, split: string, fmt: string): string {
  const q = new URLSearchParams({ view, split, fmt });
  return `/api/v1/datasets/${id}/export/?${q.toString()}`;
}

export interface SnapshotForm {
  project: string;
  name: string;
  testFraction: string;
  seed: string;
  since: string;
  until: string;
  minAgreement: string;
  excludeAnnotators: string;
  excludeGoldFailures: boolean;
  excludeFlagged: boolean;
}

export function emptySnapshotForm(project = ""): SnapshotForm {
  return {
    project,
    name: "",
    testFraction: "0.1",
    seed: "0",
    since: "",
    until: "",
    minAgreement: "",
    excludeAnnotators: "",
    excludeGoldFailures: false,
    excludeFlagged: false,
  };
}

/** The POST body: only what the form sets; the API's defaults fill the rest. */
export type SnapshotPayload = Refine<
  Partial<Schemas["SnapshotInputRequest"]>,
  { project: number; filters: Partial<Schemas["FilterInputRequest"]> }
>;

/** A `datetime-local` value ("2025-01-31T12:00") as an ISO instant in the browser's zone. */
function isoFromLocal(text: string): string | null {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function snapshotPayload(form: SnapshotForm): { ok: true; payload: SnapshotPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const project = Number(form.project);
  if (form.project === "" || !Number.isInteger(project)) errors.project = "Choose a project.";
  const payload: SnapshotPayload = { project, filters: {} };
  if (form.name.trim()) payload.name = form.name.trim();
  if (form.testFraction.trim() !== "") {
    const t = Number(form.testFraction);
    if (!Number.isFinite(t) || t < 0 || t > 0.99) errors.test_fraction = "Between 0 and 0.99.";
    else payload.test_fraction = t;
  }
  if (form.seed.trim() !== "") {
    const s = Number(form.seed);
    if (!Number.isInteger(s) || s < 0) errors.seed = "A whole number, 0 or more.";
    else payload.seed = s;
  }
  for (const key of ["since", "until"] as const) {
    if (form[key].trim() === "") continue;
    const iso = isoFromLocal(form[key]);
    if (iso === null) errors[`filters.${key}`] = "Not a date and time.";
    else payload.filters[key] = iso;
  }
  if (form.minAgreement.trim() !== "") {
    const m = Number(form.minAgreement);
    if (!Number.isFinite(m) || m < -1 || m > 1) errors["filters.min_agreement"] = "Between -1 and 1.";
    else payload.filters.min_agreement = m;
  }
  const names = form.excludeAnnotators
    .split(/[\s,]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length) payload.filters.exclude_annotators = names;
  if (form.excludeGoldFailures) payload.filters.exclude_gold_failures = true;
  if (form.excludeFlagged) payload.filters.exclude_flagged = true;
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, payload };
}
