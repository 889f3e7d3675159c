// @vitest-environment jsdom
/**
 * The "Reward model diagnostics" panel: the API's diagnostics parsed value by value, held-out
 * accuracy beside the length baseline and the ceiling, train vs held-out, the reliability table
 * and the per-group tables, metadata shown as text; and the run page shows it for a reward run
 * only.
 */

import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RewardDiagnosticsPanel } from "./RewardDiagnosticsPanel";
import { RunDetailPage } from "./RunDetailPage";
import { type RewardDiagnostics, parseRewardDiagnostics, verdict } from "../../review/rewardDiagnostics";

const XSS = '<img src=x onerror="alert(1)">';

function bins() {
  return Array.from({ length: 10 }, (_, i) => ({
    lower: 0.5 + i * 0.05,
    upper: 0.55 + i * 0.05,
    count: i === 9 ? 6 : i === 5 ? 2 : 0,
    confidence: i === 9 ? 0.97 : i === 5 ? 0.78 : null,
    accuracy: i === 9 ? 1 : i === 5 ? 0.5 : null,
  }));
}

const BODY = {
  length_unit: "characters",
  heldout: { pairs: 8, accuracy: 0.875, length_baseline: 0.625 },
  train: { pairs: 40, of_pairs: 3000, accuracy: 1.0, length_baseline: 0.6 },
  gap: 0.125,
  calibration: { pairs: 8, ece: 0.0534, brier: 0.08, log_loss: 0.3, bins: bins() },
  groups: [
    {
      key: "topic",
      values: 2,
      groups: [
        { value: "cats", pairs: 6, accuracy: 1.0, length_baseline: 0.5 },
        { value: XSS, pairs: 2, accuracy: 0.5, length_baseline: 1.0 },
        { value: 3, pairs: 1 },
      ],
    },
  ],
  groups_skipped: [{ key: "id", values: 120, reason: "more than 50 values" }],
  ceiling: {
    accuracy: 0.9, agreement: 0.82, agreement_with_ties: 0.8, sets: 12, comparisons: 36, reason: "",
    gold_accuracy: 0.75, gold_rankings: 4,
  },
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function parsed(overrides: Record<string, unknown> = {}): RewardDiagnostics {
  return parseRewardDiagnostics({ ...BODY, ...overrides })!;
}

describe("parseRewardDiagnostics", () => {
  it("reads the API's shape and drops what is malformed", () => {
    const d = parsed();
    expect(d.heldout).toEqual({ pairs: 8, accuracy: 0.875, lengthBaseline: 0.625 });
    expect(d.train).toEqual({ pairs: 40, ofPairs: 3000, accuracy: 1.0, lengthBaseline: 0.6 });
    expect(d.calibration?.bins).toHaveLength(10);
    expect(d.groups[0]!.groups.map((g) => g.value)).toEqual(["cats", XSS]); // 3 is not a string
    expect(d.ceiling).toMatchObject({ accuracy: 0.9, sets: 12, goldAccuracy: 0.75 });
    expect(parseRewardDiagnostics(null)).toBeNull();
    expect(parseRewardDiagnostics([1])).toBeNull();
    expect(parsed({ heldout: null, calibration: "x", groups: "x" })).toMatchObject({ heldout: null, calibration: null, groups: [] });
  });

  it("says whether the held-out accuracy beats the length baseline and reaches the ceiling", () => {
    expect(verdict(parsed())).toBe("Held-out accuracy beats the length baseline.");
    expect(verdict(parsed({ heldout: { pairs: 8, accuracy: 0.6, length_baseline: 0.625 } }))).toMatch(/does not beat the length baseline/);
    expect(verdict(parsed({ heldout: { pairs: 8, accuracy: 0.95, length_baseline: 0.6 } }))).toBe("Held-out accuracy reaches the annotators' ceiling.");
    expect(verdict(parsed({ heldout: null }))).toMatch(/No held-out pairs/);
  });
});

describe("RewardDiagnosticsPanel", () => {
  it("shows held-out accuracy beside the length baseline, the ceiling and train accuracy", () => {
    render(<RewardDiagnosticsPanel diagnostics={parsed()} />);
    const stat = (id: string) => document.querySelector(`[data-stat="${id}"]`)!.textContent;
    expect(stat("heldout")).toContain("88%");
    expect(stat("heldout")).toContain("8 pairs");
    expect(stat("length")).toContain("63%");
    expect(stat("ceiling")).toContain("90%");
    expect(stat("ceiling")).toContain("agreement 82% on 12 sets");
    expect(stat("train")).toContain("100%");
    expect(stat("train")).toContain("40 of 3000 pairs");
    expect(stat("gap")).toContain("+13 pts");
    expect(stat("ece")).toContain("0.053");
    expect(screen.getByText(/memorises its train pairs/)).toBeTruthy();
    expect(screen.getByText(/score 75% on gold sets \(4 rankings\)/)).toBeTruthy();
  });

  it("lists the reliability bins and the accuracy per group, metadata as text", () => {
    render(<RewardDiagnosticsPanel diagnostics={parsed()} />);
    const reliability = screen.getByRole("table", { name: /Reliability/ });
    const rows = within(reliability).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(10);
    expect(rows[9]!.textContent).toBe("0.95–1.00697%100%");
    expect(rows[0]!.textContent).toBe("0.50–0.550––");

    const groups = screen.getByRole("table", { name: "Held-out accuracy per topic" });
    const cells = within(groups).getAllByRole("row").slice(1).map((r) => r.textContent);
    expect(cells).toEqual(["cats6100%50%", `${XSS}250%100%`]);
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText(/Not grouped by: id \(more than 50 values\)/)).toBeTruthy();
  });

  it("gives the reason when there is no ceiling, and no memorising note for a small gap", () => {
    const ceiling = { ...BODY.ceiling, accuracy: null, agreement: null, reason: "No set of the snapshot was ranked by two or more annotators." };
    render(<RewardDiagnosticsPanel diagnostics={parsed({ ceiling, gap: 0.02 })} />);
    expect(document.querySelector('[data-stat="ceiling"]')!.textContent).toContain("–");
    expect(screen.getByText(/No ceiling: No set of the snapshot was ranked by two/)).toBeTruthy();
    expect(screen.queryByText(/memorises/)).toBeNull();
  });
});

describe("RunDetailPage", () => {
  function serve(kind: string) {
    const run = {
      id: 4, kind, status: "succeeded", dataset: 2, base_model: 3, reward_model: null, output_model: 9, step: 2,
      total_steps: 2, progress: 1, created_at: "2025-01-01T00:00:00Z", finished_at: "2025-01-01T00:01:00Z", error: "",
      cancel_requested: false, config: {}, metrics: [], log_tail: "", diagnostics: BODY,
    };
    vi.stubGlobal("fetch", () =>
      Promise.resolve(new Response(JSON.stringify(run), { status: 200, headers: { "Content-Type": "application/json" } })),
    );
  }

  it("shows the diagnostics panel on a reward run", async () => {
    serve("reward");
    render(<RunDetailPage runId={4} onSignedOut={() => {}} />);
    expect(await screen.findByRole("heading", { name: "Reward model diagnostics" })).toBeTruthy();
  });

  it("shows no diagnostics panel on another kind of run", async () => {
    serve("dpo");
    render(<RunDetailPage runId={4} onSignedOut={() => {}} />);
    await screen.findByRole("heading", { name: "Lineage" });
    expect(screen.queryByRole("heading", { name: "Reward model diagnostics" })).toBeNull();
  });
});
