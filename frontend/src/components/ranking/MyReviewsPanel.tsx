/** The annotator's reviewed work in this project: how many rankings reviewers accepted,
 * rejected or sent back, and their latest comments (as text). */

import { countsText } from "../../review/reviewQueue";
import { fetchMyReviews } from "../../review/reviewQueueApi";
import { dateTime } from "../../review/resource";
import { useLoaded } from "../../review/useLoaded";

export function MyReviewsPanel({ projectId, refreshKey, onSignedOut }: { projectId: number; refreshKey: number; onSignedOut: () => void }) {
  const [reviews] = useLoaded(() => fetchMyReviews(projectId), `my-reviews-${projectId}-${refreshKey}`, onSignedOut);
  if (reviews?.kind !== "loaded") return null;
  const { counts, comments } = reviews.value;
  const summary = countsText(counts);
  if (!summary && comments.length === 0) return null;
  return (
    <details className="my-reviews panel">
      <summary>
        Your reviewed work: <span className="my-reviews-counts">{summary ?? "no verdicts yet"}</span>
      </summary>
      {comments.length > 0 && (
        <ul className="my-reviews-comments">
          {comments.map((c) => (
            <li key={c.ranking}>
              <span className="hint">
                Set #{c.candidateSet} · {c.reviewState.replace("_", " ")} · {dateTime(c.reviewedAt)}
              </span>
              <p>{c.comment}</p>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
