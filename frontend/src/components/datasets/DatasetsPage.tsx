/** Dataset snapshots: the list (reviewers and admins) and, for admins, the form that freezes a
 * project's rankings into a new snapshot with filters. */

import { useEffect, useState } from "react";
import type { Me } from "../../session";
import { type SnapshotForm, countsText, emptySnapshotForm, snapshotPayload } from "../../review/datasets";
import { dateTime } from "../../review/resource";
import { createDataset, fetchDatasets, fetchProjectList } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import { FieldError, LoadNotice } from "../shared/LoadNotice";
import { ShowMore } from "../shared/ShowMore";

const PAGE = 100;

function CreateSnapshotForm({ onSignedOut }: { onSignedOut: () => void }) {
  const [projects] = useLoaded(() => fetchProjectList(), "project-list", onSignedOut);
  const [form, setForm] = useState<SnapshotForm>(() => emptySnapshotForm());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<SnapshotForm>) => setForm({ ...form, ...patch });
  const errId = (k: string) => (errors[k] ? `snap-err-${k.replace(/\W/g, "-")}` : undefined);

  const submit = () => {
    const built = snapshotPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Creating the snapshot…");
    void createDataset(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        window.location.hash = `#/datasets/${result.value.id}`;
        return;
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  const text = (key: keyof SnapshotForm, label: string, errKey: string, type = "text", hint?: string) => (
    <div className="field">
      <label htmlFor={`snap-${key}`}>{label}</label>
      <input
        id={`snap-${key}`}
        type={type}
        value={form[key] as string}
        aria-invalid={errors[errKey] ? true : undefined}
        aria-describedby={errId(errKey)}
        onChange={(e) => set({ [key]: e.target.value } as Partial<SnapshotForm>)}
      />
      {hint && <span className="hint small">{hint}</span>}
      <FieldError id={errId(errKey) ?? ""} message={errors[errKey]} />
    </div>
  );

  return (
    <form
      className="panel"
      aria-labelledby="create-snapshot-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="create-snapshot-heading">Create a snapshot</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="snap-project">Project</label>
          <select
            id="snap-project"
            value={form.project}
            aria-invalid={errors.project ? true : undefined}
            aria-describedby={errId("project")}
            onChange={(e) => set({ project: e.target.value })}
          >
            <option value="">Choose…</option>
            {projects?.kind === "loaded" &&
              projects.value.results.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
          </select>
          <FieldError id={errId("project") ?? ""} message={errors.project} />
        </div>
        {text("name", "Name (optional)", "name")}
        {text("testFraction", "Test fraction", "test_fraction")}
        {text("seed", "Split seed", "seed")}
      </div>
      <fieldset className="form-grid">
        <legend>Filters</legend>
        {text("since", "Rankings since", "filters.since", "datetime-local")}
        {text("until", "Until (exclusive)", "filters.until", "datetime-local")}
        {text("minAgreement", "Minimum agreement", "filters.min_agreement", "text", "Sets ranked by ≥ 2 with at least this agreement.")}
        {text("excludeAnnotators", "Exclude annotators", "filters.exclude_annotators", "text", "Pseudonyms, separated by commas.")}
        <label className="check">
          <input type="checkbox" checked={form.excludeGoldFailures} onChange={(e) => set({ excludeGoldFailures: e.target.checked })} />
          Exclude annotators who fail gold
        </label>
        <label className="check">
          <input type="checkbox" checked={form.excludeFlagged} onChange={(e) => set({ excludeFlagged: e.target.checked })} />
          Exclude QC-flagged rankings
        </label>
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Create snapshot
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}

export function DatasetsPage({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const [limit, setLimit] = useState(PAGE);
  const [datasets] = useLoaded(() => fetchDatasets(limit), `datasets-${limit}`, onSignedOut);
  useEffect(() => {
    document.title = "Datasets · Flywheel";
  }, []);
  return (
    <section aria-labelledby="datasets-heading">
      <h1 id="datasets-heading">Dataset snapshots</h1>
      {me.role === "admin" && <CreateSnapshotForm onSignedOut={onSignedOut} />}
      <h2>Snapshots</h2>
      <LoadNotice state={datasets} what="the snapshots" />
      {datasets?.kind === "loaded" &&
        (datasets.value.results.length === 0 ? (
          <p>No snapshots yet.</p>
        ) : (
          <ul className="project-list">
            {datasets.value.results.map((d) => (
              <li key={d.id} data-dataset-id={d.id}>
                <div className="project-summary">
                  <a className="project-name" href={`#/datasets/${d.id}`}>
                    {d.name}
                  </a>{" "}
                  <span className="project-facts">
                    #{d.id} · project {d.project} · {countsText(d.counts)} · {dateTime(d.createdAt)}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        ))}
      {datasets?.kind === "loaded" && (
        <ShowMore limit={limit} shown={datasets.value.results.length} count={datasets.value.count} step={PAGE} noun="snapshots" onMore={setLimit} />
      )}
    </section>
  );
}
