/** The admin's loop settings: when rounds start, which algorithm trains the policy (its config
 * and the reward model's built from `GET /api/v1/run-kinds/`), how the next prompts are chosen
 * and sampled, and how rounds are evaluated. Saving sends only what changed; the API's 400 shows
 * next to the field it names. Reviewers read the same settings as a list. */

import { Fragment, type ReactNode, useState } from "react";
import {
  type LoopForm,
  type LoopSettings,
  ORACLES,
  PROMPT_SELECTIONS,
  SAMPLING_KEYS,
  SNAPSHOT_SCOPES,
  type SamplingKey,
  TRIGGERS,
  fieldsOf,
  loopForm,
  loopPatch,
  policyKinds,
  settingsSummary,
  unplacedLoopErrors,
  withPolicyKind,
} from "../../review/loopSettings";
import { updateLoop } from "../../review/reviewApi";
import { type ConfigField, type RunKindInfo, fieldText, valueText } from "../../review/runConfig";
import { FieldError } from "../shared/LoadNotice";
import { ConfigInput } from "../runs/StartRunForm";

const errId = (key: string) => `loop-err-${key.replace(/\W/g, "-")}`;

const SAMPLING_LABELS: Record<SamplingKey, [string, string]> = {
  temperature: ["Temperature", "Blank: the server's default (1.0)."],
  top_p: ["Top-p", "Nucleus mass; blank: the server's default (1.0)."],
  max_new_tokens: ["Max new tokens", "Longest candidate; blank: the server's default."],
  batch_size: ["Batch size", "Prompts per generation batch; blank: the server's default."],
};

