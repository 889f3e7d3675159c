import { describe, expect, it } from "vitest";
import {
  type RankingState,
  applySuggestion,
  candidateForNumber,
  count,
  describePlace,
  dropInGap,
  dropOnTier,
  initialState,
  moveDown,
  moveUp,
  rebase,
  responseNumber,
  select,
  setNotRankable,
  setRating,
  setRationale,
  showsSuggestion,
  splitOut,
  submissionBody,
  suggestionText,
  tieWithAbove,
  tierOf,
  toggleFlag,
} from "./state";

/** Display order 11, 22, 33, 44: responses 1–4. */
const start = () => initialState([11, 22, 33, 44], true);

describe("initialState", () => {
  it("puts every response in its own tier, in display order, untouched", () => {
    const s = start();
    expect(s.tiers).toEqual([[11], [22], [33], [44]]);
    expect(s.touched).toBe(false);
    expect(s.selected).toBeNull();
    expect(s.notRankable).toBe(false);
    expect(s.interaction).toEqual({ moves: 0, keys: 0, drags: 0, expanded: 0, compared: 0 });
  });

  it("numbers responses by display order, for the 1–9 keys", () => {
    const s = start();
    expect(candidateForNumber(s, 1)).toBe(11);
    expect(candidateForNumber(s, 4)).toBe(44);
    expect(candidateForNumber(s, 5)).toBeNull();
    expect(responseNumber(s, 33)).toBe(3);
  });
});

describe("moves", () => {
  it("swaps a lone response with the tier above or below", () => {
    const s = moveUp(start(), 33);
    expect(s.tiers).toEqual([[11], [33], [22], [44]]);
    expect(s.touched).toBe(true);
    expect(moveDown(s, 11).tiers).toEqual([[33], [11], [22], [44]]);
  });

  it("changes nothing (same object) at the top or the bottom, or for an unknown id", () => {
    const s = start();
    expect(moveUp(s, 11)).toBe(s);
    expect(moveDown(s, 44)).toBe(s);
    expect(moveUp(s, 99)).toBe(s);
    expect(s.touched).toBe(false);
  });

  it("takes a tied response out of its tie: above when moving up, below when down", () => {
    const tied = tieWithAbove(start(), 22); // [[11, 22], [33], [44]]
    expect(moveUp(tied, 22).tiers).toEqual([[22], [11], [33], [44]]);
    expect(moveDown(tied, 22).tiers).toEqual([[11], [22], [33], [44]]);
    expect(moveDown(tied, 11).tiers).toEqual([[22], [11], [33], [44]]);
  });

  it("moves a whole way up, one step at a time", () => {
    let s = start();
    for (let i = 0; i < 3; i++) s = moveUp(s, 44);
    expect(s.tiers).toEqual([[44], [11], [22], [33]]);
    expect(s.interaction.moves).toBe(3);
    expect(s.interaction.drags).toBe(0);
  });
});

describe("ties and splits", () => {
  it("ties with the tier above; the emptied tier disappears", () => {
    const s = tieWithAbove(start(), 33);
    expect(s.tiers).toEqual([[11], [22, 33], [44]]);
    expect(tierOf(s, 33)).toBe(1);
    expect(tieWithAbove(s, 44).tiers).toEqual([[11], [22, 33, 44]]);
  });

  it("cannot tie the best tier with anything above it", () => {
    const s = start();
    expect(tieWithAbove(s, 11)).toBe(s);
  });

  it("makes no ties when the project allows none", () => {
    const s = initialState([1, 2, 3], false);
    expect(tieWithAbove(s, 2)).toBe(s);
    expect(dropOnTier(s, 3, 0)).toBe(s);
    expect(moveUp(s, 3).tiers).toEqual([[1], [3], [2]]);
  });

  it("splits a tied response into its own tier just below", () => {
    const tied = tieWithAbove(tieWithAbove(start(), 22), 33); // [[11, 22, 33], [44]]
    expect(tied.tiers).toEqual([[11, 22, 33], [44]]);
    const split = splitOut(tied, 11);
    expect(split.tiers).toEqual([[22, 33], [11], [44]]);
    expect(splitOut(split, 11)).toBe(split); // not tied any more
  });
});

