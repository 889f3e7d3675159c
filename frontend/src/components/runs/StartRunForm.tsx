/** "Start a run": kind, dataset, models, and one input per key of the kind's config, built from
 * `GET /api/v1/run-kinds/` (type, default, help). Only changed values are sent. Errors from the
 * form itself or from the API's 400 (`config.beta`) show next to their field. */

import { useState } from "react";
import type { Snapshot } from "../../review/datasets";
import { type ModelVersion, baseModels, modelLabel, rewardModels } from "../../review/models";
import { startRun } from "../../review/reviewApi";
import {
  type RunKindInfo,
  emptyRunForm,
  fieldText,
  runPayload,
  shownFields,
  unplacedErrors,
  valueText,
  withKind,
} from "../../review/runConfig";
import type { Run } from "../../review/runs";
import { FieldError } from "../shared/LoadNotice";
import { ConfigInput } from "./ConfigInput";

export function StartRunForm({
  kinds,
  datasets,
  models,
  onStarted,
  onSignedOut,
}: {
  kinds: RunKindInfo[];
  datasets: Snapshot[];
  models: ModelVersion[];
  onStarted: (run: Run) => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState(() => emptyRunForm(kinds.some((k) => k.kind === "dpo") ? "dpo" : (kinds[0]?.kind ?? "")));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const info = kinds.find((k) => k.kind === form.kind);
  const fields = info?.fields ?? [];
  const needsReward = info?.needsRewardModel ?? false;
  const err = (key: string) => errors[key];
  const invalid = (key: string) => (errors[key] ? true : undefined);
  const described = (key: string) => (errors[key] ? `err-${key.replace(/\W/g, "-")}` : undefined);
  const changedCount = fields.filter((f) => f.name in form.edits && form.edits[f.name] !== valueText(f.default)).length;

  const submit = () => {
    const built = runPayload(form, kinds);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("");
    void startRun(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") onSignedOut();
      else if (result.kind === "loaded") {
        setMessage(`Run #${result.value.id} queued.`);
        onStarted(result.value);
      } else if (result.kind === "invalid") {
        setErrors(result.errors);
        setMessage(result.message);
      } else setMessage(result.message);
    });
  };

  return (
    <form
      className="panel start-run"
      aria-labelledby="start-run-heading"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      noValidate
    >
      <h2 id="start-run-heading">Start a run</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="run-kind">Kind</label>
          <select
            id="run-kind"
            value={form.kind}
            aria-invalid={invalid("kind")}
            aria-describedby={described("kind")}
            onChange={(e) => {
              setForm(withKind(form, e.target.value));
              setErrors({});
            }}
          >
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
          <FieldError id={described("kind") ?? ""} message={err("kind")} />
        </div>
        <div className="field">
          <label htmlFor="run-dataset">Dataset snapshot</label>
          <select
            id="run-dataset"
            value={form.dataset}
            aria-invalid={invalid("dataset")}
            aria-describedby={described("dataset")}
            onChange={(e) => setForm({ ...form, dataset: e.target.value })}
          >
            <option value="">Choose…</option>
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} (#{d.id})
              </option>
            ))}
          </select>
          <FieldError id={described("dataset") ?? ""} message={err("dataset")} />
        </div>
        <div className="field">
          <label htmlFor="run-base">Base model</label>
          <select
            id="run-base"
            value={form.baseModel}
            aria-invalid={invalid("base_model")}
            aria-describedby={described("base_model")}
            onChange={(e) => setForm({ ...form, baseModel: e.target.value })}
          >
            <option value="">Choose…</option>
            {baseModels(models).map((m) => (
              <option key={m.id} value={m.id}>
                {modelLabel(m)}
              </option>
            ))}
          </select>
          <FieldError id={described("base_model") ?? ""} message={err("base_model")} />
        </div>
        {needsReward && (
          <div className="field">
            <label htmlFor="run-reward">Reward model</label>
            <select
              id="run-reward"
              value={form.rewardModel}
              aria-invalid={invalid("reward_model")}
              aria-describedby={described("reward_model")}
              onChange={(e) => setForm({ ...form, rewardModel: e.target.value })}
            >
              <option value="">Choose…</option>
              {rewardModels(models).map((m) => (
                <option key={m.id} value={m.id}>
                  {modelLabel(m)}
                </option>
              ))}
            </select>
            <FieldError id={described("reward_model") ?? ""} message={err("reward_model")} />
          </div>
        )}
      </div>
      <fieldset className="config-grid">
        <legend>
          {info?.label ?? form.kind} config: {fields.length} settings, {changedCount} changed from the defaults
        </legend>
        {shownFields(fields, form.edits).map((f) => (
          <ConfigInput
            key={`${form.kind}-${f.name}`}
            field={f}
            text={fieldText(f, form.edits)}
            error={err(`config.${f.name}`)}
            onChange={(text) => setForm({ ...form, edits: { ...form.edits, [f.name]: text } })}
          />
        ))}
      </fieldset>
      {unplacedErrors(errors, fields).map(([k, m]) => (
        <p key={k} className="field-error" role="alert">
          {k}: {m}
        </p>
      ))}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Starting…" : "Start run"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={changedCount === 0}
          onClick={() => {
            setForm({ ...form, edits: {} });
            setErrors({});
          }}
        >
          Reset config to defaults
        </button>
        <p className="form-status" role="status">
          {message}
        </p>
      </div>
    </form>
  );
}
