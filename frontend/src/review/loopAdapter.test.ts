import { describe, expect, it } from "vitest";
import { adapterAsWritten, adapterEdits, adapterFields, adapterSummary, adapterValue } from "./loopAdapter";
import { type LoopSettings, fieldsOf, loopForm, loopPatch, parseLoopSettings, settingsSummary, unplacedLoopErrors } from "./loopSettings";
import { parseRunKinds } from "./runConfig";

// The adapter block as GET /api/v1/run-kinds/ lists it for every algorithm (training/algorithms/base.py).
const ADAPTER_BLOCK = {
  name: "adapter",
  type: "block",
  choices: null,
  optional: true,
  default: null,
  help: "Train a PEFT adapter (LoRA) on the frozen base; None: full fine-tuning.",
  fields: [
    { name: "r", type: "int", choices: null, optional: false, default: 16, help: "LoRA rank.", fields: null },
    { name: "alpha", type: "int", choices: null, optional: false, default: 32, help: "LoRA scaling α.", fields: null },
    { name: "dropout", type: "float", choices: null, optional: false, default: 0.05, help: "Dropout.", fields: null },
    { name: "target_modules", type: "str", choices: null, optional: false, default: "all-linear", help: "Modules.", fields: null },
    { name: "train_head", type: "bool", choices: null, optional: false, default: false, help: "Head in full.", fields: null },
    { name: "quantization", type: "choice", choices: ["none", "4bit"], optional: false, default: "none", help: "QLoRA.", fields: null },
  ],
};

const KINDS = parseRunKinds([
  {
    kind: "reward",
    label: "Reward model",
    loop_role: "reward",
    config_fields: [{ name: "learning_rate", type: "float", choices: null, optional: false, default: 0.00005, help: "" }, ADAPTER_BLOCK],
  },
  {
    kind: "dpo",
    label: "DPO",
    loop_role: "policy",
    config_fields: [{ name: "beta", type: "float", choices: null, optional: false, default: 0.1, help: "" }, ADAPTER_BLOCK],
  },
])!;
const FIELDS = adapterFields(KINDS);
const DEFAULTS = { r: 16, alpha: 32, dropout: 0.05, target_modules: "all-linear", train_head: false, quantization: "none" };

const BODY = {
  project: 3,
  auto: false,
  trigger: "round_complete",
  min_new_rankings: 100,
  policy_kind: "dpo",
  reward_config: {},
  policy_config: { beta: 0.2 },
  adapter: null,
  sampling: {},
  prompt_selection: "random",
  prompts_per_round: null,
  snapshot_scope: "new",
  compare_with_previous: 0,
  test_fraction: 0.2,
  eval_prompts: [],
  eval_samples_per_prompt: 4,
  eval_max_new_tokens: 64,
  oracle: "none",
  ai_feedback: false,
  seed: 0,
  current_policy: 9,
};
const settings = (adapter: unknown = null) => parseLoopSettings({ ...BODY, adapter }) as LoopSettings;

describe("the adapter block's inputs", () => {
  it("come from the run kinds: a switch and the block's fields with the API's defaults", () => {
    expect(FIELDS.map((f) => [f.name, f.default])).toEqual([
      ["adapter", false],
      ["adapter.r", 16],
      ["adapter.alpha", 32],
      ["adapter.dropout", 0.05],
      ["adapter.target_modules", "all-linear"],
      ["adapter.train_head", false],
      ["adapter.quantization", "none"],
    ]);
    expect(adapterFields([])).toEqual([]);
  });

  it("are not part of an algorithm's config in the loop, which sets the adapter once for both runs", () => {
    expect(fieldsOf(KINDS, "dpo").map((f) => f.name)).toEqual(["beta"]);
    expect(fieldsOf(KINDS, "reward").map((f) => f.name)).toEqual(["learning_rate"]);
  });

  it("start from the stored setting: off for null, on with each stored value", () => {
    expect(settings().adapter).toBeNull();
    expect(adapterEdits(null)).toEqual({});
    expect(adapterEdits({ r: 8, train_head: true })).toEqual({ adapter: "true", "adapter.r": "8", "adapter.train_head": "true" });
    expect(loopForm(settings({ r: 8 })).adapterEdits).toEqual({ adapter: "true", "adapter.r": "8" });
  });
});

