/**
 * A project's loop settings (`GET/PATCH /api/v1/projects/{id}/loop/`): the body read, the form
 * the admin edits (every input as typed text), and the PATCH made of only what changed. The
 * reward and policy configs use the run-config builder (./runConfig.ts): one input per field of
 * the algorithm's config, only values that differ from the default stored. The adapter block
 * that every round's runs take is a setting of its own (./loopAdapter.ts). Pure.
 */

import { type Refine, type Schemas, wire } from "../apiTypes";
import { ADAPTER, adapterAsWritten, adapterEdits, adapterFields, adapterSummary, adapterValue, isAdapterField } from "./loopAdapter";
import { type Obj, asObj, int, num, str } from "./resource";
import { type ConfigField, type RunKindInfo, type Scalar, changedConfig, valueText } from "./runConfig";

export interface LoopSettings {
  project: number;
  auto: boolean;
  trigger: string;
  minNewRankings: number;
  policyKind: string;
  rewardConfig: Obj;
  policyConfig: Obj;
  /** The LoRA block every round's reward and policy runs take; null: full fine-tuning. */
  adapter: Obj | null;
  sampling: Obj;
  promptSelection: string;
  /** null: every pending prompt. */
  promptsPerRound: number | null;
  /** Independent candidate sets of K per prompt in each round's generation. */
  setsPerPrompt: number;
  snapshotScope: string;
  compareWithPrevious: number;
  /** Held-out prompts of each round's blind human A/B (new policy against the previous one); 0: off. */
  humanEvalPrompts: number;
  testFraction: number;
  /** How many held-out evaluation prompts the loop has (the prompts themselves are not edited here). */
  evalPromptCount: number;
  evalSamplesPerPrompt: number;
  evalMaxNewTokens: number;
  oracle: string;
  aiFeedback: boolean;
  /** Promote a round's policy only when the independent evaluation confirms it. */
  requireConfirmation: boolean;
  seed: number;
  currentPolicy: number | null;
}

export function parseLoopSettings(body: unknown): LoopSettings | null {
  const b = wire<Schemas["LoopOutput"]>(body);
  if (!b || typeof b.policy_kind !== "string" || typeof b.auto !== "boolean") return null;
  return {
    project: int(b.project),
    auto: b.auto,
    trigger: str(b.trigger),
    minNewRankings: int(b.min_new_rankings),
    policyKind: b.policy_kind,
    rewardConfig: asObj(b.reward_config) ?? {},
    policyConfig: asObj(b.policy_config) ?? {},
    adapter: asObj(b.adapter),
    sampling: asObj(b.sampling) ?? {},
    promptSelection: str(b.prompt_selection),
    promptsPerRound: Number.isInteger(b.prompts_per_round) ? (b.prompts_per_round as number) : null,
    setsPerPrompt: Number.isInteger(b.sets_per_prompt) ? (b.sets_per_prompt as number) : 1,
    snapshotScope: str(b.snapshot_scope),
    compareWithPrevious: int(b.compare_with_previous),
    humanEvalPrompts: int(b.human_eval_prompts),
    testFraction: num(b.test_fraction) ?? 0,
    evalPromptCount: Array.isArray(b.eval_prompts) ? b.eval_prompts.length : 0,
    evalSamplesPerPrompt: int(b.eval_samples_per_prompt),
    evalMaxNewTokens: int(b.eval_max_new_tokens),
    oracle: str(b.oracle),
    aiFeedback: b.ai_feedback === true,
    requireConfirmation: b.require_confirmation !== false,
    seed: int(b.seed),
    currentPolicy: Number.isInteger(b.current_policy) ? (b.current_policy as number) : null,
  };
}

/** The choices the API accepts (loop/models.py), with what the form says for each. */
/** The trigger's choices, short enough for the settings column's select (its width is
 * about 16rem: a longer label was cut off, issue 18); the field's hint says the rest. */
export const TRIGGERS: [string, string][] = [
  ["round_complete", "Newest round ranked"],
  ["new_rankings", "N new rankings"],
];
export const TRIGGER_HINT =
  "Newest round ranked: once every set of the newest round has its rankings (the page lists what it still waits for). N new rankings: once that many arrived since the last round.";
/** The algorithms a round's policy step can run: those the registry gives the policy role. */
export function policyKinds(kinds: RunKindInfo[]): [string, string][] {
  return kinds.filter((k) => k.loopRole === "policy").map((k) => [k.kind, k.label]);
}
export const PROMPT_SELECTIONS: [string, string][] = [
  ["random", "Random"],
  ["uncertainty", "Least certain reward model (active learning)"],
];
export const SNAPSHOT_SCOPES: [string, string][] = [
  ["new", "Rankings since the previous round (on-policy)"],
  ["all", "All rankings so far"],
];
export const ORACLES: [string, string][] = [
  ["none", "None"],
  ["tinyworld", "Tiny world hidden rule"],
  ["tinyworld-topic", "Tiny world hidden rule: closing by topic"],
  ["tinyworld-template", "Tiny world hidden rule: closing by template"],
];

