/** Upload a file of prompts or candidate sets (a JSON list, or JSON Lines: one row a line).
 * One bad row refuses the whole file; the server names each problem by row and field, listed
 * here next to the upload. */

import { useState } from "react";
import { uploadImport } from "../../review/projectAdminApi";
import { type ImportKind, type ImportOutcome, importedText } from "../../review/projectSettings";

const EXAMPLES: Record<ImportKind, string> = {
  prompts: '{"prompt": "Write a haiku about rain."}',
  "candidate-sets": '{"prompt": "Name a prime.", "candidates": [{"text": "7", "model": "m1"}, …K]}',
};

export function ImportPanel({
  projectId,
  k,
  onImported,
  onSignedOut,
}: {
  projectId: number;
  k: number;
  onImported: () => void;
  onSignedOut: () => void;
}) {
  const [kind, setKind] = useState<ImportKind>("prompts");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const [message, setMessage] = useState("");

  const submit = () => {
    if (!file) {
      setMessage("Choose a file first.");
      return;
    }
    setBusy(true);
    setOutcome(null);
    setMessage(`Uploading ${file.name}…`);
    void uploadImport(projectId, kind, file).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      setOutcome(result);
      if (result.kind === "imported") {
        setMessage(importedText(kind, result.created));
        onImported();
      } else {
        setMessage(result.message);
      }
    });
  };

  return (
    <form
      className="panel import-panel"
      aria-labelledby="import-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="import-heading">Import</h2>
      <fieldset>
        <legend>What the file holds</legend>
        <label>
          <input type="radio" name="import-kind" checked={kind === "prompts"} onChange={() => setKind("prompts")} /> Prompts (to
          generate responses for)
        </label>
        <label>
          <input type="radio" name="import-kind" checked={kind === "candidate-sets"} onChange={() => setKind("candidate-sets")} />{" "}
          Candidate sets (a prompt with exactly {k} responses)
        </label>
      </fieldset>
      <div className="field">
        <label htmlFor="import-file">File (JSON list or JSON Lines)</label>
        <input
          id="import-file"
          type="file"
          accept=".json,.jsonl,.ndjson,application/json"
          aria-describedby="import-file-hint"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setOutcome(null);
            setMessage("");
          }}
        />
        <span id="import-file-hint" className="hint small">
          One row a line, e.g. <code>{EXAMPLES[kind]}</code>. Rows may also carry <code>external_id</code>,{" "}
          <code>source</code> and <code>metadata</code>, or <code>messages</code> instead of <code>prompt</code>.
        </span>
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Upload
        </button>
        <p role="status" className={`form-status${outcome?.kind === "refused" ? " form-error" : ""}`}>
          {message}
        </p>
      </div>
      {outcome?.kind === "refused" && (outcome.rows.length > 0 || outcome.other.length > 0) && (
        <div className="import-errors">
          <h3 id="import-errors-heading">Problems in the file</h3>
          <ul aria-labelledby="import-errors-heading">
            {outcome.other.map((text) => (
              <li key={text}>{text}</li>
            ))}
            {outcome.rows.map((e) => (
              <li key={`${e.row}:${e.field}`} data-row={e.row}>
                Row {e.row}
                {e.field ? (
                  <>
                    , <code>{e.field}</code>
                  </>
                ) : null}
                : {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