describe("adapterValue", () => {
  it("is null while the switch is off, whatever the fields say", () => {
    expect(adapterValue(null, { "adapter.r": "8" }, FIELDS)).toEqual({ value: null, errors: {} });
    expect(adapterValue({ r: 8 }, { adapter: "false", "adapter.r": "8" }, FIELDS)).toEqual({ value: null, errors: {} });
  });

  it("is the whole block while on, defaults included (never an empty object)", () => {
    expect(adapterValue(null, { adapter: "true" }, FIELDS)).toEqual({ value: DEFAULTS, errors: {} });
    expect(adapterValue(null, { adapter: "true", "adapter.r": "8", "adapter.quantization": "4bit" }, FIELDS).value).toEqual({
      ...DEFAULTS,
      r: 8,
      quantization: "4bit",
    });
  });

  it("keeps stored keys it has no input for", () => {
    expect(adapterValue({ r: 8, future_knob: 1 }, adapterEdits({ r: 8, future_knob: 1 }), FIELDS).value).toEqual({
      ...DEFAULTS,
      r: 8,
      future_knob: 1,
    });
  });

  it("names what it cannot read as the API does (adapter.r)", () => {
    expect(adapterValue(null, { adapter: "true", "adapter.r": "2.5", "adapter.dropout": "" }, FIELDS).errors).toEqual({
      "adapter.r": "Must be a whole number.",
      "adapter.dropout": "Enter a value (default 0.05).",
    });
  });

  it("compares with a stored block filled with the defaults", () => {
    expect(adapterAsWritten(null, FIELDS)).toBeNull();
    expect(adapterAsWritten({ r: 8 }, FIELDS)).toEqual({ ...DEFAULTS, r: 8 });
  });
});

describe("loopPatch with the adapter", () => {
  it("sends nothing while the adapter setting is as stored", () => {
    expect(loopPatch(settings(), loopForm(settings()), KINDS)).toEqual({ ok: true, patch: {} });
    // A block stored with only some keys reads back the same.
    expect(loopPatch(settings({ r: 8, alpha: 16 }), loopForm(settings({ r: 8, alpha: 16 })), KINDS)).toEqual({ ok: true, patch: {} });
  });

  it("sends the whole block when switched on, and null when switched off", () => {
    const on = { ...loopForm(settings()), adapterEdits: { adapter: "true", "adapter.r": "8" } };
    expect(loopPatch(settings(), on, KINDS)).toEqual({ ok: true, patch: { adapter: { ...DEFAULTS, r: 8 } } });
    const off = { ...loopForm(settings({ r: 8 })), adapterEdits: { adapter: "false", "adapter.r": "8" } };
    expect(loopPatch(settings({ r: 8 }), off, KINDS)).toEqual({ ok: true, patch: { adapter: null } });
  });

  it("sends the block when a field changes, and the field's error when it cannot be read", () => {
    const edited = { ...loopForm(settings({ r: 8 })), adapterEdits: { adapter: "true", "adapter.r": "8", "adapter.alpha": "64" } };
    expect(loopPatch(settings({ r: 8 }), edited, KINDS)).toEqual({ ok: true, patch: { adapter: { ...DEFAULTS, r: 8, alpha: 64 } } });
    const bad = { ...edited, adapterEdits: { ...edited.adapterEdits, "adapter.alpha": "lots" } };
    expect(loopPatch(settings({ r: 8 }), bad, KINDS)).toEqual({ ok: false, errors: { "adapter.alpha": "Must be a whole number." } });
  });

  it("leaves the adapter alone when the run kinds have no block", () => {
    const kinds = parseRunKinds([{ kind: "dpo", label: "DPO", loop_role: "policy", config_fields: [] }])!;
    const form = { ...loopForm(settings({ r: 8 })), adapterEdits: {} };
    expect(loopPatch(settings({ r: 8 }), form, kinds)).toEqual({ ok: true, patch: {} });
  });

  it("places the API's adapter errors next to their inputs", () => {
    const errors = { adapter: "Must be an object.", "adapter.r": "Must be between 1 and 1024.", "adapter.rank": "Unknown field." };
    expect(unplacedLoopErrors(errors, [], [], FIELDS)).toEqual([["adapter.rank", "Unknown field."]]);
  });
});

describe("adapterSummary", () => {
  it("says full fine-tuning, or the LoRA rank and alpha (a value left out is the API's default)", () => {
    expect(adapterSummary(null, FIELDS)).toBe("full fine-tuning");
    expect(adapterSummary({ r: 8 }, FIELDS)).toBe("LoRA r=8, α=32");
    expect(adapterSummary({ ...DEFAULTS, quantization: "4bit", train_head: true }, FIELDS)).toBe(
      "QLoRA (4-bit base) r=16, α=32, output head trained in full",
    );
    expect(adapterSummary({}, [])).toBe("LoRA r=default, α=default");
  });

  it("is a line of the reviewers' settings list", () => {
    expect(new Map(settingsSummary(settings(), KINDS)).get("Rounds train")).toBe("full fine-tuning");
    expect(new Map(settingsSummary(settings({ r: 16, alpha: 32 }), KINDS)).get("Rounds train")).toBe("LoRA r=16, α=32");
  });
});
