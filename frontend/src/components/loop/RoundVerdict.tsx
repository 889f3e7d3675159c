/** A round's verdict (issue 17): a badge in the rounds table, and under an unconfirmed round a
 * row that says so with the reasons, who decided and when, and Promote / Reject for an admin
 * while the round waits for a decision. A round waiting for its blind human A/B gets a row with
 * the annotators' progress instead, and an admin may promote or reject it without waiting. */

import { type LoopRound } from "../../review/loop";
import { awaitsDecision, awaitsHumanEval, confirmedBy, humanEvalProgressText, verdictHeadline } from "../../review/loopVerdict";
import { dateTime } from "../../review/resource";

export function VerdictBadge({ round }: { round: LoopRound }) {
  if (awaitsHumanEval(round)) {
    // the verdict so far is the judge's alone; the annotators' A/B may still change it
    return (
      <>
        <span className="verdict">awaiting the blind A/B</span>
        {round.verdict && <span className="hint small block">judge alone: {round.verdict}</span>}
      </>
    );
  }
  if (!round.verdict) return <>–</>;
  const label = awaitsDecision(round) ? "unconfirmed: awaiting a decision" : round.verdict;
  const by = round.verdict === "confirmed" ? confirmedBy(round.evaluation) : "judge";
  return (
    <>
      <span className={`verdict verdict-${round.verdict}`}>{label}</span>
      {by !== "judge" && (
        <span className="hint small block">{by === "both" ? "by the judge and the annotators" : "by the annotators' blind A/B"}</span>
      )}
      {round.decision && <span className="hint small block">{round.decision}</span>}
    </>
  );
}

/** Under a round that waits for its blind human A/B: how far the annotators are, and for an
 * admin Promote / Reject now, without waiting for the rest of the sets (the win-rate of the
 * rankings so far is kept, marked partial). */
export function HumanEvalRow({
  round,
  columns,
  isAdmin,
  deciding,
  onDecide,
}: {
  round: LoopRound;
  columns: number;
  isAdmin: boolean;
  deciding: boolean;
  onDecide: (round: LoopRound, promote: boolean) => void;
}) {
  return (
    <tr className="round-verdict-row" data-round-human-eval={round.number}>
      <td colSpan={columns}>
        <div className="round-verdict round-human-eval">
          <div>
            <p>
              <strong>Round {round.number} waits for its blind human evaluation:</strong>{" "}
              <span data-human-eval-progress>{humanEvalProgressText(round.humanEval)}.</span>
            </p>
            <p className="hint small">
              Annotators rank the new policy against the previous one on held-out prompts, not told which is which; the verdict
              takes their win-rate into account once every set is ranked.
            </p>
            {round.reasons.length > 0 && (
              <>
                <p className="hint small">Without the annotators the round would be unconfirmed:</p>
                <ul className="verdict-reasons">
                  {round.reasons.map((reason) => (
                    <li key={reason}>{reason}</li>
                  ))}
                </ul>
              </>
            )}
          </div>
          {isAdmin && (
            <div className="verdict-actions">
              <button type="button" disabled={deciding} onClick={() => onDecide(round, true)}>
                {`Promote round ${round.number}'s policy now`}
              </button>
              <button type="button" className="secondary" disabled={deciding} onClick={() => onDecide(round, false)}>
                {`Reject round ${round.number}'s policy now`}
              </button>
            </div>
          )}
        </div>
      </td>
    </tr>
  );
}

export function VerdictRow({
  round,
  columns,
  isAdmin,
  deciding,
  onDecide,
}: {
  round: LoopRound;
  columns: number;
  isAdmin: boolean;
  deciding: boolean;
  onDecide: (round: LoopRound, promote: boolean) => void;
}) {
  const waiting = awaitsDecision(round);
  const decided = round.decidedAt && round.decision ? `${round.decision === "promoted" ? "Promoted" : "Rejected"} ${dateTime(round.decidedAt)}` : "";
  return (
    <tr className="round-verdict-row" data-round-verdict={round.number}>
      <td colSpan={columns}>
        <div className="round-verdict verdict-unconfirmed" role={waiting ? "alert" : undefined}>
          <div>
            <p>
              <strong>{verdictHeadline(round)}</strong>
            </p>
            <ul className="verdict-reasons">
              {round.reasons.map((reason) => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
            {decided && <p className="hint small">{decided}</p>}
          </div>
          {waiting && isAdmin && (
            <div className="verdict-actions">
              <button type="button" disabled={deciding} onClick={() => onDecide(round, true)}>
                {`Promote round ${round.number}'s policy`}
              </button>
              <button type="button" className="secondary" disabled={deciding} onClick={() => onDecide(round, false)}>
                {`Reject round ${round.number}'s policy`}
              </button>
            </div>
          )}
        </div>
      </td>
    </tr>
  );
}
