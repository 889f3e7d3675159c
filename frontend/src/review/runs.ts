/**
 * Training runs: the rows of `GET /api/v1/training-runs/`, the detail with its metric series,
 * and when the detail page polls. The "Start a run" form lives in ./runConfig.ts.
 */

import { type Schemas, wire } from "../apiTypes";
import { type Obj, asObj, int, num, str } from "./resource";

export const ACTIVE_STATUSES: readonly string[] = ["queued", "running"];
export const POLL_MS = 2000;

export interface Run {
  id: number;
  kind: string;
  status: string;
  dataset: number;
  baseModel: number;
  rewardModel: number | null;
  outputModel: number | null;
  step: number;
  totalSteps: number;
  progress: number;
  createdAt: string | null;
  finishedAt: string | null;
  error: string;
  cancelRequested: boolean;
  config: Obj;
}

export interface MetricPoint {
  step: number;
  values: Record<string, number>;
}

export interface RunDetail extends Run {
  metrics: MetricPoint[];
  logTail: string;
  /** As the API sent it: components/runs/rewardDiagnostics.ts parses a reward run's. */
  diagnostics: unknown;
}

export function parseRun(row: unknown): Run | null {
  const r = wire<Schemas["TrainingRunOutput"]>(row);
  if (!r || !Number.isInteger(r.id) || typeof r.status !== "string") return null;
  return {
    id: r.id as number,
    kind: str(r.kind),
    status: r.status,
    dataset: int(r.dataset),
    baseModel: int(r.base_model),
    rewardModel: Number.isInteger(r.reward_model) ? (r.reward_model as number) : null,
    outputModel: Number.isInteger(r.output_model) ? (r.output_model as number) : null,
    step: int(r.step),
    totalSteps: int(r.total_steps),
    progress: num(r.progress) ?? 0,
    createdAt: typeof r.created_at === "string" ? r.created_at : null,
    finishedAt: typeof r.finished_at === "string" ? r.finished_at : null,
    error: str(r.error),
    cancelRequested: r.cancel_requested === true,
    config: asObj(r.config) ?? {},
  };
}

export function parseRunDetail(body: unknown): RunDetail | null {
  const run = parseRun(body);
  const o = wire<Schemas["TrainingRunDetailOutput"]>(body);
  if (!run || !o) return null;
  const metrics: MetricPoint[] = [];
  if (Array.isArray(o.metrics)) {
    for (const m of o.metrics) {
      const mo = wire<Schemas["MetricOutput"]>(m);
      const values = asObj(mo?.values);
      if (!mo || !Number.isInteger(mo.step) || !values) continue;
      const numeric: Record<string, number> = {};
      for (const [k, v] of Object.entries(values)) {
        const n = num(v);
        if (n !== null) numeric[k] = n;
      }
      metrics.push({ step: mo.step as number, values: numeric });
    }
  }
  return { ...run, metrics, logTail: str(o.log_tail), diagnostics: o.diagnostics ?? null };
}

export function isActive(status: string): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Milliseconds until the detail page asks again; null once the run is finished. */
export function nextPollDelay(run: { status: string } | null, failures = 0): number | null {
  if (run === null) return failures > 0 ? Math.min(POLL_MS * 2 ** failures, 30_000) : POLL_MS;
  if (!isActive(run.status)) return null;
  return failures > 0 ? Math.min(POLL_MS * 2 ** failures, 30_000) : POLL_MS;
}

export function progressText(run: Run): string {
  if (run.totalSteps <= 0) return run.status === "queued" ? "Waiting for a worker" : `Step ${run.step}`;
  return `Step ${run.step} of ${run.totalSteps} (${Math.round(run.progress * 100)}%)`;
}

/** One chart's worth of a metric: the points that have it, in step order. */
export interface Series {
  key: string;
  label: string;
  points: { x: number; y: number }[];
}

/** Which charts, in which order: the ones the issue names first, then the rest. */
const PREFERRED: [string, string][] = [
  ["loss", "Loss"],
  ["accuracy", "Accuracy"],
  ["rewards/accuracies", "Reward accuracy"],
  ["rewards/margins", "Reward margin"],
  ["reward", "Reward"],
  ["kl", "KL"],
  ["objective/kl", "KL"],
];
const SKIPPED = new Set(["epoch", "step", "learning_rate", "grad_norm"]);

export function metricSeries(metrics: MetricPoint[], max = 6): Series[] {
  const keys = new Set<string>();
  for (const m of metrics) for (const k of Object.keys(m.values)) keys.add(k);
  const ordered: [string, string][] = PREFERRED.filter(([k]) => keys.has(k));
  for (const k of [...keys].sort()) {
    if (!SKIPPED.has(k) && !ordered.some(([o]) => o === k)) ordered.push([k, k]);
  }
  return ordered.slice(0, max).map(([key, label]) => ({
    key,
    label,
    points: metrics
      .filter((m) => m.values[key] !== undefined)
      .map((m) => ({ x: m.step, y: m.values[key] as number }))
      .sort((a, b) => a.x - b.x),
  }));
}
