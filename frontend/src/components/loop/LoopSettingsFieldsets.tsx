/** The fieldsets of the loop settings form: when rounds start, training, the next round's
 * candidates (with their sampling) and evaluation. Each shows part of the form and reports edits. */

import {
  type LoopForm,
  ORACLES,
  PROMPT_SELECTIONS,
  SAMPLING_KEYS,
  SNAPSHOT_SCOPES,
  type SamplingKey,
  TRIGGERS,
  TRIGGER_HINT,
  policyKinds,
} from "../../review/loopSettings";
import { SETS_PER_PROMPT_HINT } from "../../review/generation";
import type { RunKindInfo } from "../../review/runConfig";
import { CheckboxSetting, NumberSetting, SelectSetting } from "./LoopSettingField";

const HUMAN_EVAL_HINT =
  "0: off. Otherwise each round asks the annotators to rank its new policy against the previous one, blind, on this many held-out prompts, and waits for them before its verdict.";

interface FieldsetProps {
  form: LoopForm;
  errors: Record<string, string>;
  onChange: (patch: Partial<LoopForm>) => void;
}

export function RoundStartFieldset({ form, errors, onChange }: FieldsetProps) {
  return (
    <fieldset className="form-grid">
      <legend>When rounds start</legend>
      <CheckboxSetting
        setting="auto"
        label="Start rounds automatically"
        hint="Off: an admin starts each round with “Start round now”."
        error={errors.auto}
        checked={form.auto}
        onChange={(auto) => onChange({ auto })}
      />
      <SelectSetting
        setting="trigger"
        label="Trigger"
        hint={TRIGGER_HINT}
        error={errors.trigger}
        choices={TRIGGERS}
        value={form.trigger}
        onChange={(trigger) => onChange({ trigger })}
      />
      <NumberSetting
        setting="min_new_rankings"
        label="New rankings (N)"
        hint="For the “N new rankings” trigger."
        error={errors.min_new_rankings}
        value={form.minNewRankings}
        onChange={(minNewRankings) => onChange({ minNewRankings })}
      />
    </fieldset>
  );
}

export function TrainingFieldset({
  form,
  errors,
  onChange,
  kinds,
  onPolicyKind,
}: FieldsetProps & { kinds: RunKindInfo[]; onPolicyKind: (kind: string) => void }) {
  return (
    <fieldset className="form-grid">
      <legend>Training</legend>
      <SelectSetting
        setting="policy_kind"
        label="Policy algorithm"
        hint="A new algorithm starts from its paper's defaults."
        error={errors.policy_kind}
        choices={policyKinds(kinds)}
        value={form.policyKind}
        onChange={onPolicyKind}
      />
      <SelectSetting
        setting="snapshot_scope"
        label="Train on"
        error={errors.snapshot_scope}
        choices={SNAPSHOT_SCOPES}
        value={form.snapshotScope}
        onChange={(snapshotScope) => onChange({ snapshotScope })}
      />
      <NumberSetting
        setting="test_fraction"
        label="Test fraction"
        hint="Held-out share of the snapshot, for the reward model's accuracy."
        error={errors.test_fraction}
        step="any"
        value={form.testFraction}
        onChange={(testFraction) => onChange({ testFraction })}
      />
      <NumberSetting setting="seed" label="Seed" error={errors.seed} value={form.seed} onChange={(seed) => onChange({ seed })} />
    </fieldset>
  );
}

const SAMPLING_LABELS: Record<SamplingKey, [string, string]> = {
  temperature: ["Temperature", "Blank: the server's default (1.0)."],
  top_p: ["Top-p", "Nucleus mass; blank: the server's default (1.0)."],
  max_new_tokens: ["Max new tokens", "Longest candidate; blank: the server's default."],
  batch_size: ["Batch size", "Prompts per generation batch; blank: the server's default."],
};

/** The sampling of the next round's candidates; blank inputs leave the server's defaults. */
function SamplingSettings({ form, errors, onChange }: FieldsetProps) {
  return SAMPLING_KEYS.map((key) => (
    <NumberSetting
      key={key}
      setting={`sampling.${key}`}
      label={SAMPLING_LABELS[key][0]}
      hint={SAMPLING_LABELS[key][1]}
      error={errors[`sampling.${key}`]}
      step={key === "max_new_tokens" || key === "batch_size" ? 1 : "any"}
      placeholder="server default"
      value={form.sampling[key]}
      onChange={(value) => onChange({ sampling: { ...form.sampling, [key]: value } })}
    />
  ));
}

