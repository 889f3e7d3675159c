import { describe, expect, it } from "vitest";
import { leaseText, parseLoopWaiting, waitingSummary } from "./loopWaiting";

const WAITING = {
  auto: true,
  trigger: "round_complete",
  blocked_by: null,
  blocking_round: null,
  ready: false,
  round: 0,
  sets: 173,
  complete: 171,
  open_sets: [
    { candidate_set: 12, prompt: 4, rankings: 0, needed: 1, leases: [{ annotator: "annotator1", expires_at: "2026-01-02T14:05:00Z" }] },
    { candidate_set: 13, prompt: 5, rankings: 0, needed: 1, leases: [] },
  ],
  open_sets_total: 2,
  rankings_since_last_round: 171,
  min_new_rankings: null,
};

describe("parseLoopWaiting", () => {
  it("reads the open sets with their leases", () => {
    const w = parseLoopWaiting(WAITING)!;
    expect(w.openSets.map((s) => s.candidateSet)).toEqual([12, 13]);
    expect(w.openSets[0]!.leases[0]!.annotator).toBe("annotator1");
    expect(w.openSets[0]!.leases[0]!.expiresAt.toISOString()).toBe("2026-01-02T14:05:00.000Z");
    expect(parseLoopWaiting({})).toBeNull();
  });
});

describe("waitingSummary", () => {
  it("says how many sets the round still waits for", () => {
    expect(waitingSummary(parseLoopWaiting(WAITING)!)).toBe(
      "The next round starts by itself when round 0's sets are all ranked: 171 of 173 complete, 2 still open.",
    );
  });

  it("says nothing while a round is open, and counts rankings for the N-rankings trigger", () => {
    expect(waitingSummary(parseLoopWaiting({ ...WAITING, blocked_by: "running", blocking_round: 1 })!)).toBeNull();
    const counting = parseLoopWaiting({ ...WAITING, trigger: "new_rankings", min_new_rankings: 200 })!;
    expect(waitingSummary(counting)).toBe("The next round starts by itself after 200 new rankings: 171 so far.");
  });

  it("names who holds a set and until when", () => {
    const [held, free] = parseLoopWaiting(WAITING)!.openSets;
    expect(leaseText(held!, () => "14:05")).toBe("leased by annotator1 until 14:05");
    expect(leaseText(free!, () => "14:05")).toBe("free: waiting for an annotator");
  });
});
