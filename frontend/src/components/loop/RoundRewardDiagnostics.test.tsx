// @vitest-environment jsdom
/**
 * A round's reward-model diagnostics on the Loop page: the ceiling (or why there is none), train
 * accuracy flagged when it runs ahead of held-out, ECE, the weakest prompt group (by accuracy,
 * among groups with enough pairs; its value shown as text), and the link to the run for admins.
 */

import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { parseRewardDiagnostics } from "../../review/rewardDiagnostics";
import { RoundRewardDiagnostics, weakestGroup } from "./RoundRewardDiagnostics";

const XSS = '<img src=x onerror="alert(1)">';

function body(overrides: Record<string, unknown> = {}) {
  return {
    length_unit: "characters",
    heldout: { pairs: 400, accuracy: 0.71, length_baseline: 0.49 },
    train: { pairs: 2000, of_pairs: 1700, accuracy: 0.93, length_baseline: 0.5 },
    gap: 0.22,
    calibration: { pairs: 400, ece: 0.081, brier: 0.2, log_loss: 0.6, bins: [] },
    groups: [
      {
        key: "topic",
        values: 3,
        groups: [
          { value: "owls", pairs: 40, accuracy: 0.8, length_baseline: 0.5 },
          { value: XSS, pairs: 30, accuracy: 0.55, length_baseline: 0.5 },
          { value: "bees", pairs: 4, accuracy: 0.25, length_baseline: 0.5 },
        ],
      },
    ],
    groups_skipped: [],
    ceiling: { accuracy: 0.83, agreement: 0.72, agreement_with_ties: 0.6, sets: 50, comparisons: 300, reason: "", gold_accuracy: null, gold_rankings: 0 },
    ...overrides,
  };
}

afterEach(cleanup);

describe("RoundRewardDiagnostics", () => {
  it("picks the weakest group with enough pairs", () => {
    const d = parseRewardDiagnostics(body())!;
    expect(weakestGroup(d)).toEqual({ key: "topic", value: XSS, accuracy: 0.55, pairs: 30 });
    expect(weakestGroup(d, 1)?.value).toBe("bees");
    expect(weakestGroup(d, 100)).toBeNull();
  });

  it("shows the ceiling, memorising, ECE and the weakest group as text, and links admins to the run", () => {
    const d = parseRewardDiagnostics(body())!;
    const { container } = render(<RoundRewardDiagnostics d={d} runId={12} linkRun />);
    const text = container.textContent ?? "";
    expect(text).toContain("ceiling 83");
    expect(text).toContain("train 93");
    expect(text).toContain("(memorising)");
    expect(text).toContain("ECE 0.08");
    expect(text).toContain(`weakest topic “${XSS}” 55`);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("link", { name: "diagnostics" }).getAttribute("href")).toBe("#/runs/12");
  });

  it("says why there is no ceiling, flags no memorising under the gap, and links no one without the role", () => {
    const d = parseRewardDiagnostics(body({ gap: 0.02, ceiling: { accuracy: null, reason: "no set was ranked twice", sets: 0, comparisons: 0 } }))!;
    const { container } = render(<RoundRewardDiagnostics d={d} runId={12} linkRun={false} />);
    const text = container.textContent ?? "";
    expect(text).toContain("no ceiling");
    expect(text).not.toContain("memorising");
    expect(screen.queryByRole("link")).toBeNull();
  });
});