export function CandidatesFieldset({
  k,
  ...props
}: FieldsetProps & {
  /** The project's K: at most K − 1 candidates of a set can come from the previous policy. */
  k: number | null;
}) {
  const { form, errors, onChange } = props;
  return (
    <fieldset className="form-grid">
      <legend>Next round's candidates</legend>
      <SelectSetting
        setting="prompt_selection"
        label="Prompt selection"
        error={errors.prompt_selection}
        choices={PROMPT_SELECTIONS}
        value={form.promptSelection}
        onChange={(promptSelection) => onChange({ promptSelection })}
      />
      <NumberSetting
        setting="prompts_per_round"
        label="Prompts per round"
        hint="Blank: every pending prompt."
        error={errors.prompts_per_round}
        placeholder="all pending"
        value={form.promptsPerRound}
        onChange={(promptsPerRound) => onChange({ promptsPerRound })}
      />
      <NumberSetting
        setting="sets_per_prompt"
        label="Sets per prompt"
        hint={SETS_PER_PROMPT_HINT}
        error={errors.sets_per_prompt}
        value={form.setsPerPrompt}
        onChange={(setsPerPrompt) => onChange({ setsPerPrompt })}
      />
      <NumberSetting
        setting="compare_with_previous"
        label="Previous policy's candidates per set"
        hint={`0: none. Up to K − 1${k === null ? "" : ` = ${k - 1}`}; mixed sets feed the human leaderboard.`}
        error={errors.compare_with_previous}
        value={form.compareWithPrevious}
        onChange={(compareWithPrevious) => onChange({ compareWithPrevious })}
      />
      <SamplingSettings {...props} />
    </fieldset>
  );
}

export function EvaluationFieldset({ form, errors, onChange, evalPromptCount }: FieldsetProps & { evalPromptCount: number }) {
  return (
    <fieldset className="form-grid">
      <legend>Evaluation</legend>
      <div className="field" data-setting="eval_prompts">
        <span className="field-label">Held-out evaluation prompts</span>
        <span className="readonly-value" data-value="eval_prompts">
          {evalPromptCount}
        </span>
        <span className="hint small">Set through the API (PATCH eval_prompts); never annotated.</span>
      </div>
      <NumberSetting
        setting="eval_samples_per_prompt"
        label="Samples per prompt"
        error={errors.eval_samples_per_prompt}
        value={form.evalSamplesPerPrompt}
        onChange={(evalSamplesPerPrompt) => onChange({ evalSamplesPerPrompt })}
      />
      <NumberSetting
        setting="eval_max_new_tokens"
        label="Max new tokens"
        error={errors.eval_max_new_tokens}
        value={form.evalMaxNewTokens}
        onChange={(evalMaxNewTokens) => onChange({ evalMaxNewTokens })}
      />
      <NumberSetting
        setting="human_eval_prompts"
        label="Blind human A/B prompts per round"
        hint={HUMAN_EVAL_HINT}
        error={errors.human_eval_prompts}
        value={form.humanEvalPrompts}
        onChange={(humanEvalPrompts) => onChange({ humanEvalPrompts })}
      />
      <SelectSetting
        setting="oracle"
        label="Oracle"
        hint="A known rule to score samples by (the tiny world's trait rate)."
        error={errors.oracle}
        choices={ORACLES}
        value={form.oracle}
        onChange={(oracle) => onChange({ oracle })}
      />
      <CheckboxSetting
        setting="ai_feedback"
        label="AI pre-ranking"
        hint="The round's reward model ranks each new set; its agreement with the humans is tracked."
        error={errors.ai_feedback}
        checked={form.aiFeedback}
        onChange={(aiFeedback) => onChange({ aiFeedback })}
      />
      <CheckboxSetting
        setting="require_confirmation"
        label="Promote only confirmed rounds"
        hint="A round whose gain neither the judge reward model (trained on the held-out split) nor the annotators' blind A/B confirms waits for a person to promote or reject it."
        error={errors.require_confirmation}
        checked={form.requireConfirmation}
        onChange={(requireConfirmation) => onChange({ requireConfirmation })}
      />
    </fieldset>
  );
}