/** Generation sampling keys (training/services/generation.py); blank: the server's default. */
export const SAMPLING_KEYS = ["temperature", "top_p", "max_new_tokens", "batch_size"] as const;
export type SamplingKey = (typeof SAMPLING_KEYS)[number];
const SAMPLING_INTEGER: Record<SamplingKey, boolean> = { temperature: false, top_p: false, max_new_tokens: true, batch_size: true };

export interface LoopForm {
  auto: boolean;
  trigger: string;
  minNewRankings: string;
  policyKind: string;
  /** Config inputs as typed, by field name (a stored value counts as typed). */
  rewardEdits: Record<string, string>;
  policyEdits: Record<string, string>;
  /** The adapter switch and block inputs, named as a run config's (`adapter`, `adapter.r`). */
  adapterEdits: Record<string, string>;
  sampling: Record<SamplingKey, string>;
  promptSelection: string;
  /** "": all pending prompts. */
  promptsPerRound: string;
  setsPerPrompt: string;
  snapshotScope: string;
  compareWithPrevious: string;
  humanEvalPrompts: string;
  testFraction: string;
  evalSamplesPerPrompt: string;
  evalMaxNewTokens: string;
  oracle: string;
  aiFeedback: boolean;
  requireConfirmation: boolean;
  seed: string;
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function configEdits(config: Obj): Record<string, string> {
  const edits: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (isScalar(v)) edits[k] = valueText(v);
  return edits;
}

export function loopForm(s: LoopSettings): LoopForm {
  const sampling = {} as Record<SamplingKey, string>;
  for (const k of SAMPLING_KEYS) sampling[k] = isScalar(s.sampling[k]) ? valueText(s.sampling[k] as Scalar) : "";
  return {
    auto: s.auto,
    trigger: s.trigger,
    minNewRankings: String(s.minNewRankings),
    policyKind: s.policyKind,
    rewardEdits: configEdits(s.rewardConfig),
    policyEdits: configEdits(s.policyConfig),
    adapterEdits: adapterEdits(s.adapter),
    sampling,
    promptSelection: s.promptSelection,
    promptsPerRound: s.promptsPerRound === null ? "" : String(s.promptsPerRound),
    setsPerPrompt: String(s.setsPerPrompt),
    snapshotScope: s.snapshotScope,
    compareWithPrevious: String(s.compareWithPrevious),
    humanEvalPrompts: String(s.humanEvalPrompts),
    testFraction: String(s.testFraction),
    evalSamplesPerPrompt: String(s.evalSamplesPerPrompt),
    evalMaxNewTokens: String(s.evalMaxNewTokens),
    oracle: s.oracle,
    aiFeedback: s.aiFeedback,
    requireConfirmation: s.requireConfirmation,
    seed: String(s.seed),
  };
}

/** A new policy algorithm starts from its own paper's defaults; going back to the saved one
 * brings back its saved config. */
export function withPolicyKind(form: LoopForm, kind: string, saved: LoopSettings): LoopForm {
  if (kind === form.policyKind) return form;
  return { ...form, policyKind: kind, policyEdits: kind === saved.policyKind ? configEdits(saved.policyConfig) : {} };
}

/** An algorithm's config fields as the loop edits them: without the adapter block, which the
 * loop sets once for both of a round's runs (`adapter`). */
export function fieldsOf(kinds: RunKindInfo[], kind: string): ConfigField[] {
  return (kinds.find((k) => k.kind === kind)?.fields ?? []).filter((f) => !isAdapterField(f));
}

/** Two flat JSON objects with the same keys and values, in any order. */
export function sameObject(a: Obj, b: Obj): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** A stored config as the form would write it back: known keys at their default dropped. */
function normalised(config: Obj, fields: ConfigField[]): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(config)) {
    const field = fields.find((f) => f.name === k);
    if (!field || field.default !== v) out[k] = v;
  }
  return out;
}

/** The config the form's inputs make, keys the form has no input for kept from `stored`;
 * errors keyed as the API names them (`policy_config.beta`). */
