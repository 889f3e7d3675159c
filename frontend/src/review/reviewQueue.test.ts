import { describe, expect, it } from "vitest";
import {
  DEFAULT_FILTERS,
  countsText,
  move,
  orderFromTiers,
  parseMyReviews,
  parseReviewItem,
  queueQuery,
  tiersFromOrder,
  toggleTie,
  verdictProblem,
} from "./reviewQueue";

const CANDIDATES = [
  { id: 10, text: "alpha" },
  { id: 11, text: "bravo" },
  { id: 12, text: "charlie" },
];

const ROW = {
  id: 5,
  candidate_set: 3,
  annotator: "ann",
  annotator_id: 7,
  tiers: [[12], [10, 11]],
  not_rankable: false,
  flags: {},
  ratings: {},
  rationale: "",
  time_spent_seconds: 12.5,
  qc_flags: ["too_fast"],
  review_state: "pending",
  review_comment: "",
  reviewed_by: null,
  reviewed_at: null,
  created_at: "2026-12-07T10:00:00Z",
  prompt: [{ role: "user", content: "Q" }],
  candidates: CANDIDATES,
  is_gold: false,
  set_agreement: 0.25,
  disputed: true,
  gold_failed: false,
};

describe("review queue", () => {
  it("asks only for the filters that narrow the queue", () => {
    expect(queueQuery(DEFAULT_FILTERS, 10, 0)).toBe("state=pending&limit=10&offset=0");
    const all = { state: "" as const, disputed: true, goldFailed: true, flagged: true, annotator: 7, since: "2026-12-01", until: "2026-12-07" };
    expect(queueQuery(all, 10, 20)).toBe(
      "disputed=true&gold_failed=true&flagged=true&annotator=7&since=2026-12-01&until=2026-12-07&limit=10&offset=20",
    );
  });

  it("reads a queue row and leaves out what is not one", () => {
    const item = parseReviewItem(ROW);
    expect(item).toMatchObject({ id: 5, candidateSet: 3, annotator: "ann", tiers: [[12], [10, 11]], qcFlags: ["too_fast"], disputed: true, setAgreement: 0.25 });
    expect(item?.candidates.map((c) => c.text)).toEqual(["alpha", "bravo", "charlie"]);
    expect(parseReviewItem({ ...ROW, review_state: "weird" })?.reviewState).toBe("pending");
    expect(parseReviewItem({ id: "x" })).toBeNull();
    expect(parseReviewItem(null)).toBeNull();
  });

  it("needs a comment to reject or send back, not to accept", () => {
    expect(verdictProblem("accept", "")).toBeNull();
    expect(verdictProblem("reject", "  ")).toMatch(/why/);
    expect(verdictProblem("send_back", "")).toMatch(/annotator/);
    expect(verdictProblem("send_back", "Rank B last.")).toBeNull();
  });

  it("edits a final order: moves keep the ties, ties join the tier above", () => {
    const order = orderFromTiers([[12], [10, 11]], CANDIDATES);
    expect(order).toEqual({ ids: [12, 10, 11], tiedWithPrevious: [false, false, true] });
    expect(tiersFromOrder(order)).toEqual([[12], [10, 11]]);
    const moved = move(order, 0, 1);
    expect(tiersFromOrder(moved)).toEqual([[10], [12, 11]]);
    expect(move(order, 0, -1)).toBe(order);
    expect(tiersFromOrder(toggleTie(order, 2))).toEqual([[12], [10], [11]]);
    expect(toggleTie(order, 0)).toBe(order);
    // A ranking that misses candidates (all bad) starts from the canonical order.
    expect(tiersFromOrder(orderFromTiers([], CANDIDATES))).toEqual([[10], [11], [12]]);
  });

  it("reads the annotator's own reviews", () => {
    const mine = parseMyReviews({
      counts: { pending: 1, accepted: 3, rejected: 1, sent_back: 0 },
      comments: [{ ranking: 9, project: 1, candidate_set: 4, review_state: "rejected", comment: "Too fast.", reviewed_at: null }],
    });
    expect(mine?.comments[0]).toMatchObject({ candidateSet: 4, reviewState: "rejected", comment: "Too fast." });
    expect(countsText(mine!.counts)).toBe("3 accepted · 1 rejected");
    expect(countsText({ pending: 2, accepted: 0, rejected: 0, sent_back: 0 })).toBeNull();
    expect(parseMyReviews({})).toBeNull();
  });
});
