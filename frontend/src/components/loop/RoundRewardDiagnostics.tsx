/** Under a round's reward-model accuracy: what the reward run's diagnostics say of it — the
 * annotators' ceiling, train against held-out accuracy (memorising shows as a gap), calibration,
 * and the prompt group it does worst on — with the run's page (the whole panel) a link away.
 * Metadata keys and values are untrusted text, rendered as text. */

import { fixed, percent } from "../../review/resource";
import type { RewardDiagnostics } from "../../review/rewardDiagnostics";
import { MEMORISING_GAP } from "../runs/RewardDiagnosticsPanel";

/** The held-out group (of every metadata key) with the lowest accuracy, among groups of at
 * least `minPairs` pairs. */
export function weakestGroup(d: RewardDiagnostics, minPairs = 10) {
  let weakest: { key: string; value: string; accuracy: number; pairs: number } | null = null;
  for (const key of d.groups) {
    for (const g of key.groups) {
      if (g.accuracy === null || g.pairs < minPairs) continue;
      if (weakest === null || g.accuracy < weakest.accuracy) weakest = { key: key.key, value: g.value, accuracy: g.accuracy, pairs: g.pairs };
    }
  }
  return weakest;
}

export function RoundRewardDiagnostics({ d, runId, linkRun }: { d: RewardDiagnostics; runId: number | null; linkRun: boolean }) {
  const ceiling = d.ceiling?.accuracy ?? null;
  const weakest = weakestGroup(d);
  return (
    <span className="hint small block" data-round-diagnostics>
      {ceiling !== null ? `ceiling ${percent(ceiling)}` : "no ceiling (no set ranked twice)"}
      {d.train?.accuracy != null && (
        <>
          {"; "}
          train {percent(d.train.accuracy)}
          {d.gap !== null && d.gap > MEMORISING_GAP && <strong> (memorising)</strong>}
        </>
      )}
      {d.calibration && <>; ECE {fixed(d.calibration.ece)}</>}
      {weakest && (
        <>
          {"; "}weakest {weakest.key} “{weakest.value}” {percent(weakest.accuracy)} of {weakest.pairs}
        </>
      )}
      {linkRun && runId !== null && (
        <>
          {" "}
          <a href={`#/runs/${runId}`}>diagnostics</a>
        </>
      )}
    </span>
  );
}
