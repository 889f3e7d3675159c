/**
 * The "Start a run" form, built from `GET /api/v1/run-kinds/`: each kind's config fields (the
 * algorithm's frozen dataclass, with type, default and help) become inputs, and only the values
 * changed from the default are sent in `config`. Pure; components/runs/StartRunForm.tsx renders it.
 */

import { type Refine, type Schemas, wire } from "../apiTypes";
import { type Obj, str } from "./resource";

export type FieldType = "float" | "int" | "bool" | "str" | "choice";
export type Scalar = string | number | boolean | null;

export interface ConfigField {
  name: string;
  type: FieldType;
  /** The values of a `choice` (a `Literal` in the dataclass); empty otherwise. */
  choices: Scalar[];
  /** null is accepted (an empty input means null). */
  optional: boolean;
  default: Scalar;
  help: string;
  /** A block's on/off switch (e.g. `adapter`): off sends nothing, on sends an object. */
  toggle?: true;
  /** The block a field belongs to: named `block.field`, sent inside the block's object. */
  block?: string;
}

export interface RunKindInfo {
  kind: string;
  label: string;
  needsRewardModel: boolean;
  /** The loop step the algorithm can fill ("reward", "policy") or null (registry). */
  loopRole: string | null;
  fields: ConfigField[];
}

const TYPES: readonly string[] = ["float", "int", "bool", "str", "choice"];

function scalar(value: unknown): Scalar | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A block (type "block") becomes an off-by-default switch named after it, then its own
 * fields named `block.field`; other fields are read as they are. */
function parseFields(row: unknown): ConfigField[] {
  const f = wire<Schemas["ConfigFieldOutput"]>(row);
  if (!f || f.type !== "block" || typeof f.name !== "string") {
    const one = parseField(row);
    return one ? [one] : [];
  }
  const block = f.name;
  const inner = Array.isArray(f.fields) ? f.fields.flatMap((sub: unknown) => {
    const parsed = parseField(sub);
    return parsed ? [{ ...parsed, name: `${block}.${parsed.name}`, block }] : [];
  }) : [];
  const toggle: ConfigField = { name: block, type: "bool", choices: [], optional: false, default: false, help: str(f.help), toggle: true };
  return [toggle, ...inner];
}

function parseField(row: unknown): ConfigField | null {
  const f = wire<Schemas["ConfigFieldOutput"]>(row);
  if (!f || typeof f.name !== "string" || !TYPES.includes(str(f.type))) return null;
  const fallback = scalar(f.default);
  const choices = Array.isArray(f.choices) ? f.choices.map(scalar).filter((c): c is Scalar => c !== undefined) : [];
  if (f.type === "choice" && choices.length === 0) return null;
  return {
    name: f.name,
    type: f.type as FieldType,
    choices,
    optional: f.optional === true,
    default: fallback === undefined ? null : fallback,
    help: str(f.help),
  };
}

/** The run kinds, each with its readable fields; null when the body is not a list. */
export function parseRunKinds(body: unknown): RunKindInfo[] | null {
  if (!Array.isArray(body)) return null;
  const kinds: RunKindInfo[] = [];
  for (const row of body) {
    const k = wire<Schemas["RunKindOutput"]>(row);
    if (!k || typeof k.kind !== "string") continue;
    const fields = Array.isArray(k.config_fields) ? k.config_fields.flatMap(parseFields) : [];
    const loopRole = typeof k.loop_role === "string" ? k.loop_role : null;
    kinds.push({ kind: k.kind, label: str(k.label, k.kind), needsRewardModel: k.needs_reward_model === true, loopRole, fields });
  }
  return kinds;
}

/** What an input shows for a value: "" for null, "true"/"false" for a flag. */
export function valueText(value: Scalar): string {
  return value === null ? "" : String(value);
}

/** The default as the description says it: "none" for null. */
export function defaultLabel(field: ConfigField): string {
  if (field.default === null) return "none";
  if (field.type === "bool") return field.default ? "on" : "off";
  return String(field.default);
}

/** The input's current text: the user's edit, else the default. */
export function fieldText(field: ConfigField, edits: Record<string, string>): string {
  return edits[field.name] ?? valueText(field.default);
}

