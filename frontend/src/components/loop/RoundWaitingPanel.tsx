/** "Waiting for": what the loop's next round waits for — the newest round's sets still open,
 * each with who holds its lease and until when — so that a round that does not start says
 * why (issue 18). Admins are pointed at "Start round now" beside the rounds' heading. */

import { type LoopWaiting, leaseText, waitingSummary } from "../../review/loopWaiting";

const time = (d: Date) => d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

export function RoundWaitingPanel({ waiting, isAdmin }: { waiting: LoopWaiting; isAdmin: boolean }) {
  const summary = waitingSummary(waiting);
  if (summary === null) return null;
  const held = waiting.openSets.filter((s) => s.leases.length > 0).length;
  const listed = waiting.trigger === "round_complete" && !waiting.ready && waiting.openSets.length > 0;
  return (
    <section className="round-waiting-panel" aria-labelledby="waiting-heading" data-waiting-open={waiting.openSetsTotal}>
      <h3 id="waiting-heading">Waiting for</h3>
      <p>{summary}</p>
      {listed && (
        <>
          <ul className="waiting-sets">
            {waiting.openSets.map((s) => (
              <li key={s.candidateSet} data-open-set={s.candidateSet}>
                <a href={`#/sets/${s.candidateSet}`}>Set #{s.candidateSet}</a> ({s.rankings} of {s.needed} rankings):{" "}
                {leaseText(s, time)}
              </li>
            ))}
          </ul>
          {waiting.openSetsTotal > waiting.openSets.length && (
            <p className="hint">and {waiting.openSetsTotal - waiting.openSets.length} more open sets.</p>
          )}
          {held > 0 && (
            <p className="hint">
              A lease ends when its annotator submits, skips or leaves the page, or at the time shown; then another annotator can
              take the set.{isAdmin ? " Or start the round now with what is ranked: “Start round now” above." : ""}
            </p>
          )}
        </>
      )}
    </section>
  );
}
