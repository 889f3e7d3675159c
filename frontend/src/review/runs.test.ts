import { describe, expect, it } from "vitest";
import { metricSeries, nextPollDelay, parseRunDetail, progressText } from "./runs";

const row = {
  id: 7, kind: "dpo", status: "running", dataset: 2, base_model: 3, reward_model: null, output_model: null,
  step: 3, total_steps: 10, progress: 0.3, created_at: "2025-01-01T00:00:00Z", finished_at: null, error: "",
  config: { beta: 0.1 },
  metrics: [
    { step: 2, values: { loss: 0.6, "rewards/margins": 0.1, epoch: 0.1 } },
    { step: 1, values: { loss: 0.7, kl: "n/a" } },
    { step: 3, values: { loss: 0.5, kl: 0.02, "rewards/margins": 0.3 } },
  ],
  log_tail: "step 3",
};

describe("parseRunDetail and metricSeries", () => {
  it("reads the run and its numeric metrics", () => {
    const run = parseRunDetail(row)!;
    expect(run.baseModel).toBe(3);
    expect(run.metrics[1]).toEqual({ step: 1, values: { loss: 0.7 } });
    expect(progressText(run)).toBe("Step 3 of 10 (30%)");
  });

  it("charts the preferred keys first, in step order, without bookkeeping keys", () => {
    const series = metricSeries(parseRunDetail(row)!.metrics);
    expect(series.map((s) => s.key)).toEqual(["loss", "rewards/margins", "kl"]);
    expect(series[0]!.points).toEqual([{ x: 1, y: 0.7 }, { x: 2, y: 0.6 }, { x: 3, y: 0.5 }]);
    expect(series[2]!.points).toEqual([{ x: 3, y: 0.02 }]);
  });

  it("rejects a body without id or status", () => {
    expect(parseRunDetail({ id: 1 })).toBeNull();
    expect(parseRunDetail(null)).toBeNull();
  });
});

describe("nextPollDelay", () => {
  it("polls every 2 s while queued or running, stops once finished", () => {
    expect(nextPollDelay({ status: "queued" })).toBe(2000);
    expect(nextPollDelay({ status: "running" })).toBe(2000);
    expect(nextPollDelay({ status: "succeeded" })).toBeNull();
    expect(nextPollDelay({ status: "cancelled" })).toBeNull();
    expect(nextPollDelay({ status: "failed" })).toBeNull();
  });
  it("backs off after failed polls, up to 30 s", () => {
    expect(nextPollDelay(null, 1)).toBe(4000);
    expect(nextPollDelay(null, 10)).toBe(30_000);
  });
});
