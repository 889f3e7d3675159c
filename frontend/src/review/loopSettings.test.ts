import { describe, expect, it } from "vitest";
import {
  type LoopSettings,
  fieldsOf,
  loopForm,
  loopPatch,
  parseLoopSettings,
  policyKinds,
  sameObject,
  settingsSummary,
  TRIGGERS,
  unplacedLoopErrors,
  withPolicyKind,
} from "./loopSettings";
import { parseRunKinds } from "./runConfig";

// GET /api/v1/projects/{id}/loop/ of a loop with a few changes from the defaults.
const BODY = {
  project: 3,
  auto: false,
  trigger: "round_complete",
  min_new_rankings: 100,
  policy_kind: "dpo",
  reward_config: { learning_rate: 0.0001, legacy_knob: 3 },
  policy_config: { beta: 0.2 },
  sampling: { temperature: 0.7 },
  prompt_selection: "random",
  prompts_per_round: null,
  snapshot_scope: "new",
  compare_with_previous: 0,
  test_fraction: 0.2,
  eval_prompts: [[{ role: "user", content: "a" }], [{ role: "user", content: "b" }]],
  eval_samples_per_prompt: 4,
  eval_max_new_tokens: 64,
  oracle: "tinyworld",
  ai_feedback: false,
  seed: 0,
  current_policy: 9,
};

const KINDS = parseRunKinds([
  {
    kind: "reward",
    label: "Reward model",
    config_fields: [
      { name: "learning_rate", type: "float", choices: null, optional: false, default: 0.00005, help: "" },
      { name: "num_epochs", type: "int", choices: null, optional: false, default: 1, help: "" },
    ],
  },
  {
    kind: "dpo",
    label: "DPO",
    config_fields: [
      { name: "beta", type: "float", choices: null, optional: false, default: 0.1, help: "" },
      { name: "loss_type", type: "choice", choices: ["sigmoid", "ipo"], optional: false, default: "sigmoid", help: "" },
    ],
  },
  {
    kind: "ppo",
    label: "PPO",
    needs_reward_model: true,
    config_fields: [{ name: "kl_coef", type: "float", choices: null, optional: false, default: 0.05, help: "" }],
  },
]) as NonNullable<ReturnType<typeof parseRunKinds>>;

const settings = () => parseLoopSettings(BODY) as LoopSettings;

describe("parseLoopSettings", () => {
  it("reads the settings, counting the evaluation prompts", () => {
    const s = settings();
    expect(s).toMatchObject({ project: 3, policyKind: "dpo", promptsPerRound: null, evalPromptCount: 2, currentPolicy: 9, oracle: "tinyworld" });
    expect(s.policyConfig).toEqual({ beta: 0.2 });
    expect(parseLoopSettings({ auto: true })).toBeNull();
  });
});

