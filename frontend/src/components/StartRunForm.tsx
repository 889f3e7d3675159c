/** "Start a run": kind, dataset, models, the common config fields and a raw JSON box. Errors
 * from the form itself or from the API's 400 (`config.beta`) show next to their field. */

import { useState } from "react";
import type { Snapshot } from "../review/datasets";
import { type ModelVersion, baseModels, modelLabel, rewardModels } from "../review/models";
import { startRun } from "../review/reviewApi";
import { CONFIG_FIELDS, RL_KINDS, RUN_KINDS, type Run, emptyRunForm, runPayload } from "../review/runs";
import { FieldError } from "./LoadNotice";

export function StartRunForm({
  datasets,
  models,
  onStarted,
  onSignedOut,
}: {
  datasets: Snapshot[];
  models: ModelVersion[];
  onStarted: (run: Run) => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState(emptyRunForm);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const needsReward = RL_KINDS.includes(form.kind);
  const err = (key: string) => errors[key];
  const invalid = (key: string) => (errors[key] ? true : undefined);
  const described = (key: string) => (errors[key] ? `err-${key.replace(/\W/g, "-")}` : undefined);

  const submit = () => {
    const built = runPayload(form);
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
          <select id="run-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            {RUN_KINDS.map((k) => (
              <option key={k} value={k}>
                {k.toUpperCase()}
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
      <fieldset className="form-grid">
        <legend>Config (empty: the algorithm's default)</legend>
        {CONFIG_FIELDS.filter((f) => !f.kinds || f.kinds.includes(form.kind)).map((f) => {
          const key = `config.${f.name}`;
          return (
            <div className="field" key={f.name}>
              <label htmlFor={`run-${f.name}`}>{f.label}</label>
              <input
                id={`run-${f.name}`}
                inputMode={f.integer ? "numeric" : "decimal"}
                value={form.fields[f.name]}
                aria-invalid={invalid(key)}
                aria-describedby={described(key)}
                onChange={(e) => setForm({ ...form, fields: { ...form.fields, [f.name]: e.target.value } })}
              />
              <FieldError id={described(key) ?? ""} message={err(key)} />
            </div>
          );
        })}
      </fieldset>
      <div className="field">
        <label htmlFor="run-config">More config (JSON object)</label>
        <textarea
          id="run-config"
          rows={3}
          spellCheck={false}
          value={form.rawConfig}
          aria-invalid={invalid("config")}
          aria-describedby={described("config")}
          onChange={(e) => setForm({ ...form, rawConfig: e.target.value })}
        />
        <FieldError id={described("config") ?? ""} message={err("config")} />
        {Object.entries(errors)
          .filter(([k]) => k.startsWith("config.") && !CONFIG_FIELDS.some((f) => `config.${f.name}` === k))
          .map(([k, m]) => (
            <span key={k} className="field-error">
              {k.slice(7)}: {m}
            </span>
          ))}
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Starting…" : "Start run"}
        </button>
        <p className="form-status" role="status">
          {message}
        </p>
      </div>
    </form>
  );
}
