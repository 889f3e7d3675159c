/** Below the board: "all responses are bad" and the optional rationale. */

import { type RankingState, setNotRankable, setRationale } from "../../ranking/state";
import { editRanking } from "../../ranking/workspace";
import type { Update } from "./useRankingWorkspace";

export function SubmitPanel({ ranking, update }: { ranking: RankingState; update: Update }) {
  return (
    <div className="submit-panel panel">
      <label className="check all-bad">
        <input
          type="checkbox"
          checked={ranking.notRankable}
          onChange={(e) => {
            const checked = e.target.checked;
            update((s) => editRanking(s, (r) => setNotRankable(r, checked)));
          }}
        />
        All responses are bad: none can be ranked
      </label>
      <div className="field">
        <label htmlFor="rationale">Rationale (optional)</label>
        <textarea
          id="rationale"
          rows={3}
          value={ranking.rationale}
          onChange={(e) => {
            const text = e.target.value;
            update((s) => editRanking(s, (r) => setRationale(r, text)));
          }}
        />
      </div>
    </div>
  );
}