describe("loopPatch", () => {
  it("sends nothing when nothing changed (stored configs written back as they were)", () => {
    expect(loopPatch(settings(), loopForm(settings()), KINDS)).toEqual({ ok: true, patch: {} });
  });

  it("sends only the changed fields, with their API names and types", () => {
    const form = {
      ...loopForm(settings()),
      auto: true,
      trigger: "new_rankings",
      minNewRankings: "40",
      promptsPerRound: "12",
      testFraction: "0.25",
      seed: "7",
    };
    expect(loopPatch(settings(), form, KINDS)).toEqual({
      ok: true,
      patch: { auto: true, trigger: "new_rankings", min_new_rankings: 40, prompts_per_round: 12, test_fraction: 0.25, seed: 7 },
    });
    const back = { ...loopForm({ ...settings(), promptsPerRound: 5 }), promptsPerRound: " " };
    expect(loopPatch({ ...settings(), promptsPerRound: 5 }, back, KINDS)).toEqual({ ok: true, patch: { prompts_per_round: null } });
  });

  it("reads, sends and summarises sets per prompt (1 when the body lacks it)", () => {
    expect(parseLoopSettings(BODY)!.setsPerPrompt).toBe(1);
    const three = parseLoopSettings({ ...BODY, sets_per_prompt: 3 })!;
    expect(three.setsPerPrompt).toBe(3);
    expect(settingsSummary(three)).toContainEqual(["Sets per prompt", "3"]);
    expect(loopPatch(settings(), { ...loopForm(settings()), setsPerPrompt: "3" }, KINDS)).toEqual({ ok: true, patch: { sets_per_prompt: 3 } });
    expect(loopPatch(settings(), { ...loopForm(settings()), setsPerPrompt: "1.5" }, KINDS)).toEqual({
      ok: false,
      errors: { sets_per_prompt: "Must be a whole number." },
    });
  });

  it("reads, sends and summarises the blind human A/B prompts (off: 0, and not in the summary)", () => {
    expect(settings().humanEvalPrompts).toBe(0);
    expect(settingsSummary(settings()).map(([label]) => label)).not.toContain("Blind human A/B");
    const on = parseLoopSettings({ ...BODY, human_eval_prompts: 12 })!;
    expect(on.humanEvalPrompts).toBe(12);
    expect(loopForm(on).humanEvalPrompts).toBe("12");
    expect(settingsSummary(on)).toContainEqual(["Blind human A/B", "12 held-out prompts per round, ranked by the annotators before the verdict"]);
    expect(loopPatch(settings(), { ...loopForm(settings()), humanEvalPrompts: "12" }, KINDS)).toEqual({ ok: true, patch: { human_eval_prompts: 12 } });
    expect(loopPatch(on, { ...loopForm(on), humanEvalPrompts: "0" }, KINDS)).toEqual({ ok: true, patch: { human_eval_prompts: 0 } });
    expect(loopPatch(settings(), { ...loopForm(settings()), humanEvalPrompts: "" }, KINDS)).toEqual({
      ok: false,
      errors: { human_eval_prompts: "Must be a whole number." },
    });
    // The server's range error has an input to sit next to.
    expect(unplacedLoopErrors({ human_eval_prompts: "Ensure this value is less than or equal to 1000." }, [], [])).toEqual([]);
  });

  it("sends a config with the changed values only, keeping keys the form has no input for", () => {
    const base = loopForm(settings());
    const form = { ...base, rewardEdits: { ...base.rewardEdits, num_epochs: "2" }, policyEdits: { beta: "0.1", loss_type: "ipo" } };
    expect(loopPatch(settings(), form, KINDS)).toEqual({
      ok: true,
      patch: {
        reward_config: { learning_rate: 0.0001, legacy_knob: 3, num_epochs: 2 },
        policy_config: { loss_type: "ipo" }, // beta back at its default: left out
      },
    });
  });

  it("sends the new algorithm's config with its kind, starting from its defaults", () => {
    const form = withPolicyKind(loopForm(settings()), "ppo", settings());
    expect(form.policyEdits).toEqual({});
    expect(loopPatch(settings(), form, KINDS)).toEqual({ ok: true, patch: { policy_kind: "ppo", policy_config: {} } });
    const edited = { ...form, policyEdits: { kl_coef: "0.1" } };
    expect(loopPatch(settings(), edited, KINDS)).toEqual({ ok: true, patch: { policy_kind: "ppo", policy_config: { kl_coef: 0.1 } } });
    // Back to the saved algorithm: its saved config comes back, and nothing is sent.
    const back = withPolicyKind(edited, "dpo", settings());
    expect(back.policyEdits).toEqual({ beta: "0.2" });
    expect(loopPatch(settings(), back, KINDS)).toEqual({ ok: true, patch: {} });
  });

  it("sends sampling as the filled-in values", () => {
    const base = loopForm(settings());
    expect(base.sampling).toEqual({ temperature: "0.7", top_p: "", max_new_tokens: "", batch_size: "" });
    const form = { ...base, sampling: { ...base.sampling, temperature: "", max_new_tokens: "96" } };
    expect(loopPatch(settings(), form, KINDS)).toEqual({ ok: true, patch: { sampling: { max_new_tokens: 96 } } });
  });

  it("names each field it cannot read, as the API would", () => {
    const base = loopForm(settings());
    const form = {
      ...base,
      minNewRankings: "many",
      testFraction: "",
      promptsPerRound: "2.5",
      sampling: { ...base.sampling, top_p: "x", batch_size: "1.5" },
      policyEdits: { beta: "strong" },
      rewardEdits: { num_epochs: "" },
    };
    const result = loopPatch(settings(), form, KINDS);
    expect(result.ok).toBe(false);
    expect(!result.ok && Object.keys(result.errors).sort()).toEqual([
      "min_new_rankings",
      "policy_config.beta",
      "prompts_per_round",
      "reward_config.num_epochs",
      "sampling.batch_size",
      "sampling.top_p",
      "test_fraction",
    ]);
  });
});

