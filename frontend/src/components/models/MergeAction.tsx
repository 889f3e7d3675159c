/** "Merge" on an adapter version: asks the new model's name, queues the merge job, and follows
 * it until a worker has registered the full version (then the page reloads its models). The
 * API's 400 shows next to the name field. */

import { useEffect, useState } from "react";
import type { ModelVersion } from "../../review/models";
import { FieldError } from "../shared/LoadNotice";
import { type MergeJob, fetchMergeJob, mergeFinished, mergeNameError, mergeStatusText, startMerge } from "./merge";

export function MergeAction({
  model,
  onMerged,
  onSignedOut,
  pollMs = 1000,
}: {
  model: ModelVersion;
  onMerged: () => void;
  onSignedOut: () => void;
  pollMs?: number;
}) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(`${model.name}-merged`);
  const [nameError, setNameError] = useState<string | undefined>();
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<MergeJob | null>(null);
  const inputId = `merge-name-${model.id}`;
  const errorId = `merge-err-${model.id}`;

  useEffect(() => {
    if (job === null || mergeFinished(job)) return;
    let live = true;
    const timer = setTimeout(() => {
      void fetchMergeJob(job.id).then((next) => {
        if (!live) return;
        if (next.kind === "signed-out") return onSignedOut();
        if (next.kind === "failed") return setMessage(`Could not read merge job #${job.id}: ${next.message}`);
        setJob(next.value);
        if (next.value.status === "succeeded") onMerged();
      });
    }, pollMs);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [job, pollMs, onMerged, onSignedOut]);

  const submit = async () => {
    const invalid = mergeNameError(name);
    setNameError(invalid ?? undefined);
    if (invalid) return;
    setBusy(true);
    setMessage("Starting…");
    const result = await startMerge(model.id, name);
    setBusy(false);
    if (result.kind === "signed-out") return onSignedOut();
    if (result.kind === "loaded") {
      setOpen(false);
      setMessage("");
      return setJob(result.value);
    }
    if (result.kind === "invalid") setNameError(result.errors.name);
    setMessage(result.message);
  };

  const running = job !== null && !mergeFinished(job);
  return (
    <div className="merge-action">
      {open ? (
        <form
          aria-label={`Merge ${model.name}`}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className="field">
            <label htmlFor={inputId}>Name of the merged model</label>
            <input
              id={inputId}
              value={name}
              aria-invalid={nameError ? true : undefined}
              aria-describedby={nameError ? errorId : undefined}
              onChange={(e) => setName(e.target.value)}
            />
            <FieldError id={errorId} message={nameError} />
          </div>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Start merge
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" disabled={running} onClick={() => setOpen(true)}>
          Merge
        </button>
      )}
      <p role="status" className="form-status">
        {message || (job && mergeStatusText(job))}
        {job?.status === "succeeded" && job.mergedModel !== null && (
          <>
            {" "}
            <a href={`#/models/${job.mergedModel}`}>Open it</a>
          </>
        )}
      </p>
    </div>
  );
}