/** An input's text read as the field's type, or the message to show next to it. */
export function readField(field: ConfigField, text: string): { ok: true; value: Scalar } | { ok: false; error: string } {
  const t = text.trim();
  if (t === "" && field.type !== "str") {
    return field.optional ? { ok: true, value: null } : { ok: false, error: `Enter a value (default ${defaultLabel(field)}).` };
  }
  switch (field.type) {
    case "int": {
      const n = Number(t);
      return Number.isInteger(n) ? { ok: true, value: n } : { ok: false, error: "Must be a whole number." };
    }
    case "float": {
      const n = Number(t);
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: "Must be a number." };
    }
    case "bool":
      if (t === "true" || t === "false") return { ok: true, value: t === "true" };
      return { ok: false, error: "Must be on or off." };
    case "choice": {
      const found = field.choices.find((c) => valueText(c) === t);
      return found !== undefined ? { ok: true, value: found } : { ok: false, error: `Must be one of ${field.choices.map(valueText).join(", ")}.` };
    }
    case "str":
      return t === "" && field.optional ? { ok: true, value: null } : { ok: true, value: text };
  }
}

/** `config` for the POST: only the fields whose value differs from the default. Errors are
 * keyed as the API names them (`config.beta`). */
export function changedConfig(fields: ConfigField[], edits: Record<string, string>): { config: Obj; errors: Record<string, string> } {
  const config: Obj = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    if (field.toggle) {
      if (blockOn(field.name, fields, edits)) config[field.name] = {};
      continue;
    }
    if (field.block !== undefined && !blockOn(field.block, fields, edits)) continue;
    if (!(field.name in edits)) continue;
    const read = readField(field, edits[field.name] ?? "");
    if (!read.ok) errors[`config.${field.name}`] = read.error;
    else if (read.value !== field.default) {
      if (field.block === undefined) config[field.name] = read.value;
      else (config[field.block] as Obj)[field.name.slice(field.block.length + 1)] = read.value;
    }
  }
  return { config, errors };
}

/** Whether a block's switch is on (its fields are shown and sent). */
export function blockOn(block: string, fields: ConfigField[], edits: Record<string, string>): boolean {
  const toggle = fields.find((f) => f.toggle && f.name === block);
  return toggle !== undefined && fieldText(toggle, edits) === "true";
}

/** The fields a form shows: a block's own only while its switch is on. */
export function shownFields(fields: ConfigField[], edits: Record<string, string>): ConfigField[] {
  return fields.filter((f) => f.block === undefined || blockOn(f.block, fields, edits));
}

export interface RunForm {
  kind: string;
  dataset: string;
  baseModel: string;
  rewardModel: string;
  /** Config inputs the user touched, by field name, as typed. */
  edits: Record<string, string>;
}

export function emptyRunForm(kind = "dpo"): RunForm {
  return { kind, dataset: "", baseModel: "", rewardModel: "", edits: {} };
}

/** A new kind starts from that kind's defaults (each algorithm has its own paper's). */
export function withKind(form: RunForm, kind: string): RunForm {
  return { ...form, kind, edits: {} };
}

/** The POST body: only what the form sets; the API's defaults fill the rest. */
export type RunPayload = Refine<
  Partial<Schemas["TrainingRunInputRequest"]>,
  { kind: string; dataset: number; base_model: number; reward_model?: number; config: Obj }
>;

/** The POST body, or the field errors to show (keys as the API names them). */
export function runPayload(
  form: RunForm,
  kinds: RunKindInfo[],
): { ok: true; payload: RunPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const info = kinds.find((k) => k.kind === form.kind);
  if (!info) errors.kind = "Choose a kind.";
  const dataset = Number(form.dataset);
  if (form.dataset === "" || !Number.isInteger(dataset)) errors.dataset = "Choose a dataset snapshot.";
  const base = Number(form.baseModel);
  if (form.baseModel === "" || !Number.isInteger(base)) errors.base_model = "Choose a base model.";
  const needsReward = info?.needsRewardModel ?? false;
  const reward = Number(form.rewardModel);
  if (needsReward && (form.rewardModel === "" || !Number.isInteger(reward))) {
    errors.reward_model = `A ${form.kind} run needs a reward model.`;
  }
  const { config, errors: configErrors } = changedConfig(info?.fields ?? [], form.edits);
  Object.assign(errors, configErrors);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const payload: RunPayload = { kind: form.kind, dataset, base_model: base, config };
  if (needsReward) payload.reward_model = reward;
  return { ok: true, payload };
}

/** Errors that belong to no input on the form (a config key the kind does not have, a
 * whole-body message), shown together under the config. */
export function unplacedErrors(errors: Record<string, string>, fields: ConfigField[]): [string, string][] {
  const placed = new Set(["kind", "dataset", "base_model", "reward_model", ...fields.map((f) => `config.${f.name}`)]);
  return Object.entries(errors).filter(([key]) => !placed.has(key));
}
