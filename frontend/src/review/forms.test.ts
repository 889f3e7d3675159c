import { describe, expect, it } from "vitest";
import { biasIsNotable, flagsText, parseAnnotators, parseProgress } from "./dashboard";
import { emptySnapshotForm, exportHref, snapshotPayload } from "./datasets";
import { fieldErrors, loadedFrom } from "./resource";
import { candidateLetters, parseSetDetail, reviewNote, tiersText } from "./sets";

describe("snapshotPayload", () => {
  it("sends only what was filled in", () => {
    expect(snapshotPayload(emptySnapshotForm("3"))).toEqual({
      ok: true,
      payload: { project: 3, test_fraction: 0.1, seed: 0, filters: {} },
    });
    const form = { ...emptySnapshotForm("3"), name: " v1 ", minAgreement: "0.5", excludeAnnotators: "a1, b2  c3", excludeFlagged: true };
    expect(snapshotPayload(form)).toEqual({
      ok: true,
      payload: {
        project: 3, name: "v1", test_fraction: 0.1, seed: 0,
        filters: { min_agreement: 0.5, exclude_annotators: ["a1", "b2", "c3"], exclude_flagged: true },
      },
    });
  });

  it("refuses bad values with the API's field names", () => {
    const result = snapshotPayload({ ...emptySnapshotForm(""), testFraction: "2", minAgreement: "x" });
    expect(result).toEqual({
      ok: false,
      errors: { project: "Choose a project.", test_fraction: "Between 0 and 0.99.", "filters.min_agreement": "Between -1 and 1." },
    });
  });

  it("links the exports", () => {
    expect(exportHref(4, "kto", "test", "parquet")).toBe("/api/v1/datasets/4/export/?view=kto&split=test&fmt=parquet");
  });
});

describe("API answers", () => {
  it("reads field errors, nested ones included", () => {
    expect(fieldErrors({ detail: "x", errors: { "config.beta": ["Must be > 0.", "Really."], filters: { since: ["Bad."] } } })).toEqual({
      "config.beta": "Must be > 0. Really.",
      "filters.since": "Bad.",
    });
    expect(fieldErrors(null)).toEqual({});
  });

  it("turns a 403 into a message and a 401 into signed-out", () => {
    expect(loadedFrom(403, { detail: "You do not have permission to perform this action." }, () => 1)).toEqual({
      kind: "failed", status: 403, message: "You do not have permission to perform this action.",
    });
    expect(loadedFrom(403, null, () => 1).kind).toBe("failed");
    expect(loadedFrom(401, null, () => 1)).toEqual({ kind: "signed-out" });
    expect(loadedFrom(200, {}, () => null).kind).toBe("failed");
  });
});

describe("dashboard", () => {
  it("reads progress and annotator rows", () => {
    const p = parseProgress({
      sets: 4, sets_open: 3, sets_complete: 1, gold_sets: 0, rankings: 5, gold_rankings: 0, not_rankable: 1, flagged: 2,
      rejected: 1, sent_back: 2,
      rankings_per_day: [{ day: "2025-01-02", rankings: 5 }],
      agreement: { krippendorff_alpha_ordinal: 0.5, mean_pairwise_agreement: null, sets_with_overlap: 1 },
    })!;
    expect(p.perDay).toEqual([{ day: "2025-01-02", rankings: 5 }]);
    expect([p.rankings, p.rejected, p.sentBack]).toEqual([5, 1, 2]);
    expect(p.agreement).toEqual({ alpha: 0.5, meanPairwise: null, setsWithOverlap: 1 });
    const [a] = parseAnnotators({
      results: [{ annotator_id: 2, username: "ann", rankings: 3, flags: { too_fast: 2 },
        position_bias: { first_shown_top_rate: 0.9, expected_rate: 0.5, z: 3, p_value: 0.001 } }],
    })!;
    expect(a!.username).toBe("ann");
    expect(flagsText(a!.flags)).toBe("too fast ×2");
    expect(biasIsNotable(a!.bias)).toBe(true);
    expect(flagsText({})).toBe("none");
  });
});

describe("sets", () => {
  it("writes tiers with letters", () => {
    const s = parseSetDetail({
      id: 1, project: 2, prompt: [{ role: "user", content: "Q" }], round: 0, state: "complete", gold_tiers: null,
      candidates: [{ id: 10, text: "a" }, { id: 11, text: "b" }, { id: 12, text: "c" }],
      rankings: [{ id: 5, annotator: "ann", tiers: [[12, 10], [11]], not_rankable: false, flags: {}, qc_flags: [] }],
      consensus: { method: "borda", tiers: [[12], [10], [11]], agreement: 1 },
    })!;
    const letters = candidateLetters(s.candidates);
    expect(tiersText(s.rankings[0]!.tiers, letters)).toBe("C = A > B");
    expect(tiersText(s.consensus!.tiers, letters)).toBe("C > A > B");
    expect(s.goldTiers).toBeNull();
  });

  it("says how a reviewer judged each ranking", () => {
    expect(reviewNote("pending", "")).toBe("");
    expect(reviewNote("accepted", "")).toBe("Accepted");
    expect(reviewNote("rejected", "Too fast.")).toBe("Rejected (not counted): Too fast.");
    expect(reviewNote("sent_back", "Redo B.")).toBe("Sent back (not counted): Redo B.");
  });

});
