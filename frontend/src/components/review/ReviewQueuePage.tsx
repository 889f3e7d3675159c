/** Reviewer/admin: a project's review queue (issue 18). Submitted rankings, filtered (state,
 * disputed sets, annotators failing gold, QC flags, one annotator, a date range), each shown
 * with its prompt and responses in the annotator's order, to accept, reject with a reason, or
 * send back with a comment; a disputed set can be adjudicated (its final order, optionally a
 * gold set). Responses are model output: rendered as text, never as HTML. */

import { useEffect, useState } from "react";
import { fetchAnnotators, fetchProjectSummary } from "../../review/reviewApi";
import { dateTime, fixed } from "../../review/resource";
import {
  DEFAULT_FILTERS,
  type Order,
  type QueueFilters,
  REVIEW_STATES,
  type ReviewAction,
  type ReviewItem,
  type ReviewState,
  STATE_TEXT,
  letters as lettersOf,
  move,
  orderFromTiers,
  tiersFromOrder,
  toggleTie,
  verdictProblem,
} from "../../review/reviewQueue";
import { adjudicateSet, fetchReviewQueue, reviewRanking } from "../../review/reviewQueueApi";
import { tiersText } from "../../review/sets";
import { useLoaded } from "../../review/useLoaded";
import { FieldError, LoadNotice } from "../shared/LoadNotice";
import { PromptView } from "../shared/PromptView";

const PAGE = 10;

