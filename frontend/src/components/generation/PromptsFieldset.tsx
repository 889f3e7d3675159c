/** The "Prompts" choice of a generation job: pending ones, all of them, or the first N in
 * import order (the count is editable only with that choice). */

import type { PromptChoice } from "../../review/generation";
import { FieldError } from "../shared/LoadNotice";

export function PromptsFieldset({
  choice,
  count,
  error,
  errorId,
  onChoice,
  onCount,
}: {
  choice: PromptChoice;
  count: string;
  error: string | undefined;
  /** The error's id, present only while there is an error. */
  errorId: string | undefined;
  onChoice: (choice: PromptChoice) => void;
  onCount: (count: string) => void;
}) {
  return (
    <fieldset className="prompt-choice" aria-describedby={errorId}>
      <legend>Prompts</legend>
      <label className="check">
        <input type="radio" name="gen-prompts" checked={choice === "pending"} onChange={() => onChoice("pending")} />
        Pending: prompts without a candidate set yet
      </label>
      <label className="check">
        <input type="radio" name="gen-prompts" checked={choice === "all"} onChange={() => onChoice("all")} />
        All prompts of the project
      </label>
      <span className="first-prompts">
        <label className="check">
          <input type="radio" name="gen-prompts" checked={choice === "first"} onChange={() => onChoice("first")} />
          The first prompts (in import order):
        </label>
        <label htmlFor="gen-count" className="visually-hidden">
          How many
        </label>
        <input
          id="gen-count"
          type="number"
          min={1}
          step={1}
          value={count}
          disabled={choice !== "first"}
          aria-invalid={error ? true : undefined}
          aria-describedby={errorId}
          onChange={(e) => onCount(e.target.value)}
        />
      </span>
      <FieldError id={errorId ?? ""} message={error} />
    </fieldset>
  );
}
