/** The guidelines (markdown) beside a live preview, rendered and sanitised as annotators see
 * them in the workspace. */

import { Markdown } from "../shared/Markdown";
import { FieldError } from "../shared/LoadNotice";

export function GuidelinesEditor({
  value,
  error,
  onChange,
}: {
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  return (
    <div className="guidelines-editor">
      <div className="field">
        <label htmlFor="project-guidelines">Guidelines (markdown)</label>
        <textarea
          id="project-guidelines"
          rows={12}
          value={value}
          maxLength={100_000}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "project-guidelines-err" : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
        <FieldError id="project-guidelines-err" message={error} />
      </div>
      <section className="guidelines-preview" aria-labelledby="guidelines-preview-heading">
        <h3 id="guidelines-preview-heading">Preview</h3>
        {value.trim() === "" ? (
          <p className="hint">Annotators see no guidelines.</p>
        ) : (
          <Markdown source={value} className="guidelines-preview-body" />
        )}
      </section>
    </div>
  );
}
