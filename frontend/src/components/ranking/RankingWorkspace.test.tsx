// @vitest-environment jsdom
/**
 * The ranking workspace in jsdom with the API mocked: the keyboard moves, ties and unties
 * responses, Enter submits (asking first when the board is untouched), and what the user reads
 * (tiers, tie badges, the summary line, notices) follows.
 */

import { act, cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { NextTaskResult, ProjectState, SubmitResult } from "../../api";
import { SHORTCUTS } from "../../ranking/keyboard";
import type { SubmissionBody } from "../../ranking/state";
import type { Task } from "../../task";
import { RankingWorkspace } from "./RankingWorkspace";

const api = vi.hoisted(() => ({
  fetchProject: vi.fn<(id: number) => Promise<ProjectState>>(),
  fetchNextTask: vi.fn<(id: number) => Promise<NextTaskResult>>(),
  submitRanking: vi.fn<(assignment: number, body: SubmissionBody, key: string) => Promise<SubmitResult>>(),
  skipAssignment: vi.fn<(assignment: number) => Promise<SubmitResult>>(),
  releaseAssignment: vi.fn<(assignment: number) => void>(),
}));
vi.mock("../../api", () => api);

const PROJECT: ProjectState = {
  kind: "loaded",
  project: {
    id: 7,
    name: "Haiku quality",
    k: 3,
    setCount: 2,
    completeSetCount: 0,
    myRankingCount: 0,
    myRole: "annotator",
    guidelines: "Prefer vivid images.",
    criteria: { flags: [], ratings: [] },
    allowTies: true,
    showAiSuggestion: false,
    currentPolicy: null,
  },
};

function task(assignment: number, candidateSet = 100): Task {
  return {
    assignment,
    leaseExpiresAt: new Date(Date.now() + 10 * 60 * 1000),
    project: 7,
    candidateSet,
    prompt: [{ role: "user", content: "Write a haiku about rain." }],
    candidates: [
      { id: 11, text: "Alpha" },
      { id: 12, text: "Beta" },
      { id: 13, text: "Gamma" },
    ],
    suggestion: null,
  };
}

beforeAll(() => {
  // jsdom has <dialog> but not its modal methods.
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    this.removeAttribute("open");
  };
});

beforeEach(() => {
  api.fetchProject.mockResolvedValue(PROJECT);
  api.fetchNextTask.mockResolvedValueOnce({ kind: "task", task: task(1) }).mockResolvedValue({ kind: "done" });
  api.submitRanking.mockResolvedValue({ kind: "submitted" });
  api.skipAssignment.mockResolvedValue({ kind: "submitted" });
});

afterEach(() => {
  cleanup();
  vi.resetAllMocks();
});

async function openWorkspace() {
  const user = userEvent.setup();
  render(<RankingWorkspace projectId={7} onSignedOut={() => {}} />);
  await screen.findByRole("heading", { name: "Rank the responses, best first" });
  return user;
}

/** The response numbers tier by tier, best first, as the board shows them. */
function board(): number[][] {
  return Array.from(document.querySelectorAll<HTMLElement>("[data-tier-index]")).map((tier) =>
    Array.from(tier.querySelectorAll<HTMLElement>(".response-card")).map((card) => Number(card.dataset.number)),
  );
}

const liveRegion = () => document.querySelector(".live") as HTMLElement;

