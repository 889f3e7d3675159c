/** The project settings form (admins): name, K (on create only: fixed afterwards), overlap,
 * guidelines with a live preview, criteria, ties, AI suggestion, lease length and gold rate.
 * Refusals, the form's own and the server's, are shown at their fields. */

import { useState } from "react";
import {
  type ProjectForm,
  type ProjectPayload,
  type ProjectSettings,
  criteriaErrors,
  otherErrors,
  projectPayload,
} from "../../review/projectSettings";
import type { Saved } from "../../review/projectAdminApi";
import { FieldError } from "../shared/LoadNotice";
import { CriteriaFieldset } from "./CriteriaFieldset";
import { GuidelinesEditor } from "./GuidelinesEditor";

function NumberField({
  id,
  label,
  hint,
  value,
  error,
  onChange,
  disabled,
}: {
  id: string;
  label: string;
  hint: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
  disabled?: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        inputMode="decimal"
        value={value}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-err` : ""}`}
        onChange={(e) => onChange(e.target.value)}
      />
      <span id={`${id}-hint`} className="hint small">
        {hint}
      </span>
      <FieldError id={`${id}-err`} message={error} />
    </div>
  );
}

export function ProjectSettingsForm({
  initial,
  creating,
  save,
  onSaved,
  onSignedOut,
}: {
  initial: ProjectForm;
  creating: boolean;
  save: (payload: Partial<ProjectPayload>) => Promise<Saved<ProjectSettings>>;
  onSaved: (project: ProjectSettings) => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState<ProjectForm>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<ProjectForm>) => setForm((f) => ({ ...f, ...patch }));

  const submit = () => {
    const built = projectPayload(form, creating);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage(creating ? "Creating the project…" : "Saving…");
    void save(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setMessage(creating ? "" : "Saved.");
        return onSaved(result.value);
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  const criteria = criteriaErrors(errors);
  const other = otherErrors(errors);
  return (
    <form
      className="panel project-settings"
      aria-labelledby="project-settings-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="project-settings-heading">{creating ? "New project" : "Settings"}</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="project-name">Name</label>
          <input
            id="project-name"
            value={form.name}
            maxLength={200}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? "project-name-err" : undefined}
            onChange={(e) => set({ name: e.target.value })}
          />
          <FieldError id="project-name-err" message={errors.name} />
        </div>
        <NumberField
          id="project-k"
          label="Responses per set (K)"
          hint={creating ? "2 to 9. Fixed once the project exists." : "Fixed once the project exists."}
          value={form.k}
          error={errors.k}
          disabled={!creating}
          onChange={(k) => set({ k })}
        />
        <NumberField
          id="project-overlap"
          label="Annotators per set (overlap)"
          hint="How many rankings complete a set, 1 to 100."
          value={form.annotationsPerSet}
          error={errors.annotations_per_set}
          onChange={(annotationsPerSet) => set({ annotationsPerSet })}
        />
        <NumberField
          id="project-lease"
          label="Lease length (minutes)"
          hint="How long an annotator holds a task before it returns to the queue (at most a week)."
          value={form.leaseMinutes}
          error={errors.lease_seconds}
          onChange={(leaseMinutes) => set({ leaseMinutes })}
        />
        <NumberField
          id="project-gold"
          label="Gold rate"
          hint="Share of tasks that are hidden gold sets, 0 to 0.5, when the project has any."
          value={form.goldRate}
          error={errors.gold_rate}
          onChange={(goldRate) => set({ goldRate })}
        />
      </div>
      <div className="checks">
        <label>
          <input type="checkbox" checked={form.allowTies} onChange={(e) => set({ allowTies: e.target.checked })} /> Allow ties
        </label>
        <label>
          <input type="checkbox" checked={form.showAiSuggestion} onChange={(e) => set({ showAiSuggestion: e.target.checked })} />{" "}
          Show annotators the reward model's suggested ranking
        </label>
      </div>
      <GuidelinesEditor value={form.guidelines} error={errors.guidelines} onChange={(guidelines) => set({ guidelines })} />
      <CriteriaFieldset
        flags={form.flags}
        ratings={form.ratings}
        errors={criteria}
        onFlags={(flags) => set({ flags })}
        onRatings={(ratings) => set({ ratings })}
      />
      {other.length > 0 && (
        <ul className="form-error">
          {other.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {creating ? "Create project" : "Save settings"}
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}