export function LoopSettingsSummary({ settings, kinds }: { settings: LoopSettings; kinds: RunKindInfo[] }) {
  return (
    <dl className="settings-summary">
      {settingsSummary(settings, kinds).map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function ConfigSection({
  title,
  name,
  fields,
  edits,
  errors,
  idPrefix,
  onEdit,
}: {
  title: string;
  name: "reward_config" | "policy_config";
  fields: ConfigField[];
  edits: Record<string, string>;
  errors: Record<string, string>;
  idPrefix: string;
  onEdit: (edits: Record<string, string>) => void;
}) {
  const [open, setOpen] = useState(false);
  const hasErrors = Object.keys(errors).some((k) => k.startsWith(`${name}.`));
  const changed = fields.filter((f) => f.name in edits && edits[f.name] !== valueText(f.default)).length;
  return (
    <details className="config-details" open={open || hasErrors} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {title}: {fields.length} settings, {changed} changed from the defaults
      </summary>
      <fieldset className="config-grid" data-config={name}>
        <legend className="visually-hidden">{title}</legend>
        {fields.map((f) => (
          <ConfigInput
            key={f.name}
            field={f}
            idPrefix={idPrefix}
            text={fieldText(f, edits)}
            error={errors[`${name}.${f.name}`]}
            onChange={(text) => onEdit({ ...edits, [f.name]: text })}
          />
        ))}
      </fieldset>
    </details>
  );
}

export function LoopSettingsForm({
  settings,
  kinds,
  k,
  onSaved,
  onSignedOut,
}: {
  settings: LoopSettings;
  kinds: RunKindInfo[];
  /** The project's K: at most K − 1 candidates of a set can come from the previous policy. */
  k: number | null;
  onSaved: (settings: LoopSettings) => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState<LoopForm>(() => loopForm(settings));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<LoopForm>) => setForm({ ...form, ...patch });
  const placed = new Set<string>();
  const policyFields = fieldsOf(kinds, form.policyKind);
  const rewardFields = fieldsOf(kinds, "reward");
  for (const f of rewardFields) placed.add(`reward_config.${f.name}`);
  for (const f of policyFields) placed.add(`policy_config.${f.name}`);

  /** A labelled input with its error and hint, the error first in its description. */
  const field = (key: string, label: string, input: (common: { id: string; "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode, hint?: string) => {
    placed.add(key);
    const id = `loop-${key.replace(/\W/g, "-")}`;
    const hintId = hint ? `${id}-hint` : undefined;
    const describedBy = [errors[key] ? errId(key) : undefined, hintId].filter(Boolean).join(" ") || undefined;
    return (
      <div className="field" data-setting={key}>
        <label htmlFor={id}>{label}</label>
        {input({ id, ...(errors[key] ? { "aria-invalid": true as const } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}) })}
        <FieldError id={errId(key)} message={errors[key]} />
        {hint && (
          <span id={hintId} className="hint small">
            {hint}
          </span>
        )}
      </div>
    );
  };
  const numberInput = (key: keyof LoopForm, step: number | "any" = 1, placeholder?: string) => (common: object) => (
    <input
      {...common}
      type="number"
      step={step}
      {...(placeholder ? { placeholder } : {})}
      value={form[key] as string}
      onChange={(e) => set({ [key]: e.target.value } as Partial<LoopForm>)}
    />
  );
  const selectInput = (key: keyof LoopForm, choices: [string, string][], onChange?: (v: string) => void) => (common: object) => (
    <select {...common} value={form[key] as string} onChange={(e) => (onChange ? onChange(e.target.value) : set({ [key]: e.target.value } as Partial<LoopForm>))}>
      {choices.map(([v, label]) => (
        <option key={v} value={v}>
          {label}
        </option>
      ))}
    </select>
  );
  const check = (key: "auto" | "aiFeedback", api: string, label: string, hint: string) => {
    placed.add(api);
    return (
      <div className="field inline-field" data-setting={api}>
        <input
          id={`loop-${api}`}
          type="checkbox"
          checked={form[key]}
          aria-describedby={`loop-${api}-hint${errors[api] ? ` ${errId(api)}` : ""}`}
          onChange={(e) => set({ [key]: e.target.checked })}
        />
        <label htmlFor={`loop-${api}`}>{label}</label>
        <FieldError id={errId(api)} message={errors[api]} />
        <span id={`loop-${api}-hint`} className="hint small">
          {hint}
        </span>
      </div>
    );
  };

  const submit = async () => {
    const built = loopPatch(settings, form, kinds);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    if (Object.keys(built.patch).length === 0) {
      setErrors({});
      setMessage("Nothing changed.");
      return;
    }
    setBusy(true);
    setMessage("Saving…");
    const result = await updateLoop(settings.project, built.patch);
    setBusy(false);
    if (result.kind === "signed-out") return onSignedOut();
    if (result.kind === "loaded") {
      setErrors({});
      setForm(loopForm(result.value));
      setMessage(`Saved: ${Object.keys(built.patch).join(", ")}.`);
      onSaved(result.value);
      return;
    }
    setErrors(result.kind === "invalid" ? result.errors : {});
    setMessage(result.message);
  };

  const unplaced = () => unplacedLoopErrors(errors, placed);

  return (
    <form
      className="panel loop-settings"
      aria-labelledby="loop-settings-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3 id="loop-settings-heading">Loop settings</h3>
      <fieldset className="form-grid">
        <legend>When rounds start</legend>
        {check("auto", "auto", "Start rounds automatically", "Off: an admin starts each round with “Start round now”.")}
        {field("trigger", "Trigger", selectInput("trigger", TRIGGERS))}
        {field("min_new_rankings", "New rankings (N)", numberInput("minNewRankings"), "For the “N new rankings” trigger.")}
      </fieldset>
      <fieldset className="form-grid">
        <legend>Training</legend>
        {field("policy_kind", "Policy algorithm", selectInput("policyKind", policyKinds(kinds), (v) => setForm(withPolicyKind(form, v, settings))), "A new algorithm starts from its paper's defaults.")}
        {field("snapshot_scope", "Train on", selectInput("snapshotScope", SNAPSHOT_SCOPES))}
        {field("test_fraction", "Test fraction", numberInput("testFraction", "any"), "Held-out share of the snapshot, for the reward model's accuracy.")}
        {field("seed", "Seed", numberInput("seed"))}
      </fieldset>
      <ConfigSection
        title="Reward-model config"
        name="reward_config"
        fields={rewardFields}
        edits={form.rewardEdits}
        errors={errors}
        idPrefix="loop-reward-"
        onEdit={(rewardEdits) => set({ rewardEdits })}
      />
      <ConfigSection
        key={form.policyKind}
        title={`Policy config (${form.policyKind.toUpperCase()})`}
        name="policy_config"
        fields={policyFields}
        edits={form.policyEdits}
        errors={errors}
        idPrefix="loop-policy-"
        onEdit={(policyEdits) => set({ policyEdits })}
      />
      <fieldset className="form-grid">
        <legend>Next round's candidates</legend>
        {field("prompt_selection", "Prompt selection", selectInput("promptSelection", PROMPT_SELECTIONS))}
        {field("prompts_per_round", "Prompts per round", numberInput("promptsPerRound", 1, "all pending"), "Blank: every pending prompt.")}
        {field(
          "compare_with_previous",
          "Previous policy's candidates per set",
          numberInput("compareWithPrevious"),
          `0: none. Up to K − 1${k === null ? "" : ` = ${k - 1}`}; mixed sets feed the human leaderboard.`,
        )}
        {SAMPLING_KEYS.map((key) => (
          <Fragment key={key}>
            {field(`sampling.${key}`, SAMPLING_LABELS[key][0], (common) => (
              <input
                {...common}
                type="number"
                step={key === "max_new_tokens" || key === "batch_size" ? 1 : "any"}
                placeholder="server default"
                value={form.sampling[key]}
                onChange={(e) => set({ sampling: { ...form.sampling, [key]: e.target.value } })}
              />
            ), SAMPLING_LABELS[key][1])}
          </Fragment>
        ))}
      </fieldset>
      <fieldset className="form-grid">
        <legend>Evaluation</legend>
        <div className="field" data-setting="eval_prompts">
          <span className="field-label">Held-out evaluation prompts</span>
          <span className="readonly-value" data-value="eval_prompts">
            {settings.evalPromptCount}
          </span>
          <span className="hint small">Set through the API (PATCH eval_prompts); never annotated.</span>
        </div>
        {field("eval_samples_per_prompt", "Samples per prompt", numberInput("evalSamplesPerPrompt"))}
        {field("eval_max_new_tokens", "Max new tokens", numberInput("evalMaxNewTokens"))}
        {field("oracle", "Oracle", selectInput("oracle", ORACLES), "A known rule to score samples by (the tiny world's trait rate).")}
        {check("aiFeedback", "ai_feedback", "AI pre-ranking", "The round's reward model ranks each new set; its agreement with the humans is tracked.")}
      </fieldset>
      {unplaced().map(([key, text]) => (
        <p key={key} className="field-error" role="alert">
          {key}: {text}
        </p>
      ))}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save settings"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => {
            setForm(loopForm(settings));
            setErrors({});
            setMessage("");
          }}
        >
          Undo changes
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}
