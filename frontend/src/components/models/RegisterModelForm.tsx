/** Register a model directory on the server (admins): how a Qwen / Llama checkpoint, or any
 * Hugging Face model saved to disk, joins the lineage. Nothing is copied; the directory must lie
 * inside the server's model roots, and the server's refusal is shown at its field. */

import { useState } from "react";
import {
  MODEL_KINDS,
  type ModelRegisterForm,
  emptyModelRegisterForm,
  modelRegisterPayload,
} from "../../review/modelRegistration";
import type { ModelVersion } from "../../review/models";
import { registerModel } from "../../review/projectAdminApi";
import { FieldError } from "../shared/LoadNotice";

export function RegisterModelForm({
  models,
  onRegistered,
  onSignedOut,
}: {
  models: ModelVersion[];
  onRegistered: () => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState<ModelRegisterForm>(emptyModelRegisterForm());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<ModelRegisterForm>) => setForm((f) => ({ ...f, ...patch }));

  const submit = () => {
    const built = modelRegisterPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Checking the directory…");
    void registerModel(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setForm(emptyModelRegisterForm());
        setMessage(`Registered ${result.value.name} as model #${result.value.id}.`);
        return onRegistered();
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  const described = (id: string, error: string | undefined, hint?: string) =>
    [hint, error ? `${id}-err` : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <details className="panel register-model">
      <summary>Register a model</summary>
      <form
        aria-label="Register a model"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <div className="form-grid">
          <div className="field">
            <label htmlFor="model-name">Name</label>
            <input
              id="model-name"
              value={form.name}
              maxLength={200}
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={described("model-name", errors.name)}
              onChange={(e) => set({ name: e.target.value })}
            />
            <FieldError id="model-name-err" message={errors.name} />
          </div>
          <div className="field">
            <label htmlFor="model-path">Directory on the server</label>
            <input
              id="model-path"
              value={form.path}
              maxLength={1000}
              aria-invalid={errors.path ? true : undefined}
              aria-describedby={described("model-path", errors.path, "model-path-hint")}
              onChange={(e) => set({ path: e.target.value })}
            />
            <span id="model-path-hint" className="hint small">
              A saved Hugging Face model (config.json and weights) inside the server's model roots.
            </span>
            <FieldError id="model-path-err" message={errors.path} />
          </div>
          <div className="field">
            <label htmlFor="model-kind">Kind</label>
            <select
              id="model-kind"
              value={form.kind}
              aria-invalid={errors.kind ? true : undefined}
              aria-describedby={described("model-kind", errors.kind)}
              onChange={(e) => set({ kind: e.target.value })}
            >
              {MODEL_KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
            <FieldError id="model-kind-err" message={errors.kind} />
          </div>
          <div className="field">
            <label htmlFor="model-parent">Parent (optional)</label>
            <select
              id="model-parent"
              value={form.parent}
              aria-invalid={errors.parent ? true : undefined}
              aria-describedby={described("model-parent", errors.parent)}
              onChange={(e) => set({ parent: e.target.value })}
            >
              <option value="">None</option>
              {models.map((m) => (
                <option key={m.id} value={String(m.id)}>
                  {m.name} (#{m.id})
                </option>
              ))}
            </select>
            <FieldError id="model-parent-err" message={errors.parent} />
          </div>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Register model
          </button>
          <p role="status" className="form-status">
            {message}
          </p>
        </div>
      </form>
    </details>
  );
}
