/** The reward model's suggested order, one quiet line above the board, clearly labelled as a
 * model's, with a button that puts the board in that order (the annotator can change it after). */

export function SuggestionLine({
  text,
  applied,
  showing,
  onApply,
}: {
  text: string;
  applied: boolean;
  /** The board is in the suggested order now. */
  showing: boolean;
  onApply: () => void;
}) {
  return (
    <div className="ai-suggestion" role="group" aria-labelledby="ai-suggestion-label">
      <p>
        <span className="ai-badge" aria-hidden="true">
          AI
        </span>{" "}
        <span id="ai-suggestion-label">Reward model's suggestion (not a person's):</span>{" "}
        <span className="suggestion-order">{text}</span>
        {applied && <span className="hint small"> · applied{showing ? "" : ", then changed by you"}</span>}
      </p>
      <button type="button" className="secondary small-button" disabled={showing && applied} onClick={onApply}>
        Apply suggestion
      </button>
    </div>
  );
}