describe("RankingWorkspace", () => {
  it("shows the set untouched, one response per tier in the order shown", async () => {
    await openWorkspace();
    expect(board()).toEqual([[1], [2], [3]]);
    expect(screen.getByText("Untouched: still in the order shown.")).toBeTruthy();
    expect(screen.getByText(/Set 100 · 3 responses · ties allowed/)).toBeTruthy();
  });

  it("moves the selected response up with ↑ and down with j, and says where it is", async () => {
    const user = await openWorkspace();
    await user.keyboard("3{ArrowUp}");
    expect(board()).toEqual([[1], [3], [2]]);
    await vi.waitFor(() => expect(liveRegion().textContent).toBe("Response 3 is in tier 2 of 3."));
    expect(document.activeElement?.getAttribute("data-candidate-id")).toBe("13");
    await user.keyboard("1j");
    expect(board()).toEqual([[3], [1], [2]]);
    expect(screen.getByText("3 tiers.")).toBeTruthy();
  });

  it("ties the selected response with the tier above with t, and unties it with u", async () => {
    const user = await openWorkspace();
    await user.keyboard("2t");
    expect(board()).toEqual([[1, 2], [3]]);
    expect(document.querySelector('[data-tier-index="0"] .tie-badge')?.textContent).toBe("tie · 2");
    expect(screen.getByText("2 tiers, 1 with a tie.")).toBeTruthy();
    await vi.waitFor(() => expect(liveRegion().textContent).toBe("Response 2 is in tier 1 of 2, tied with response 1."));
    await user.keyboard("u");
    expect(board()).toEqual([[1], [2], [3]]);
    expect(document.querySelector(".tie-badge")).toBeNull();
  });

  it("ties with Shift+↑ and unties with Shift+↓", async () => {
    const user = await openWorkspace();
    await user.keyboard("3{Shift>}{ArrowUp}{/Shift}");
    expect(board()).toEqual([[1], [2, 3]]);
    await user.keyboard("{Shift>}{ArrowDown}{/Shift}");
    expect(board()).toEqual([[1], [2], [3]]);
  });

  it("says why nothing moved: the top response up, a move with nothing selected", async () => {
    const user = await openWorkspace();
    await user.keyboard("{ArrowUp}");
    await vi.waitFor(() => expect(liveRegion().textContent).toBe("Select a response first: press its number."));
    await user.keyboard("1k");
    await vi.waitFor(() => expect(liveRegion().textContent).toBe("Response 1 is already at the top."));
    expect(board()).toEqual([[1], [2], [3]]);
  });

  it("moves a response with its card's buttons", async () => {
    const user = await openWorkspace();
    await user.click(screen.getByRole("button", { name: "Move response 3 up" }));
    expect(board()).toEqual([[1], [3], [2]]);
    await user.click(screen.getByRole("button", { name: "Tie response 3 with the tier above" }));
    expect(board()).toEqual([[1, 3], [2]]);
    await user.click(screen.getByRole("button", { name: "Untie response 3" }));
    expect(board()).toEqual([[1], [3], [2]]);
  });

  it("submits the ranking with Enter, ties included, and loads the next set", async () => {
    const user = await openWorkspace();
    await user.keyboard("3t{Enter}");
    expect(await screen.findByRole("heading", { name: "All done" })).toBeTruthy();
    expect(api.submitRanking).toHaveBeenCalledTimes(1);
    const [assignment, body, key] = api.submitRanking.mock.calls[0] ?? [];
    expect(assignment).toBe(1);
    expect(body?.ranking).toEqual([[11], [12, 13]]);
    expect(body?.interaction).toMatchObject({ moves: 1, keys: 3, drags: 0 });
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(document.querySelector(".notice")?.textContent).toBe("Ranking submitted.");
  });

  it("asks before submitting an untouched board; the second Enter sends the order shown", async () => {
    const user = await openWorkspace();
    await user.keyboard("{Enter}");
    expect(api.submitRanking).not.toHaveBeenCalled();
    expect(screen.getByText(/You have not moved any response/)).toBeTruthy();
    expect(screen.getByRole("button", { name: /^Submit as shown/ })).toBeTruthy();
    await user.keyboard("{Enter}");
    await screen.findByRole("heading", { name: "All done" });
    expect(api.submitRanking.mock.calls[0]?.[1].ranking).toEqual([[11], [12], [13]]);
  });

  it("skips an untouched set at once with s, and asks first once the ranking was changed", async () => {
    api.fetchNextTask.mockReset();
    api.fetchNextTask
      .mockResolvedValueOnce({ kind: "task", task: task(1) })
      .mockResolvedValueOnce({ kind: "task", task: task(2, 101) })
      .mockResolvedValue({ kind: "done" });
    const user = await openWorkspace();
    await user.keyboard("s");
    await vi.waitFor(() => expect(screen.getByText(/Set 101/)).toBeTruthy());
    expect(api.skipAssignment).toHaveBeenCalledWith(1);
    expect(document.querySelector(".notice")?.textContent).toBe("Set skipped.");
    await user.keyboard("2ks");
    expect(api.skipAssignment).toHaveBeenCalledTimes(1);
    expect(screen.getByText(/Skipping drops the ranking you made/)).toBeTruthy();
    await user.keyboard("s");
    await screen.findByRole("heading", { name: "All done" });
    expect(api.skipAssignment).toHaveBeenLastCalledWith(2);
  });

  it("takes no shortcut while typing the rationale", async () => {
    const user = await openWorkspace();
    await user.type(screen.getByLabelText("Rationale (optional)"), "2t s");
    expect(board()).toEqual([[1], [2], [3]]);
    expect(screen.getByText("Untouched: still in the order shown.")).toBeTruthy();
    expect(api.skipAssignment).not.toHaveBeenCalled();
    expect((screen.getByLabelText("Rationale (optional)") as HTMLTextAreaElement).value).toBe("2t s");
  });

  it("lists every shortcut on ?, ignores board keys while it is open, and closes", async () => {
    const user = await openWorkspace();
    await user.keyboard("?");
    const dialog = await screen.findByRole("dialog", { name: "Keyboard shortcuts" });
    expect(within(dialog).getAllByRole("row")).toHaveLength(SHORTCUTS.length + 1);
    await user.keyboard("2t");
    expect(board()).toEqual([[1], [2], [3]]);
    await user.click(within(dialog).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("marks all bad from the checkbox and sends no order", async () => {
    const user = await openWorkspace();
    await user.click(screen.getByLabelText(/All responses are bad/));
    expect(screen.getByText("Marked all bad: no order will be sent.")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: /^Submit ranking/ }));
    await screen.findByRole("heading", { name: "All done" });
    expect(api.submitRanking.mock.calls[0]?.[1]).toMatchObject({ ranking: [], not_rankable: true });
  });

  it("carries the ranking over when the lease expired but the set comes back", async () => {
    api.fetchNextTask.mockReset();
    api.fetchNextTask
      .mockResolvedValueOnce({ kind: "task", task: task(1) })
      .mockResolvedValueOnce({ kind: "task", task: task(2) })
      .mockResolvedValue({ kind: "done" });
    api.submitRanking
      .mockResolvedValueOnce({ kind: "refused", refusal: { status: 409, code: "lease_expired", message: "Lease expired." } })
      .mockResolvedValue({ kind: "submitted" });
    const user = await openWorkspace();
    await user.keyboard("2k{Enter}");
    await screen.findByText(/it is yours again, with your ranking as you left it/);
    expect(board()).toEqual([[2], [1], [3]]);
    expect(document.activeElement?.id).toBe("submit-button");
    await act(async () => {
      (document.getElementById("submit-button") as HTMLButtonElement).click();
    });
    await screen.findByRole("heading", { name: "All done" });
    const [first, second] = api.submitRanking.mock.calls;
    expect(second?.[0]).toBe(2);
    expect(second?.[1].ranking).toEqual([[12], [11], [13]]);
    expect(second?.[2]).not.toBe(first?.[2]);
  });

  it("keeps a ranking whose set went to someone else on screen, not submittable", async () => {
    api.fetchNextTask.mockReset();
    api.fetchNextTask
      .mockResolvedValueOnce({ kind: "task", task: task(1) })
      .mockResolvedValueOnce({ kind: "task", task: task(3, 102) });
    api.submitRanking.mockResolvedValue({
      kind: "refused",
      refusal: { status: 409, code: "lease_expired", message: "Lease expired." },
    });
    const user = await openWorkspace();
    await user.keyboard("3k{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/this set has gone to someone else/);
    expect((document.getElementById("submit-button") as HTMLButtonElement).disabled).toBe(true);
    await user.click(within(alert).getByRole("button", { name: "Go to the next set" }));
    await vi.waitFor(() => expect(screen.getByText(/Set 102/)).toBeTruthy());
    expect(board()).toEqual([[1], [2], [3]]);
  });
});

describe("leaving the workspace", () => {
  // Issue 18: a tab left on the next set held its lease for 30 minutes, and the round waited.
  it("gives the lease on screen back when the workspace goes away", async () => {
    const { unmount } = render(<RankingWorkspace projectId={7} onSignedOut={() => {}} />);
    await screen.findByRole("heading", { name: "Rank the responses, best first" });
    expect(api.releaseAssignment).not.toHaveBeenCalled();
    unmount();
    expect(api.releaseAssignment).toHaveBeenCalledExactlyOnceWith(1);
  });

  it("gives it back when the tab is closed or reloaded", async () => {
    await openWorkspace();
    window.dispatchEvent(new Event("pagehide"));
    expect(api.releaseAssignment).toHaveBeenCalledExactlyOnceWith(1);
  });
});