describe("unplacedLoopErrors", () => {
  it("keeps only errors the form has no input for: unknown config keys, the prompts shown read-only, the body", () => {
    const errors = {
      trigger: "Not a choice.",
      "sampling.top_p": "Must be a number.",
      "reward_config.num_epochs": "Too many.",
      "policy_config.beta": "Must be positive.",
      "policy_config.legacy_knob": "Unknown key.",
      eval_prompts: "At least one.",
      non_field_errors: "Busy.",
    };
    expect(unplacedLoopErrors(errors, fieldsOf(KINDS, "reward"), fieldsOf(KINDS, "dpo"))).toEqual([
      ["policy_config.legacy_knob", "Unknown key."],
      ["eval_prompts", "At least one."],
      ["non_field_errors", "Busy."],
    ]);
  });

  it("places a policy config key only when the chosen algorithm has that field", () => {
    expect(unplacedLoopErrors({ "policy_config.beta": "x" }, [], fieldsOf(KINDS, "ppo"))).toEqual([["policy_config.beta", "x"]]);
  });
});

describe("for reviewers", () => {
  it("lists every setting in words", () => {
    const summary = new Map(settingsSummary(settings()));
    expect(summary.get("Automatic rounds")).toBe("off");
    expect(summary.get("Policy config")).toBe("beta = 0.2");
    expect(summary.get("Prompts per round")).toBe("all pending");
    expect(summary.get("Evaluation prompts")).toBe("2");
    expect(summary.get("Oracle")).toBe("Tiny world hidden rule");
    expect(new Map(settingsSummary({ ...settings(), trigger: "new_rankings", minNewRankings: 40 })).get("Trigger")).toBe(
      "When 40 new rankings arrived",
    );
  });

  it("names the policy algorithm with its registry label, offering only policy-role kinds", () => {
    const kinds = [
      { kind: "reward", label: "Reward model", needsRewardModel: false, loopRole: "reward", fields: [] },
      { kind: "dpo", label: "DPO", needsRewardModel: false, loopRole: "policy", fields: [] },
      { kind: "kto", label: "KTO", needsRewardModel: false, loopRole: null, fields: [] },
      { kind: "ppo", label: "PPO", needsRewardModel: true, loopRole: "policy", fields: [] },
    ];
    expect(policyKinds(kinds)).toEqual([
      ["dpo", "DPO"],
      ["ppo", "PPO"],
    ]);
    expect(new Map(settingsSummary(settings(), kinds)).get("Policy algorithm")).toBe("DPO");
  });

  it("compares flat objects in any key order", () => {
    expect(sameObject({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameObject({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameObject({ a: 1 }, { a: 2 })).toBe(false);
  });
});

describe("the trigger select", () => {
  // The settings column is about 16rem wide; a longer option was cut off in the select.
  it("offers choices short enough to be read whole", () => {
    for (const [, label] of TRIGGERS) expect(label.length).toBeLessThanOrEqual(22);
    expect(new Map(settingsSummary(settings())).get("Trigger")).toBe("When the newest round's sets are complete");
  });
});
