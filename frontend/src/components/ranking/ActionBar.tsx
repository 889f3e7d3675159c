/** The bar along the bottom: what the board amounts to, Skip (or Next set) and Submit. */

import type { RankingState } from "../../ranking/state";
import { rankingSummary } from "../../ranking/workspace";

export function ActionBar({
  ranking,
  busy,
  lost,
  confirmingUntouched,
  onSkip,
  onSubmit,
}: {
  ranking: RankingState;
  busy: boolean;
  lost: boolean;
  /** The next Submit sends the board in the order shown. */
  confirmingUntouched: boolean;
  onSkip: () => void;
  onSubmit: () => void;
}) {
  return (
    <div className="action-bar" role="region" aria-label="Submit">
      <p className="ranking-summary">{rankingSummary(ranking)}</p>
      <div className="actions">
        <button type="button" className="secondary" disabled={busy} onClick={onSkip} aria-keyshortcuts="s">
          {lost ? "Next set" : "Skip"} <kbd aria-hidden="true">s</kbd>
        </button>
        <button id="submit-button" type="button" disabled={busy || lost} onClick={onSubmit} aria-keyshortcuts="Enter">
          {busy ? "Submitting…" : confirmingUntouched ? "Submit as shown" : "Submit ranking"} <kbd aria-hidden="true">Enter</kbd>
        </button>
      </div>
    </div>
  );
}
