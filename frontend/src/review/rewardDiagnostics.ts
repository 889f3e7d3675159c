/**
 * A reward run's diagnostics (`diagnostics` of `GET /api/v1/training-runs/{id}/`, issue 17):
 * held-out accuracy beside the length baseline and the annotators' ceiling, train vs held-out,
 * calibration, and accuracy per prompt metadata group. Parsed here, checked value by value;
 * metadata keys and values are untrusted text, kept as strings for React to escape.
 */

import { type Schemas, wire } from "../apiTypes";
import { int, num, str } from "./resource";

export interface SplitAccuracy {
  pairs: number;
  accuracy: number | null;
  lengthBaseline: number | null;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number | null;
  accuracy: number | null;
}

export interface Calibration {
  pairs: number;
  ece: number | null;
  brier: number | null;
  logLoss: number | null;
  bins: CalibrationBin[];
}

export interface Group {
  value: string;
  pairs: number;
  accuracy: number | null;
  lengthBaseline: number | null;
}

export interface GroupKey {
  key: string;
  values: number;
  groups: Group[];
}

export interface SkippedKey {
  key: string;
  values: number;
  reason: string;
}

export interface Ceiling {
  accuracy: number | null;
  agreement: number | null;
  sets: number;
  comparisons: number;
  reason: string;
  goldAccuracy: number | null;
  goldRankings: number;
}

export interface RewardDiagnostics {
  lengthUnit: string;
  heldout: SplitAccuracy | null;
  train: (SplitAccuracy & { ofPairs: number }) | null;
  gap: number | null;
  calibration: Calibration | null;
  groups: GroupKey[];
  groupsSkipped: SkippedKey[];
  ceiling: Ceiling | null;
}

function list<T>(value: unknown, parse: (item: unknown) => T | null): T[] {
  if (!Array.isArray(value)) return [];
  return value.map(parse).filter((item): item is T => item !== null);
}

function parseSplit(value: unknown): SplitAccuracy | null {
  const s = wire<Schemas["SplitAccuracyOutput"]>(value);
  if (!s || !Number.isInteger(s.pairs)) return null;
  return { pairs: s.pairs as number, accuracy: num(s.accuracy), lengthBaseline: num(s.length_baseline) };
}

function parseBin(value: unknown): CalibrationBin | null {
  const b = wire<Schemas["CalibrationBinOutput"]>(value);
  const lower = num(b?.lower);
  const upper = num(b?.upper);
  if (!b || lower === null || upper === null) return null;
  return { lower, upper, count: int(b.count), confidence: num(b.confidence), accuracy: num(b.accuracy) };
}

function parseCalibration(value: unknown): Calibration | null {
  const c = wire<Schemas["CalibrationOutput"]>(value);
  if (!c) return null;
  return { pairs: int(c.pairs), ece: num(c.ece), brier: num(c.brier), logLoss: num(c.log_loss), bins: list(c.bins, parseBin) };
}

function parseGroup(value: unknown): Group | null {
  const g = wire<Schemas["GroupOutput"]>(value);
  if (!g || typeof g.value !== "string") return null;
  return { value: g.value, pairs: int(g.pairs), accuracy: num(g.accuracy), lengthBaseline: num(g.length_baseline) };
}

function parseGroupKey(value: unknown): GroupKey | null {
  const k = wire<Schemas["GroupKeyOutput"]>(value);
  if (!k || typeof k.key !== "string") return null;
  return { key: k.key, values: int(k.values), groups: list(k.groups, parseGroup) };
}

function parseSkipped(value: unknown): SkippedKey | null {
  const k = wire<Schemas["GroupKeySkippedOutput"]>(value);
  if (!k || typeof k.key !== "string") return null;
  return { key: k.key, values: int(k.values), reason: str(k.reason) };
}

function parseCeiling(value: unknown): Ceiling | null {
  const c = wire<Schemas["CeilingOutput"]>(value);
  if (!c) return null;
  return {
    accuracy: num(c.accuracy),
    agreement: num(c.agreement),
    sets: int(c.sets),
    comparisons: int(c.comparisons),
    reason: str(c.reason),
    goldAccuracy: num(c.gold_accuracy),
    goldRankings: int(c.gold_rankings),
  };
}

/** The run's `diagnostics`, or null when it has none (other kinds, or not finished). */
export function parseRewardDiagnostics(body: unknown): RewardDiagnostics | null {
  const d = wire<Schemas["RunDiagnosticsOutput"]>(body);
  if (!d) return null;
  const train = parseSplit(d.train);
  const ofPairs = wire<Schemas["TrainAccuracyOutput"]>(d.train)?.of_pairs;
  return {
    lengthUnit: str(d.length_unit, "characters"),
    heldout: parseSplit(d.heldout),
    train: train ? { ...train, ofPairs: Number.isInteger(ofPairs) ? (ofPairs as number) : train.pairs } : null,
    gap: num(d.gap),
    calibration: parseCalibration(d.calibration),
    groups: list(d.groups, parseGroupKey),
    groupsSkipped: list(d.groups_skipped, parseSkipped),
    ceiling: parseCeiling(d.ceiling),
  };
}

/** What the held-out accuracy says beside its baseline and ceiling, in a sentence. */
export function verdict(d: RewardDiagnostics): string {
  const accuracy = d.heldout?.accuracy ?? null;
  const baseline = d.heldout?.lengthBaseline ?? null;
  if (accuracy === null) return "No held-out pairs: the snapshot has no test split for this run.";
  if (baseline !== null && accuracy <= baseline)
    return "Held-out accuracy does not beat the length baseline: the model may have learned length, not preference.";
  const ceiling = d.ceiling?.accuracy ?? null;
  if (ceiling !== null && accuracy >= ceiling) return "Held-out accuracy reaches the annotators' ceiling.";
  return "Held-out accuracy beats the length baseline.";
}