describe("drag and drop", () => {
  it("dropping on a tier ties, and counts a drag", () => {
    const s = dropOnTier(start(), 44, 0);
    expect(s.tiers).toEqual([[11, 44], [22], [33]]);
    expect(s.interaction).toMatchObject({ moves: 1, drags: 1, keys: 0 });
  });

  it("dropping on its own tier changes nothing", () => {
    const s = start();
    expect(dropOnTier(s, 22, 1)).toBe(s);
  });

  it("dropping on a divider makes a new tier there", () => {
    expect(dropInGap(start(), 33, 0).tiers).toEqual([[33], [11], [22], [44]]);
    expect(dropInGap(start(), 11, 4).tiers).toEqual([[22], [33], [44], [11]]);
    expect(dropInGap(start(), 11, 3).tiers).toEqual([[22], [33], [11], [44]]);
    const tied = dropOnTier(start(), 44, 0); // [[11, 44], [22], [33]]
    expect(dropInGap(tied, 44, 1).tiers).toEqual([[11], [44], [22], [33]]);
    expect(dropInGap(tied, 44, 0).tiers).toEqual([[44], [11], [22], [33]]);
  });

  it("dropping a lone response on a divider next to it changes nothing", () => {
    const s = start();
    expect(dropInGap(s, 22, 1)).toBe(s);
    expect(dropInGap(s, 22, 2)).toBe(s);
    expect(dropInGap(s, 22, 9)).toBe(s);
  });
});

describe("selection, all bad, flags, ratings", () => {
  it("selects only known responses", () => {
    const s = select(start(), 22);
    expect(s.selected).toBe(22);
    expect(select(s, 99)).toBe(s);
    expect(select(s, null).selected).toBeNull();
  });

  it("marks all bad, which counts as touching the set", () => {
    const s = setNotRankable(start(), true);
    expect(s.notRankable).toBe(true);
    expect(s.touched).toBe(true);
    expect(submissionBody(s, 1).ranking).toEqual([]);
  });

  it("toggles flags and sets and clears ratings", () => {
    let s = toggleFlag(start(), 22, "harmful");
    s = toggleFlag(s, 22, "off-topic");
    s = toggleFlag(s, 33, "harmful");
    s = toggleFlag(s, 33, "harmful");
    expect(s.flags).toEqual({ "22": ["harmful", "off-topic"], "33": [] });
    s = setRating(s, 11, "helpfulness", 4);
    s = setRating(s, 11, "honesty", 2);
    s = setRating(s, 11, "honesty", null);
    expect(s.ratings).toEqual({ "11": { helpfulness: 4 } });
  });
});

describe("submissionBody", () => {
  it("has the API's shape: tiers, flags and ratings by id string, counters", () => {
    let s: RankingState = start();
    s = count(s, "keys");
    s = moveUp(s, 33);
    s = dropOnTier(s, 44, 0);
    s = toggleFlag(s, 22, "off-topic");
    s = toggleFlag(s, 22, "harmful");
    s = toggleFlag(s, 11, "harmful");
    s = toggleFlag(s, 11, "harmful"); // unticked again: left out
    s = setRating(s, 33, "helpfulness", 5);
    s = setRationale(s, "3 is the only correct one");
    s = count(s, "expanded");
    s = count(s, "compared", 2);
    expect(submissionBody(s, 12.345)).toEqual({
      ranking: [[11, 44], [33], [22]],
      not_rankable: false,
      flags: { "22": ["harmful", "off-topic"] },
      ratings: { "33": { helpfulness: 5 } },
      rationale: "3 is the only correct one",
      time_spent_seconds: 12.3,
      interaction: { moves: 2, keys: 1, drags: 1, expanded: 1, compared: 2 },
    });
  });

  it("sends an untouched set in display order with zero moves", () => {
    const body = submissionBody(start(), 3);
    expect(body.ranking).toEqual([[11], [22], [33], [44]]);
    expect(body.interaction.moves).toBe(0);
    expect(body.interaction.keys).toBe(0);
  });

  it("keeps flags with all bad, and never a negative time", () => {
    const s = toggleFlag(setNotRankable(start(), true), 44, "harmful");
    const body = submissionBody(s, -5);
    expect(body).toMatchObject({ ranking: [], not_rankable: true, flags: { "44": ["harmful"] } });
    expect(body.time_spent_seconds).toBe(0);
  });

  it("does not share arrays with the state", () => {
    const s = start();
    const body = submissionBody(s, 1);
    body.ranking[0]?.push(99);
    expect(s.tiers[0]).toEqual([11]);
  });
});

