/** Reviewer/admin: one set: the prompt, its responses (lettered A, B, C … in canonical order,
 * sanitised markdown), then every annotator's tiers side by side with the consensus (and gold). */

import { useEffect } from "react";
import { dateTime, fixed } from "../../review/resource";
import { fetchSet } from "../../review/reviewApi";
import { type SetCandidate, candidateLetters, reviewNote, tiersText } from "../../review/sets";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";
import { Markdown } from "../shared/Markdown";
import { PromptView } from "../shared/PromptView";

function TierColumn({
  title,
  tiers,
  letters,
  note,
  className,
  testId,
}: {
  title: string;
  tiers: number[][];
  letters: Map<number, string>;
  note?: string;
  className?: string;
  testId: string;
}) {
  return (
    <section className={`tier-column panel ${className ?? ""}`} data-column={testId} aria-label={title}>
      <h3>{title}</h3>
      <p className="tiers-text" data-tiers={JSON.stringify(tiers)}>
        {tiersText(tiers, letters)}
      </p>
      <ol className="tier-stack">
        {tiers.map((tier, i) => (
          <li key={i} className={tier.length > 1 ? "tied" : undefined}>
            {tier.map((id) => (
              <span key={id} className="letter-chip">
                {letters.get(id) ?? `#${id}`}
              </span>
            ))}
            {tier.length > 1 && <span className="hint"> tie</span>}
          </li>
        ))}
      </ol>
      {note && <p className="hint">{note}</p>}
    </section>
  );
}

function ResponseBlock({ candidate, letter }: { candidate: SetCandidate; letter: string }) {
  return (
    <article className="panel review-response" aria-label={`Response ${letter}`}>
      <h3>
        <span className="letter-chip">{letter}</span> {candidate.model && <span className="hint">{candidate.model}</span>}
      </h3>
      <Markdown source={candidate.text} />
    </article>
  );
}

export function SetReview({ setId, onSignedOut }: { setId: number; onSignedOut: () => void }) {
  const [set] = useLoaded(() => fetchSet(setId), `set-${setId}`, onSignedOut);
  useEffect(() => {
    document.title = `Set #${setId} · Flywheel`;
  }, [setId]);
  const s = set?.kind === "loaded" ? set.value : null;
  const letters = s ? candidateLetters(s.candidates) : new Map<number, string>();
  return (
    <section aria-labelledby="set-heading" className="set-review">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a>
        {s && (
          <>
            {" "}
            › <a href={`#/projects/${s.project}/sets`}>Sets of project {s.project}</a>
          </>
        )}
      </p>
      <h1 id="set-heading">Set #{setId}</h1>
      {!s && <LoadNotice state={set} what="the set" />}
      {s && (
        <>
          <p className="hint">
            Round {s.round} · {s.state} · {s.rankings.length} ranking{s.rankings.length === 1 ? "" : "s"}
          </p>
          <h2>Rankings side by side</h2>
          <div className="tier-columns">
            {s.consensus && (
              <TierColumn
                testId="consensus"
                className="consensus"
                title={`Consensus (${s.consensus.method || "?"})`}
                tiers={s.consensus.tiers}
                letters={letters}
                note={`Agreement: ${fixed(s.consensus.agreement, 2)}`}
              />
            )}
            {s.goldTiers && <TierColumn testId="gold" className="gold" title="Gold" tiers={s.goldTiers} letters={letters} />}
            {s.rankings.map((r) => (
              <TierColumn
                key={r.id}
                testId={`annotator-${r.annotator}`}
                title={r.annotator}
                tiers={r.notRankable ? [] : r.tiers}
                letters={letters}
                note={[
                  r.notRankable ? "All bad (not rankable)" : "",
                  r.seconds !== null ? `${Math.round(r.seconds)} s` : "",
                  Object.keys(r.flags).length
                    ? `flags: ${Object.entries(r.flags)
                        .map(([cid, names]) => `${letters.get(Number(cid)) ?? cid}: ${names.join(", ")}`)
                        .join("; ")}`
                    : "",
                  r.qcFlags.length ? `QC: ${r.qcFlags.join(", ")}` : "",
                  reviewNote(r.reviewState, r.reviewComment),
                  dateTime(r.createdAt),
                ]
                  .filter(Boolean)
                  .join(" · ")}
              />
            ))}
            {s.rankings.length === 0 && <p>No rankings yet.</p>}
          </div>
          {s.rankings.some((r) => r.rationale) && (
            <>
              <h2>Rationales</h2>
              <dl className="rationales">
                {s.rankings
                  .filter((r) => r.rationale)
                  .map((r) => (
                    <div key={r.id}>
                      <dt>{r.annotator}</dt>
                      <dd>{r.rationale}</dd>
                    </div>
                  ))}
              </dl>
            </>
          )}
          <PromptView messages={s.prompt} />
          <h2>Responses</h2>
          <div className="review-responses">
            {s.candidates.map((c) => (
              <ResponseBlock key={c.id} candidate={c} letter={letters.get(c.id) ?? "?"} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