function formConfig(name: string, fields: ConfigField[], edits: Record<string, string>, stored: Obj) {
  const known = new Set(fields.map((f) => f.name));
  const kept: Obj = {};
  for (const [k, v] of Object.entries(stored)) if (!known.has(k)) kept[k] = v;
  const { config, errors } = changedConfig(fields, edits);
  const named: Record<string, string> = {};
  for (const [k, m] of Object.entries(errors)) named[`${name}.${k.replace(/^config\./, "")}`] = m;
  return { config: { ...kept, ...config }, errors: named };
}

/** The PATCH body; the form's choices are the API's, but come from `<select>`s as strings. */
export type LoopPatch = Refine<
  Schemas["PatchedLoopInputRequest"],
  {
    trigger?: string;
    policy_kind?: string;
    reward_config?: Obj;
    policy_config?: Obj;
    adapter?: Obj | null;
    sampling?: Obj;
    prompt_selection?: string;
    snapshot_scope?: string;
    oracle?: string;
  }
>;

/**
 * The PATCH body: only the settings the form changed. Type errors are found here (keys as the
 * API names them); ranges and cross-field rules are the API's, whose 400 names the field.
 * Changing the policy algorithm always sends its config too, since the server checks the
 * config against the new algorithm.
 */
export function loopPatch(
  original: LoopSettings,
  form: LoopForm,
  kinds: RunKindInfo[],
): { ok: true; patch: LoopPatch } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const patch: LoopPatch = {};
  const whole = (api: string, text: string, current: number, set: (n: number) => void) => {
    const t = text.trim();
    const n = Number(t);
    if (t === "" || !Number.isInteger(n)) errors[api] = "Must be a whole number.";
    else if (n !== current) set(n);
  };

  if (form.auto !== original.auto) patch.auto = form.auto;
  if (form.trigger !== original.trigger) patch.trigger = form.trigger;
  whole("min_new_rankings", form.minNewRankings, original.minNewRankings, (n) => (patch.min_new_rankings = n));
  if (form.promptSelection !== original.promptSelection) patch.prompt_selection = form.promptSelection;
  const perRound = form.promptsPerRound.trim();
  if (perRound === "") {
    if (original.promptsPerRound !== null) patch.prompts_per_round = null;
  } else {
    whole("prompts_per_round", perRound, original.promptsPerRound ?? Number.NaN, (n) => (patch.prompts_per_round = n));
  }
  whole("sets_per_prompt", form.setsPerPrompt, original.setsPerPrompt, (n) => (patch.sets_per_prompt = n));
  if (form.snapshotScope !== original.snapshotScope) patch.snapshot_scope = form.snapshotScope;
  whole("compare_with_previous", form.compareWithPrevious, original.compareWithPrevious, (n) => (patch.compare_with_previous = n));
  const fraction = Number(form.testFraction.trim());
  if (form.testFraction.trim() === "" || !Number.isFinite(fraction)) errors.test_fraction = "Must be a number.";
  else if (fraction !== original.testFraction) patch.test_fraction = fraction;
  whole("eval_samples_per_prompt", form.evalSamplesPerPrompt, original.evalSamplesPerPrompt, (n) => (patch.eval_samples_per_prompt = n));
  whole("eval_max_new_tokens", form.evalMaxNewTokens, original.evalMaxNewTokens, (n) => (patch.eval_max_new_tokens = n));
  whole("human_eval_prompts", form.humanEvalPrompts, original.humanEvalPrompts, (n) => (patch.human_eval_prompts = n));
  if (form.oracle !== original.oracle) patch.oracle = form.oracle;
  if (form.aiFeedback !== original.aiFeedback) patch.ai_feedback = form.aiFeedback;
  if (form.requireConfirmation !== original.requireConfirmation) patch.require_confirmation = form.requireConfirmation;
  whole("seed", form.seed, original.seed, (n) => (patch.seed = n));

  const sampling: Obj = {};
  for (const key of SAMPLING_KEYS) {
    const t = form.sampling[key].trim();
    if (t === "") continue;
    const v = Number(t);
    if (!Number.isFinite(v) || (SAMPLING_INTEGER[key] && !Number.isInteger(v))) {
      errors[`sampling.${key}`] = SAMPLING_INTEGER[key] ? "Must be a whole number." : "Must be a number.";
    } else sampling[key] = v;
  }
  if (!sameObject(sampling, original.sampling)) patch.sampling = sampling;

  const rewardFields = fieldsOf(kinds, "reward");
  const reward = formConfig("reward_config", rewardFields, form.rewardEdits, original.rewardConfig);
  Object.assign(errors, reward.errors);
  if (!sameObject(reward.config, normalised(original.rewardConfig, rewardFields))) patch.reward_config = reward.config;

  const policyFields = fieldsOf(kinds, form.policyKind);
  const kindChanged = form.policyKind !== original.policyKind;
  const policy = formConfig("policy_config", policyFields, form.policyEdits, kindChanged ? {} : original.policyConfig);
  Object.assign(errors, policy.errors);
  if (kindChanged) {
    patch.policy_kind = form.policyKind;
    patch.policy_config = policy.config;
  } else if (!sameObject(policy.config, normalised(original.policyConfig, policyFields))) {
    patch.policy_config = policy.config;
  }

  const adapterInputs = adapterFields(kinds);
  if (adapterInputs.length > 0) {
    const adapter = adapterValue(original.adapter, form.adapterEdits, adapterInputs);
    Object.assign(errors, adapter.errors);
    const before = adapterAsWritten(original.adapter, adapterInputs);
    const same = adapter.value === null || before === null ? adapter.value === before : sameObject(adapter.value, before);
    if (!same) patch.adapter = adapter.value;
  }

  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, patch };
}

