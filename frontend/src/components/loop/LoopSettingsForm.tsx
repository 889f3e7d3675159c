/** The admin's loop settings: when rounds start, which algorithm trains the policy (its config
 * and the reward model's built from `GET /api/v1/run-kinds/`), whether rounds train LoRA
 * adapters, how the next prompts are chosen and sampled, and how rounds are evaluated. Saving
 * sends only what changed; the API's 400 shows next to the field it names. Reviewers read the
 * same settings as a list (LoopSettingsSummary). */

import { useState } from "react";
import { adapterFields } from "../../review/loopAdapter";
import { type LoopForm, type LoopSettings, fieldsOf, loopForm, loopPatch, unplacedLoopErrors, withPolicyKind } from "../../review/loopSettings";
import { updateLoop } from "../../review/reviewApi";
import type { RunKindInfo } from "../../review/runConfig";
import { AdapterFieldset } from "./AdapterFieldset";
import { ConfigDetails } from "./ConfigDetails";
import { CandidatesFieldset, EvaluationFieldset, RoundStartFieldset, TrainingFieldset } from "./LoopSettingsFieldsets";

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
  const policyFields = fieldsOf(kinds, form.policyKind);
  const rewardFields = fieldsOf(kinds, "reward");
  const adapterInputs = adapterFields(kinds);

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
      <RoundStartFieldset form={form} errors={errors} onChange={set} />
      <TrainingFieldset form={form} errors={errors} onChange={set} kinds={kinds} onPolicyKind={(v) => setForm(withPolicyKind(form, v, settings))} />
      <AdapterFieldset fields={adapterInputs} edits={form.adapterEdits} errors={errors} onEdit={(adapterEdits) => set({ adapterEdits })} />
      <ConfigDetails
        title="Reward-model config"
        name="reward_config"
        fields={rewardFields}
        edits={form.rewardEdits}
        errors={errors}
        idPrefix="loop-reward-"
        onEdit={(rewardEdits) => set({ rewardEdits })}
      />
      <ConfigDetails
        key={form.policyKind}
        title={`Policy config (${form.policyKind.toUpperCase()})`}
        name="policy_config"
        fields={policyFields}
        edits={form.policyEdits}
        errors={errors}
        idPrefix="loop-policy-"
        onEdit={(policyEdits) => set({ policyEdits })}
      />
      <CandidatesFieldset form={form} errors={errors} onChange={set} k={k} />
      <EvaluationFieldset form={form} errors={errors} onChange={set} evalPromptCount={settings.evalPromptCount} />
      {unplacedLoopErrors(errors, rewardFields, policyFields, adapterInputs).map(([key, text]) => (
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
