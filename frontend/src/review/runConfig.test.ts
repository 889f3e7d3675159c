import { describe, expect, it } from "vitest";
import {
  changedConfig,
  emptyRunForm,
  fieldText,
  parseRunKinds,
  readField,
  runPayload,
  shownFields,
  unplacedErrors,
  withKind,
} from "./runConfig";

// The shape of GET /api/v1/run-kinds/ (two kinds, a few fields each).
const BODY = [
  {
    kind: "dpo",
    label: "DPO",
    needs_reward_model: false,
    config_fields: [
      { name: "learning_rate", type: "float", choices: null, optional: false, default: 1e-6, help: "Peak LR." },
      { name: "max_steps", type: "int", choices: null, optional: true, default: null, help: "Stop early." },
      { name: "beta", type: "float", choices: null, optional: false, default: 0.1, help: "KL strength." },
      { name: "loss_type", type: "choice", choices: ["sigmoid", "hinge", "ipo"], optional: false, default: "sigmoid", help: "Loss." },
      { name: "precompute_ref_log_probs", type: "bool", choices: null, optional: false, default: false, help: "Saves memory." },
      { name: "broken", type: "tensor", default: 1 },
    ],
  },
  {
    kind: "ppo",
    label: "PPO",
    needs_reward_model: true,
    config_fields: [{ name: "kl_coef", type: "float", choices: null, optional: false, default: 0.05, help: "β." }],
  },
  "not a kind",
];

const kinds = parseRunKinds(BODY)!;
const dpo = kinds[0]!.fields;
const field = (name: string) => dpo.find((f) => f.name === name)!;

describe("parseRunKinds", () => {
  it("reads each kind's fields, leaving out what it cannot read", () => {
    expect(kinds.map((k) => [k.kind, k.label, k.needsRewardModel])).toEqual([
      ["dpo", "DPO", false],
      ["ppo", "PPO", true],
    ]);
    expect(dpo.map((f) => f.name)).toEqual(["learning_rate", "max_steps", "beta", "loss_type", "precompute_ref_log_probs"]);
    expect(field("loss_type")).toEqual({
      name: "loss_type", type: "choice", choices: ["sigmoid", "hinge", "ipo"], optional: false, default: "sigmoid", help: "Loss.",
    });
    expect(parseRunKinds({ results: [] })).toBeNull();
  });

  it("shows the default until the field is edited", () => {
    expect(fieldText(field("learning_rate"), {})).toBe("0.000001");
    expect(fieldText(field("max_steps"), {})).toBe("");
    expect(fieldText(field("precompute_ref_log_probs"), {})).toBe("false");
    expect(fieldText(field("beta"), { beta: "0.3" })).toBe("0.3");
  });
});

describe("readField", () => {
  it("reads each type", () => {
    expect(readField(field("max_steps"), "10")).toEqual({ ok: true, value: 10 });
    expect(readField(field("max_steps"), " ")).toEqual({ ok: true, value: null });
    expect(readField(field("max_steps"), "2.5")).toEqual({ ok: false, error: "Must be a whole number." });
    expect(readField(field("beta"), "1e-2")).toEqual({ ok: true, value: 0.01 });
    expect(readField(field("beta"), "x")).toEqual({ ok: false, error: "Must be a number." });
    expect(readField(field("beta"), "")).toEqual({ ok: false, error: "Enter a value (default 0.1)." });
    expect(readField(field("loss_type"), "ipo")).toEqual({ ok: true, value: "ipo" });
    expect(readField(field("loss_type"), "dpo").ok).toBe(false);
    expect(readField(field("precompute_ref_log_probs"), "true")).toEqual({ ok: true, value: true });
  });
});

