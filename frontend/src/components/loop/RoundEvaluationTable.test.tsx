// @vitest-environment jsdom
/** The annotators' blind A/B in a round's evaluation: the win-rate with its 95 % interval beside
 * the judge's, what it rests on, a partial figure marked as such, the reason where there is no
 * figure, and the progress while the round waits for the annotators. */

import { cleanup, render, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { type LoopRound, parseRound } from "../../review/loop";
import { RoundEvaluationTable } from "./RoundEvaluationTable";

function round(number: number, overrides: Record<string, unknown>): LoopRound {
  return parseRound({
    id: number,
    number,
    status: "succeeded",
    step: "done",
    evaluation: { reward: { pairs: 20, accuracy: 0.8, length_baseline: 0.5 } },
    step_seconds: {},
    ...overrides,
  }) as LoopRound;
}

const HUMAN = { win_rate: 0.7, ci_low: 0.58, ci_high: 0.81, comparisons: 40, rankings: 10, prompts: 8, sets: 8 };

function humanCell(container: HTMLElement, number: number): HTMLElement {
  const cell = container.querySelector<HTMLElement>(`[data-eval-round='${number}'] [data-col='human_win_rate']`);
  if (!cell) throw new Error(`no human cell for round ${number}`);
  return cell;
}

afterEach(cleanup);

describe("the annotators' blind A/B in the evaluation table", () => {
  it("shows the win-rate with its interval under a clearly labelled column", () => {
    const r = round(1, { evaluation: { reward: { pairs: 20, accuracy: 0.8, length_baseline: 0.5 }, human_win_rate: HUMAN } });
    const { container, getByRole } = render(<RoundEvaluationTable rounds={[r]} details={new Map()} />);
    expect(within(getByRole("table")).getByRole("columnheader", { name: "Annotators' blind A/B win-rate (95 %)" })).toBeTruthy();
    const cell = humanCell(container, 1);
    expect(cell.textContent).toContain("70% (95 % 58%–81%)");
    expect(cell.textContent).toContain("40 comparisons in 10 rankings on 8 prompts");
    expect(cell.querySelector("[data-partial]")).toBeNull();
  });

  it("marks a partial figure, says why there is none, and shows the progress while waiting", () => {
    const partial = round(1, { evaluation: { reward: {}, human_win_rate: { ...HUMAN, partial: true } } });
    const none = round(2, { evaluation: { reward: {}, human_win_rate: { reason: "the A/B generation job 7 failed: out of memory" } } });
    const waiting = round(3, { status: "running", step: "human_eval", human_eval_job: 9, human_eval: { sets: 4, complete: 1, rankings: 2 } });
    const off = round(4, {});
    const { container } = render(<RoundEvaluationTable rounds={[partial, none, waiting, off]} details={new Map()} />);
    expect(humanCell(container, 1).textContent).toContain("partial: decided before every A/B set was ranked");
    expect(humanCell(container, 2).textContent).toBe("no figure: the A/B generation job 7 failed: out of memory");
    expect(humanCell(container, 3).textContent).toBe("waiting: 1 of 4 A/B sets ranked (2 rankings)");
    expect(humanCell(container, 4).textContent).toBe("–");
  });
});
