/** Each loop round's detail (AI agreement, lineage) for the loop page, read for the newest rounds
 * and read again when a round moves on. */

import { useEffect, useRef, useState } from "react";
import type { LoopRound, RoundDetail } from "../../review/loop";
import { fetchRound } from "../../review/reviewApi";

/** Rounds whose detail (AI agreement, lineage) the page reads: the newest ones. */
const DETAIL_ROUNDS = 50;

const signature = (r: LoopRound) => `${r.status}:${r.step}:${r.generationJob ?? ""}`;

/** Each round's detail, asked for again when the round moves on (and on every poll while it runs). */
export function useRoundDetails(rounds: LoopRound[] | null, onSignedOut: () => void): ReadonlyMap<number, RoundDetail> {
  const [details, setDetails] = useState<ReadonlyMap<number, RoundDetail>>(new Map());
  const asked = useRef(new Map<number, string>());
  useEffect(() => {
    if (!rounds) return;
    const stale = [...rounds]
      .sort((a, b) => b.number - a.number)
      .slice(0, DETAIL_ROUNDS)
      .filter((r) => r.status === "running" || asked.current.get(r.id) !== signature(r));
    if (stale.length === 0) return;
    for (const r of stale) asked.current.set(r.id, signature(r));
    void Promise.all(stale.map((r) => fetchRound(r.id))).then((results) => {
      if (results.some((d) => d.kind === "signed-out")) return onSignedOut();
      setDetails((old) => {
        const next = new Map(old);
        for (const d of results) if (d.kind === "loaded") next.set(d.value.id, d.value);
        return next;
      });
    });
  }, [rounds, onSignedOut]);
  return details;
}
