import { describe, expect, it } from "vitest";
import {
  type ProjectSummary,
  moreProjectsText,
  parseProjectPage,
  progressText,
  projectFacts,
  projectListStateFrom,
} from "./projects";

const row = {
  id: 1,
  name: "Haiku",
  slug: "haiku",
  k: 4,
  annotations_per_set: 3,
  prompt_count: 12,
  set_count: 10,
  complete_set_count: 3,
};

const summary: ProjectSummary = {
  id: 1,
  name: "Haiku",
  k: 4,
  setCount: 10,
  completeSetCount: 3,
  myRankingCount: null,
  myRole: "admin",
  guidelines: "",
  criteria: { flags: [], ratings: [] },
  allowTies: true,
  showAiSuggestion: false,
  currentPolicy: null,
};

describe("parseProjectPage", () => {
  it("reads a page, with the annotator's own count when present", () => {
    const body = {
      count: 2,
      next: null,
      previous: null,
      results: [row, { ...row, id: 2, my_ranking_count: 5, my_role: "annotator" }],
    };
    expect(parseProjectPage(body)).toEqual({
      count: 2,
      projects: [summary, { ...summary, id: 2, myRankingCount: 5, myRole: "annotator" }],
    });
  });

  it("reads whether annotators see the AI suggestion, and the current policy", () => {
    const body = { count: 1, results: [{ ...row, show_ai_suggestion: true, current_policy: 7 }] };
    expect(parseProjectPage(body)?.projects[0]).toEqual({ ...summary, showAiSuggestion: true, currentPolicy: 7 });
  });

  it("rejects a page with a malformed row or no results", () => {
    expect(parseProjectPage({ count: 1, results: [{ ...row, k: "4" }] })).toBeNull();
    expect(parseProjectPage({ count: 1, results: [{ ...row, my_ranking_count: -1 }] })).toBeNull();
    expect(parseProjectPage({ count: 1 })).toBeNull();
    expect(parseProjectPage([row])).toBeNull();
  });
});

describe("projectListStateFrom", () => {
  it("loads a 200", () => {
    expect(projectListStateFrom(200, { count: 0, results: [] })).toEqual({
      kind: "loaded",
      page: { count: 0, projects: [] },
    });
  });

  it("treats 401 as signed out, and shows why for other refusals", () => {
    expect(projectListStateFrom(401, { detail: "x" })).toEqual({ kind: "signed-out" });
    const noRole = { detail: "Your account has no role; ask an admin to assign one." };
    expect(projectListStateFrom(403, noRole)).toEqual({ kind: "failed", message: noRole.detail });
    expect(projectListStateFrom(200, { results: "no" }).kind).toBe("failed");
  });
});

describe("project facts", () => {
  it("says K and progress", () => {
    expect(progressText(summary)).toBe("3 / 10 sets complete");
    expect(projectFacts(summary)).toEqual(["K = 4", "3 / 10 sets complete"]);
  });

  it("adds the annotator's own count, zero included", () => {
    expect(projectFacts({ ...summary, myRankingCount: 0 })).toEqual([
      "K = 4",
      "3 / 10 sets complete",
      "you ranked 0",
    ]);
  });

  it("says when the page leaves projects out", () => {
    expect(moreProjectsText({ count: 1, projects: [summary] })).toBeNull();
    expect(moreProjectsText({ count: 250, projects: [summary] })).toBe(
      "Showing the first 1 of 250 projects.",
    );
  });
});