describe("rebase", () => {
  it("carries the work to a new assignment of the same candidates", () => {
    const worked = setRationale(moveUp(start(), 22), "why");
    const carried = rebase(worked, [44, 33, 22, 11]);
    expect(carried?.tiers).toEqual(worked.tiers);
    expect(carried?.rationale).toBe("why");
    expect(carried?.displayOrder).toEqual([44, 33, 22, 11]);
  });

  it("refuses other candidates", () => {
    expect(rebase(start(), [11, 22, 33])).toBeNull();
    expect(rebase(start(), [11, 22, 33, 55])).toBeNull();
  });
});

describe("describePlace", () => {
  it("says the tier and the ties, for the live region", () => {
    const s = tieWithAbove(tieWithAbove(start(), 33), 44);
    expect(describePlace(s, 33)).toBe("Response 3 is in tier 2 of 2, tied with responses 2 and 4.");
    expect(describePlace(s, 11)).toBe("Response 1 is in tier 1 of 2.");
    expect(describePlace(tieWithAbove(start(), 22), 11)).toBe(
      "Response 1 is in tier 1 of 3, tied with response 2.",
    );
  });
});

describe("the AI suggestion", () => {
  /** The reward model ranks response 2 first, 1 and 4 tied, 3 last. */
  const suggested = () => initialState([11, 22, 33, 44], true, [[22], [11, 44], [33]]);

  it("reads in the response numbers the annotator sees", () => {
    expect(suggestionText(suggested())).toBe("#2 > #1 = #4 > #3");
    expect(suggestionText(start())).toBe("");
    // In a project without ties, tied responses follow one another in the suggestion's order.
    expect(suggestionText(initialState([11, 22, 33, 44], false, [[22], [11, 44], [33]]))).toBe("#2 > #1 > #4 > #3");
  });

  it("applies as the board's order, which stays editable, without counting as a move", () => {
    const applied = applySuggestion(suggested());
    expect(applied.tiers).toEqual([[22], [11, 44], [33]]);
    expect(applied.touched).toBe(true);
    expect(applied.appliedSuggestion).toBe(true);
    expect(applied.interaction).toEqual(NO_INTERACTION_COPY);
    expect(showsSuggestion(applied)).toBe(true);
    expect(applySuggestion(applied)).toBe(applied); // nothing more to do

    const changed = moveUp(applied, 33);
    expect(showsSuggestion(changed)).toBe(false);
    expect(changed.appliedSuggestion).toBe(true);
    expect(applySuggestion(changed).tiers).toEqual([[22], [11, 44], [33]]);
  });

  it("splits the suggestion's ties where the project allows none", () => {
    const s = applySuggestion(initialState([11, 22, 33, 44], false, [[22], [11, 44], [33]]));
    expect(s.tiers).toEqual([[22], [11], [44], [33]]);
  });

  it("clears all bad, and does nothing without a suggestion", () => {
    const s = applySuggestion(setNotRankable(suggested(), true));
    expect(s.notRankable).toBe(false);
    const plain = start();
    expect(applySuggestion(plain)).toBe(plain);
    expect(showsSuggestion(plain)).toBe(false);
  });

  it("is recorded in the interaction summary, so QC can tell", () => {
    expect(submissionBody(start(), 1).interaction).not.toHaveProperty("applied_suggestion");
    const shown = submissionBody(suggested(), 1).interaction;
    expect(shown).toMatchObject({ suggestion_shown: true, applied_suggestion: false });
    const body = submissionBody(applySuggestion(suggested()), 4);
    expect(body.ranking).toEqual([[22], [11, 44], [33]]);
    expect(body.interaction).toEqual({ ...NO_INTERACTION_COPY, suggestion_shown: true, applied_suggestion: true });
  });

  it("is carried over with the work after a lease expired", () => {
    const carried = rebase(applySuggestion(suggested()), [44, 33, 22, 11]);
    expect(carried?.appliedSuggestion).toBe(true);
    expect(carried && suggestionText(carried)).toBe("#3 > #4 = #1 > #2");
  });
});

const NO_INTERACTION_COPY = { moves: 0, keys: 0, drags: 0, expanded: 0, compared: 0 };
