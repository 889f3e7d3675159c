/** The loop's rounds, newest first: status, the step indicator, the verdict, wall time, and what
 * each step made (snapshot, reward run → reward model, policy run → policy, generation job),
 * linked to their pages. A failed round shows its error under its row, with Retry for admins; an
 * unconfirmed round its reasons, with Promote / Reject for admins while it waits; a round waiting
 * for its blind human A/B the annotators' progress, with Promote / Reject now for admins. */

import { Fragment } from "react";
import { type LoopRound, duration, roundStepMarks, totalSeconds } from "../../review/loop";
import { dateTime } from "../../review/resource";
import { RoundSteps } from "./RoundSteps";
import { awaitsHumanEval } from "../../review/loopVerdict";
import { HumanEvalRow, VerdictBadge, VerdictRow } from "./RoundVerdict";

const COLUMNS = 9;

export interface Refs {
  isAdmin: boolean;
  projectId: number;
  modelName: (id: number) => string;
}

/** A model version: a link to its place in the lineage (admins), its name otherwise. */
export function ModelRef({ id, refs }: { id: number | null; refs: Refs }) {
  if (id === null) return <>–</>;
  const name = refs.modelName(id);
  return refs.isAdmin ? <a href={`#/models/${id}`}>{name}</a> : <>{name}</>;
}

function RunRef({ id, status, refs }: { id: number | null; status: string | null; refs: Refs }) {
  if (id === null) return <>–</>;
  const label = `Run #${id}`;
  return (
    <>
      {refs.isAdmin ? <a href={`#/runs/${id}`}>{label}</a> : label}
      {status && <span className={`status status-${status} small`}>{status}</span>}
    </>
  );
}

export function RoundsTable({
  rounds,
  aiFeedback,
  humanEval = false,
  refs,
  retrying,
  onRetry,
  deciding,
  onDecide,
}: {
  rounds: LoopRound[];
  aiFeedback: boolean;
  /** The loop asks for a blind human A/B each round: rounds not evaluated yet show the step. */
  humanEval?: boolean;
  refs: Refs;
  retrying: number | null;
  onRetry: (round: LoopRound) => void;
  deciding: number | null;
  onDecide: (round: LoopRound, promote: boolean) => void;
}) {
  const newestFirst = [...rounds].sort((a, b) => b.number - a.number);
  return (
    <div className="table-wrap" role="region" aria-label="Rounds" tabIndex={0}>
      <table className="data-table rounds-table">
        <thead>
          <tr>
            <th scope="col">Round</th>
            <th scope="col">Status</th>
            <th scope="col">Steps</th>
            <th scope="col">Verdict</th>
            <th scope="col">Snapshot</th>
            <th scope="col">Reward model</th>
            <th scope="col">Policy</th>
            <th scope="col">Next candidates</th>
            <th scope="col">Wall time</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((r) => (
            <Fragment key={r.id}>
              <tr
                data-round={r.number}
                className={r.status === "failed" ? "round-failed" : r.verdict === "unconfirmed" && !awaitsHumanEval(r) ? "round-unconfirmed" : undefined}
              >
                <th scope="row">
                  Round {r.number}
                  <span className="hint small block">
                    {r.policyKind.toUpperCase()} from <ModelRef id={r.basePolicy} refs={refs} />
                  </span>
                </th>
                <td data-col="status">
                  <span className={`status status-${r.status}`}>{r.status}</span>
                </td>
                <td data-col="steps">
                  <RoundSteps marks={roundStepMarks(r, aiFeedback, humanEval)} round={r.number} />
                </td>
                <td data-col="verdict">
                  <VerdictBadge round={r} />
                </td>
                <td data-col="snapshot">{r.snapshot === null ? "–" : <a href={`#/datasets/${r.snapshot}`}>Snapshot #{r.snapshot}</a>}</td>
                <td data-col="reward">
                  <RunRef id={r.rewardRun} status={r.rewardRunStatus} refs={refs} />
                  {r.rewardModel !== null && (
                    <span className="block">
                      → <ModelRef id={r.rewardModel} refs={refs} />
                    </span>
                  )}
                </td>
                <td data-col="policy">
                  <RunRef id={r.policyRun} status={r.policyRunStatus} refs={refs} />
                  {r.policyModel !== null && (
                    <span className="block">
                      → <ModelRef id={r.policyModel} refs={refs} />
                    </span>
                  )}
                </td>
                <td data-col="generation">
                  {r.generationJob === null ? (
                    "–"
                  ) : (
                    <>
                      <a href={`#/projects/${refs.projectId}/generate`}>Job #{r.generationJob}</a>
                      {r.generationJobStatus && <span className={`status status-${r.generationJobStatus} small`}>{r.generationJobStatus}</span>}
                    </>
                  )}
                </td>
                <td data-col="wall">
                  {duration(totalSeconds(r))}
                  <span className="hint small block">{dateTime(r.createdAt)}</span>
                </td>
              </tr>
              {r.status === "failed" && (
                <tr className="round-error-row" data-round-error={r.number}>
                  <td colSpan={COLUMNS}>
                    <div className="round-error" role="alert">
                      <p>
                        <strong>Round {r.number} failed at the {r.step} step:</strong>{" "}
                        <span className="error-text">{r.error || "no message"}</span>
                      </p>
                      {refs.isAdmin && (
                        <button type="button" disabled={retrying === r.id} onClick={() => onRetry(r)}>
                          {retrying === r.id ? "Retrying…" : `Retry round ${r.number}`}
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              )}
              {awaitsHumanEval(r) && (
                <HumanEvalRow round={r} columns={COLUMNS} isAdmin={refs.isAdmin} deciding={deciding === r.id} onDecide={onDecide} />
              )}
              {r.verdict === "unconfirmed" && !awaitsHumanEval(r) && (
                <VerdictRow round={r} columns={COLUMNS} isAdmin={refs.isAdmin} deciding={deciding === r.id} onDecide={onDecide} />
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