/** What a reviewer reads instead of the form: each setting as a label and a value. */
export function settingsSummary(s: LoopSettings, kinds: RunKindInfo[] = []): [string, string][] {
  const label = (choices: [string, string][], value: string) => choices.find(([v]) => v === value)?.[1] ?? value;
  const config = (c: Obj) => {
    const entries = Object.entries(c);
    return entries.length ? entries.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ") : "defaults";
  };
  return [
    ["Automatic rounds", s.auto ? "on" : "off"],
    ["Trigger", s.trigger === "new_rankings" ? `When ${s.minNewRankings} new rankings arrived` : "When the newest round's sets are complete"],
    ["Policy algorithm", label(policyKinds(kinds), s.policyKind)],
    ["Policy config", config(s.policyConfig)],
    ["Reward-model config", config(s.rewardConfig)],
    ["Rounds train", adapterSummary(s.adapter, adapterFields(kinds))],
    ["Sampling", config(s.sampling)],
    ["Prompt selection", label(PROMPT_SELECTIONS, s.promptSelection)],
    ["Prompts per round", s.promptsPerRound === null ? "all pending" : String(s.promptsPerRound)],
    ["Sets per prompt", String(s.setsPerPrompt)],
    ["Training data", label(SNAPSHOT_SCOPES, s.snapshotScope)],
    ["Previous policy's candidates per set", String(s.compareWithPrevious)],
    ["Test fraction", String(s.testFraction)],
    ["Evaluation prompts", String(s.evalPromptCount)],
    ["Evaluation samples per prompt", String(s.evalSamplesPerPrompt)],
    ["Evaluation max new tokens", String(s.evalMaxNewTokens)],
    ["Oracle", label(ORACLES, s.oracle)],
    ...(s.humanEvalPrompts > 0
      ? ([["Blind human A/B", `${s.humanEvalPrompts} held-out prompts per round, ranked by the annotators before the verdict`]] as [string, string][])
      : []),
    ["AI pre-ranking", s.aiFeedback ? "on" : "off"],
    ["Promotion", s.requireConfirmation ? "only when the independent evaluation confirms the round" : "every round"],
    ["Seed", String(s.seed)],
  ];
}

/** The settings the form has an input for, as the API names them (the held-out evaluation prompts
 * are shown, not edited: an error about them has no input to sit next to). */
export const LOOP_INPUTS = [
  "auto",
  "trigger",
  "min_new_rankings",
  "policy_kind",
  "snapshot_scope",
  "test_fraction",
  "seed",
  "prompt_selection",
  "prompts_per_round",
  "sets_per_prompt",
  "compare_with_previous",
  "eval_samples_per_prompt",
  "eval_max_new_tokens",
  "human_eval_prompts",
  "oracle",
  "ai_feedback",
  "require_confirmation",
] as const;
/** …and the adapter switch, shown when the run kinds list the block. */
export type LoopInput = (typeof LOOP_INPUTS)[number] | `sampling.${SamplingKey}` | typeof ADAPTER;

/** Errors with no input on the form (a key of a config the form has no field for, or the
 * whole body), shown together under the form. */
export function unplacedLoopErrors(
  errors: Record<string, string>,
  rewardFields: ConfigField[],
  policyFields: ConfigField[],
  adapterInputs: ConfigField[] = [],
): [string, string][] {
  const placed = new Set<string>([
    ...LOOP_INPUTS,
    ...adapterInputs.map((f) => f.name),
    ...SAMPLING_KEYS.map((k) => `sampling.${k}`),
    ...rewardFields.map((f) => `reward_config.${f.name}`),
    ...policyFields.map((f) => `policy_config.${f.name}`),
  ]);
  return Object.entries(errors).filter(([key]) => !placed.has(key));
}
