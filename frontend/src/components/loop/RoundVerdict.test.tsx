// @vitest-environment jsdom
/** An unconfirmed round in jsdom: its row says so with each reason; an admin gets Promote and
 * Reject while the round waits, a reviewer does not, and a decided round shows who decided. */

import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { type LoopRound, parseRound } from "../../review/loop";
import { HumanEvalRow, VerdictBadge, VerdictRow } from "./RoundVerdict";

const WAITING = parseRound({
  id: 9,
  number: 3,
  status: "awaiting_decision",
  step: "decide",
  verdict: "unconfirmed",
  verdict_reasons: ["The reward model is within noise of its length baseline.", "The judge's win-rate is 50 %: not above 0.5."],
  decision: "",
  evaluation: {},
  step_seconds: {},
}) as LoopRound;

function Row({ round, isAdmin, onDecide }: { round: LoopRound; isAdmin: boolean; onDecide?: (r: LoopRound, p: boolean) => void }) {
  return (
    <table>
      <tbody>
        <tr>
          <td>
            <VerdictBadge round={round} />
          </td>
        </tr>
        <VerdictRow round={round} columns={9} isAdmin={isAdmin} deciding={false} onDecide={onDecide ?? (() => undefined)} />
      </tbody>
    </table>
  );
}

afterEach(cleanup);

describe("an unconfirmed round", () => {
  it("says it waits, with every reason, and an admin promotes or rejects it", async () => {
    const decided: [number, boolean][] = [];
    render(<Row round={WAITING} isAdmin onDecide={(r, promote) => decided.push([r.id, promote])} />);
    expect(screen.getByRole("alert").textContent).toContain("Round 3 is unconfirmed: its policy was not promoted");
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(WAITING.reasons);
    expect(screen.getByText("unconfirmed: awaiting a decision")).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Promote round 3's policy" }));
    await userEvent.click(screen.getByRole("button", { name: "Reject round 3's policy" }));
    expect(decided).toEqual([
      [9, true],
      [9, false],
    ]);
  });

  it("gives a reviewer the reasons but no buttons", () => {
    render(<Row round={WAITING} isAdmin={false} />);
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("once rejected, is no longer an alert and says what was decided", () => {
    const rejected = { ...WAITING, status: "succeeded", step: "done", decision: "rejected" as const, decidedBy: 1, decidedAt: "2026-01-02T10:00:00Z" };
    render(<Row round={rejected} isAdmin />);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.getByText(/a person rejected its policy/)).toBeTruthy();
    expect(screen.getByText(/^Rejected /)).toBeTruthy();
  });
});

// A round waiting for its blind A/B; the judge alone could not confirm it.
const AT_HUMAN_EVAL = parseRound({
  id: 11,
  number: 4,
  status: "running",
  step: "human_eval",
  verdict: "unconfirmed",
  verdict_reasons: ["The judge's win-rate is 52 %: not above 0.5."],
  decision: "",
  human_eval_job: 44,
  human_eval: { sets: 5, complete: 2, rankings: 7 },
  evaluation: {},
  step_seconds: {},
}) as LoopRound;

function HumanRow({ round, isAdmin, onDecide }: { round: LoopRound; isAdmin: boolean; onDecide?: (r: LoopRound, p: boolean) => void }) {
  return (
    <table>
      <tbody>
        <tr>
          <td>
            <VerdictBadge round={round} />
          </td>
        </tr>
        <HumanEvalRow round={round} columns={9} isAdmin={isAdmin} deciding={false} onDecide={onDecide ?? (() => undefined)} />
      </tbody>
    </table>
  );
}

describe("a round waiting for its blind human A/B", () => {
  it("says how far the annotators are, and an admin decides without waiting", async () => {
    const decided: [number, boolean][] = [];
    const { container } = render(<HumanRow round={AT_HUMAN_EVAL} isAdmin onDecide={(r, promote) => decided.push([r.id, promote])} />);
    expect(container.querySelector("[data-round-human-eval='4']")?.textContent).toContain(
      "Round 4 waits for its blind human evaluation: 2 of 5 A/B sets ranked (7 rankings).",
    );
    expect(screen.getByText("awaiting the blind A/B")).toBeTruthy();
    expect(screen.getByText("judge alone: unconfirmed")).toBeTruthy();
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(AT_HUMAN_EVAL.reasons);
    // Waiting for people is no alarm.
    expect(screen.queryByRole("alert")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Promote round 4's policy now" }));
    await userEvent.click(screen.getByRole("button", { name: "Reject round 4's policy now" }));
    expect(decided).toEqual([
      [11, true],
      [11, false],
    ]);
  });

  it("gives a reviewer the progress but no buttons", () => {
    render(<HumanRow round={AT_HUMAN_EVAL} isAdmin={false} />);
    expect(screen.getByText(/2 of 5 A\/B sets ranked/)).toBeTruthy();
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("once confirmed by the annotators, the badge says so", () => {
    const confirmed = parseRound({
      id: 11,
      number: 4,
      status: "succeeded",
      step: "done",
      verdict: "confirmed",
      verdict_reasons: [],
      evaluation: {
        independent_win_rate: { n: 40, wins: 20, losses: 18, ties: 2, win_rate: 0.52, ci_low: 0.4, ci_high: 0.64 },
        human_win_rate: { win_rate: 0.7, ci_low: 0.58, ci_high: 0.81, comparisons: 40, rankings: 10, prompts: 8, sets: 8 },
      },
      step_seconds: {},
    }) as LoopRound;
    render(<VerdictBadge round={confirmed} />);
    expect(screen.getByText("confirmed")).toBeTruthy();
    expect(screen.getByText("by the annotators' blind A/B")).toBeTruthy();
  });
});