describe("changedConfig and runPayload", () => {
  it("sends only the values that differ from the default", () => {
    const edits = { beta: "0.10", learning_rate: "2e-6", loss_type: "hinge", max_steps: "", precompute_ref_log_probs: "false" };
    expect(changedConfig(dpo, edits)).toEqual({ config: { learning_rate: 2e-6, loss_type: "hinge" }, errors: {} });
    const form = { ...emptyRunForm("dpo"), dataset: "4", baseModel: "5", edits };
    expect(runPayload(form, kinds)).toEqual({
      ok: true,
      payload: { kind: "dpo", dataset: 4, base_model: 5, config: { learning_rate: 2e-6, loss_type: "hinge" } },
    });
  });

  it("names bad fields with the API's keys, and asks RL kinds for a reward model", () => {
    const bad = runPayload({ ...emptyRunForm("dpo"), edits: { beta: "x", max_steps: "1.5" } }, kinds);
    expect(bad).toEqual({
      ok: false,
      errors: {
        dataset: "Choose a dataset snapshot.",
        base_model: "Choose a base model.",
        "config.beta": "Must be a number.",
        "config.max_steps": "Must be a whole number.",
      },
    });
    const ppo = { ...emptyRunForm("ppo"), dataset: "1", baseModel: "2" };
    expect(runPayload(ppo, kinds)).toEqual({ ok: false, errors: { reward_model: "A ppo run needs a reward model." } });
    expect(runPayload({ ...ppo, rewardModel: "9" }, kinds)).toEqual({
      ok: true,
      payload: { kind: "ppo", dataset: 1, base_model: 2, reward_model: 9, config: {} },
    });
    expect(runPayload({ ...ppo, kind: "sft" }, kinds)).toEqual({ ok: false, errors: { kind: "Choose a kind." } });
  });

  it("starts a new kind from its own defaults", () => {
    const form = { ...emptyRunForm("dpo"), dataset: "3", edits: { beta: "0.5" } };
    expect(withKind(form, "ppo")).toEqual({ ...form, kind: "ppo", edits: {} });
  });

  it("collects the errors that no input shows", () => {
    const errors = { "config.beta": "Must be > 0.", "config.nope": "Unknown key.", dataset: "No such dataset.", non_field_errors: "Bad." };
    expect(unplacedErrors(errors, dpo)).toEqual([
      ["config.nope", "Unknown key."],
      ["non_field_errors", "Bad."],
    ]);
  });
});

describe("a config block (the adapter)", () => {
  const withBlock = parseRunKinds([
    {
      kind: "sft",
      label: "SFT",
      needs_reward_model: false,
      config_fields: [
        { name: "learning_rate", type: "float", choices: null, optional: false, default: 5e-5, help: "LR.", fields: null },
        {
          name: "adapter", type: "block", choices: null, optional: true, default: null, help: "Train a LoRA adapter.",
          fields: [
            { name: "r", type: "int", choices: null, optional: false, default: 16, help: "Rank.", fields: null },
            { name: "quantization", type: "choice", choices: ["none", "4bit"], optional: false, default: "none", help: "QLoRA.", fields: null },
          ],
        },
      ],
    },
  ])!;
  const fields = withBlock[0]!.fields;

  it("is a switch, off by default, then its own fields named block.field", () => {
    expect(fields.map((f) => [f.name, f.type, f.block ?? null, f.toggle ?? false])).toEqual([
      ["learning_rate", "float", null, false],
      ["adapter", "bool", null, true],
      ["adapter.r", "int", "adapter", false],
      ["adapter.quantization", "choice", "adapter", false],
    ]);
    expect(shownFields(fields, {}).map((f) => f.name)).toEqual(["learning_rate", "adapter"]);
    expect(shownFields(fields, { adapter: "true" }).map((f) => f.name)).toContain("adapter.r");
  });

  it("sends nothing while off, and an object of the changed fields while on", () => {
    expect(changedConfig(fields, { "adapter.r": "8" }).config).toEqual({});
    expect(changedConfig(fields, { adapter: "true" }).config).toEqual({ adapter: {} });
    expect(changedConfig(fields, { adapter: "true", "adapter.r": "8", learning_rate: "0.001" }).config).toEqual({
      learning_rate: 0.001,
      adapter: { r: 8 },
    });
  });

  it("names a block field's error as the API does", () => {
    const { errors } = changedConfig(fields, { adapter: "true", "adapter.r": "eight" });
    expect(errors).toEqual({ "config.adapter.r": "Must be a whole number." });
    expect(unplacedErrors({ "config.adapter.r": "x", "config.adapter.rank": "y" }, fields)).toEqual([["config.adapter.rank", "y"]]);
  });
});
