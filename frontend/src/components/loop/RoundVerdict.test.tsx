// @vitest-environment jsdom
/** An unconfirmed round in jsdom: its row says so with each reason; an admin gets Promote and
 * Reject while the round waits, a reviewer does not, and a decided round shows who decided. */

import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { type LoopRound, parseRound } from "../../review/loop";
import { VerdictBadge, VerdictRow } from "./RoundVerdict";

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
