/** A round's verdict (issue 17): a badge in the rounds table, and under an unconfirmed round a
 * row that says so with the reasons, who decided and when, and Promote / Reject for an admin
 * while the round waits for a decision. */

import { type LoopRound } from "../../review/loop";
import { awaitsDecision, verdictHeadline } from "../../review/loopVerdict";
import { dateTime } from "../../review/resource";

export function VerdictBadge({ round }: { round: LoopRound }) {
  if (!round.verdict) return <>–</>;
  const label = awaitsDecision(round) ? "unconfirmed: awaiting a decision" : round.verdict;
  return (
    <>
      <span className={`verdict verdict-${round.verdict}`}>{label}</span>
      {round.decision && <span className="hint small block">{round.decision}</span>}
    </>
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