function QueueFiltersForm({
  filters,
  annotators,
  onChange,
}: {
  filters: QueueFilters;
  annotators: { id: number; username: string }[];
  onChange: (next: QueueFilters) => void;
}) {
  const set = (patch: Partial<QueueFilters>) => onChange({ ...filters, ...patch });
  return (
    <fieldset className="panel review-filters">
      <legend>Filters</legend>
      <label className="inline-field">
        State{" "}
        <select value={filters.state} onChange={(e) => set({ state: e.target.value as ReviewState | "" })}>
          {REVIEW_STATES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={filters.disputed} onChange={(e) => set({ disputed: e.target.checked })} /> Disputed
        (low pair agreement)
      </label>
      <label className="check">
        <input type="checkbox" checked={filters.goldFailed} onChange={(e) => set({ goldFailed: e.target.checked })} /> Gold
        failed
      </label>
      <label className="check">
        <input type="checkbox" checked={filters.flagged} onChange={(e) => set({ flagged: e.target.checked })} /> QC flagged
      </label>
      <label className="inline-field">
        Annotator{" "}
        <select
          value={filters.annotator === null ? "" : String(filters.annotator)}
          onChange={(e) => set({ annotator: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">Everyone</option>
          {annotators.map((a) => (
            <option key={a.id} value={a.id}>
              {a.username}
            </option>
          ))}
        </select>
      </label>
      <label className="inline-field">
        From <input type="date" value={filters.since} onChange={(e) => set({ since: e.target.value })} />
      </label>
      <label className="inline-field">
        To <input type="date" value={filters.until} onChange={(e) => set({ until: e.target.value })} />
      </label>
    </fieldset>
  );
}

function RankedResponses({ item, letters }: { item: ReviewItem; letters: Map<number, string> }) {
  if (item.notRankable) return <p className="hint">Marked all bad (not rankable).</p>;
  const text = new Map(item.candidates.map((c) => [c.id, c.text]));
  return (
    <ol className="review-tiers" aria-label="The annotator's ranking, best first">
      {item.tiers.map((tier, i) => (
        <li key={i}>
          <span className="hint">{tier.length > 1 ? `Tier ${i + 1} (tied)` : `Tier ${i + 1}`}</span>
          {tier.map((id) => (
            <div key={id} className="review-response-text">
              <span className="letter-chip">{letters.get(id) ?? `#${id}`}</span> {text.get(id) ?? ""}
            </div>
          ))}
        </li>
      ))}
    </ol>
  );
}

function AdjudicationPanel({ item, projectId, letters }: { item: ReviewItem; projectId: number; letters: Map<number, string> }) {
  const [order, setOrder] = useState<Order>(() => orderFromTiers(item.tiers, item.candidates));
  const [gold, setGold] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const text = new Map(item.candidates.map((c) => [c.id, c.text]));
  const save = async () => {
    setBusy(true);
    const answer = await adjudicateSet(projectId, item.candidateSet, tiersFromOrder(order), gold);
    setBusy(false);
    if (answer.kind === "loaded") {
      const what = tiersText(answer.value.tiers, letters);
      setMessage({ tone: "success", text: `Adjudicated: ${what}${answer.value.gold ? " (now a gold set)" : ""}.` });
    } else if (answer.kind === "invalid") {
      setMessage({ tone: "error", text: Object.values(answer.errors).join(" ") || answer.message });
    } else if (answer.kind === "failed") {
      setMessage({ tone: "error", text: answer.message });
    }
  };
  return (
    <section className="panel adjudication" aria-label={`Adjudicate set ${item.candidateSet}`}>
      <h3>Final order of set #{item.candidateSet}</h3>
      <p className="hint">Best first. It becomes the set's consensus, marked adjudicated in exports.</p>
      <ol className="adjudication-order">
        {order.ids.map((id, i) => (
          <li key={id} data-candidate={id}>
            <span className="letter-chip">{letters.get(id) ?? `#${id}`}</span>{" "}
            <span className="review-response-text short">{text.get(id) ?? ""}</span>
            <span className="adjudication-moves">
              <button type="button" className="secondary" disabled={i === 0} onClick={() => setOrder(move(order, i, -1))} aria-label={`Move ${letters.get(id)} up`}>
                ↑
              </button>
              <button
                type="button"
                className="secondary"
                disabled={i === order.ids.length - 1}
                onClick={() => setOrder(move(order, i, 1))}
                aria-label={`Move ${letters.get(id)} down`}
              >
                ↓
              </button>
              {i > 0 && (
                <label className="check">
                  <input type="checkbox" checked={order.tiedWithPrevious[i]} onChange={() => setOrder(toggleTie(order, i))} /> tied with the one above
                </label>
              )}
            </span>
          </li>
        ))}
      </ol>
      <p className="tiers-text" data-tiers={JSON.stringify(tiersFromOrder(order))}>
        {tiersText(tiersFromOrder(order), letters)}
      </p>
      <label className="check">
        <input type="checkbox" checked={gold} onChange={(e) => setGold(e.target.checked)} /> Also make it a gold set (shown
        once to every annotator to measure them; no longer exported as training data)
      </label>
      <button type="button" disabled={busy} onClick={() => void save()}>
        Save the final order
      </button>
      {message && (
        <p className={message.tone === "error" ? "form-error" : "notice notice-success"} role={message.tone === "error" ? "alert" : "status"}>
          {message.text}
        </p>
      )}
    </section>
  );
}

function ReviewCard({ item, projectId }: { item: ReviewItem; projectId: number }) {
  const [state, setState] = useState<ReviewState>(item.reviewState);
  const [comment, setComment] = useState("");
  const [shownComment, setShownComment] = useState(item.reviewComment);
  const [reviewer, setReviewer] = useState(item.reviewedBy);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [adjudicating, setAdjudicating] = useState(false);
  const letters = lettersOf(item.candidates);
  const commentId = `review-comment-${item.id}`;
  const decide = async (action: ReviewAction) => {
    const problem = verdictProblem(action, comment);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    const answer = await reviewRanking(projectId, item.id, action, comment);
    setBusy(false);
    if (answer.kind === "loaded") {
      setState(answer.value.reviewState);
      setShownComment(answer.value.reviewComment);
      setReviewer(answer.value.reviewedBy);
      setComment("");
      setError(undefined);
    } else if (answer.kind === "invalid") {
      setError(answer.errors.comment ?? answer.errors.action ?? answer.message);
    } else if (answer.kind === "failed") {
      setError(answer.message);
    }
  };
  return (
    <article className="panel review-card" data-ranking-id={item.id} data-review-state={state} aria-label={`Ranking ${item.id}`}>
      <header className="review-card-header">
        <h2>
          Ranking #{item.id} of <a href={`#/sets/${item.candidateSet}`}>set #{item.candidateSet}</a> by {item.annotator}
        </h2>
        <p className="hint">
          {dateTime(item.createdAt)}
          {item.seconds !== null && ` · ${Math.round(item.seconds)} s`}
          {item.setAgreement !== null && ` · set agreement ${fixed(item.setAgreement, 2)}`}
        </p>
        <p className="review-badges">
          <span className={`review-state review-state-${state}`}>{STATE_TEXT[state]}</span>
          {item.disputed && <span className="review-badge">Disputed</span>}
          {item.goldFailed && <span className="review-badge">Annotator fails gold</span>}
          {item.isGold && <span className="review-badge">Gold set</span>}
          {item.qcFlags.map((f) => (
            <span key={f} className="review-badge">
              QC: {f}
            </span>
          ))}
        </p>
      </header>
      <PromptView messages={item.prompt} />
      <h3>Their ranking</h3>
      <RankedResponses item={item} letters={letters} />
      {item.rationale && (
        <p>
          <strong>Rationale:</strong> {item.rationale}
        </p>
      )}
      {state !== "pending" && (
        <p className="review-verdict" role="status">
          {STATE_TEXT[state]}
          {reviewer ? ` by ${reviewer}` : ""}
          {shownComment ? `: ${shownComment}` : "."}
        </p>
      )}
      {state === "sent_back" ? (
        <p className="hint">Back with the annotator; their new submission will be in the queue.</p>
      ) : (
        <div className="review-actions">
          <div className="field">
            <label htmlFor={commentId}>Comment (the reason to reject; shown to the annotator when sent back)</label>
            <textarea
              id={commentId}
              rows={2}
              value={comment}
              maxLength={2000}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${commentId}-error` : undefined}
              onChange={(e) => setComment(e.target.value)}
            />
            <FieldError id={`${commentId}-error`} message={error} />
          </div>
          <button type="button" disabled={busy} onClick={() => void decide("accept")}>
            Accept
          </button>{" "}
          <button type="button" className="secondary" disabled={busy} onClick={() => void decide("reject")}>
            Reject
          </button>{" "}
          <button type="button" className="secondary" disabled={busy} onClick={() => void decide("send_back")}>
            Send back
          </button>{" "}
          {!item.isGold && (
            <button type="button" className="secondary" aria-expanded={adjudicating} onClick={() => setAdjudicating(!adjudicating)}>
              {item.disputed ? "Adjudicate the set" : "Set the final order"}
            </button>
          )}
        </div>
      )}
      {adjudicating && <AdjudicationPanel item={item} projectId={projectId} letters={letters} />}
    </article>
  );
}

export function ReviewQueuePage({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [filters, setFilters] = useState<QueueFilters>(DEFAULT_FILTERS);
  const [offset, setOffset] = useState(0);
  const key = `review-${projectId}-${JSON.stringify(filters)}-${offset}`;
  const [queue, reload] = useLoaded(() => fetchReviewQueue(projectId, filters, PAGE, offset), key, onSignedOut);
  const [annotators] = useLoaded(() => fetchAnnotators(projectId), `annotators-${projectId}`, onSignedOut);
  const [project] = useLoaded(() => fetchProjectSummary(projectId), `project-${projectId}`, onSignedOut);
  const name = project?.kind === "loaded" ? project.value.name : `Project ${projectId}`;
  useEffect(() => {
    document.title = `${name}: review · Flywheel`;
  }, [name]);
  const people = annotators?.kind === "loaded" ? annotators.value.map((a) => ({ id: a.id, username: a.username })) : [];
  return (
    <section aria-labelledby="review-heading" className="review-queue">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> › <a href={`#/projects/${projectId}/dashboard`}>Dashboard</a> ·{" "}
        <a href={`#/projects/${projectId}/sets`}>Sets</a>
      </p>
      <h1 id="review-heading">{name}: review queue</h1>
      <QueueFiltersForm
        filters={filters}
        annotators={people}
        onChange={(next) => {
          setFilters(next);
          setOffset(0);
        }}
      />
      <LoadNotice state={queue} what="the review queue" />
      {queue?.kind === "loaded" && (
        <>
          <p className="hint" role="status">
            {queue.value.count} ranking{queue.value.count === 1 ? "" : "s"} match.{" "}
            <button type="button" className="secondary" onClick={reload}>
              Refresh
            </button>
          </p>
          {queue.value.results.map((item) => (
            // Keyed by what the server says of the ranking: a card holds its verdict locally,
            // and a newer answer about the same ranking starts it afresh.
            <ReviewCard key={`${item.id}:${item.reviewState}:${item.reviewedAt ?? ""}`} item={item} projectId={projectId} />
          ))}
          <nav className="pager" aria-label="Pages of the review queue">
            <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <span>
              {queue.value.count === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, queue.value.count)} of {queue.value.count}
            </span>
            <button type="button" className="secondary" disabled={offset + PAGE >= queue.value.count} onClick={() => setOffset(offset + PAGE)}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
