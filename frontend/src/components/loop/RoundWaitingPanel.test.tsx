// @vitest-environment jsdom
/** What the next round waits for, in jsdom: the open sets with who holds each and until when,
 * the pointer to "Start round now" for admins only, and nothing while a round is open. */

import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { type LoopWaiting, parseLoopWaiting } from "../../review/loopWaiting";
import { RoundWaitingPanel } from "./RoundWaitingPanel";

const waiting = (overrides: Record<string, unknown> = {}) =>
  parseLoopWaiting({
    auto: true,
    trigger: "round_complete",
    blocked_by: null,
    blocking_round: null,
    ready: false,
    round: 0,
    sets: 173,
    complete: 172,
    open_sets: [{ candidate_set: 12, prompt: 4, rankings: 0, needed: 1, leases: [{ annotator: "annotator1", expires_at: "2026-01-02T14:05:00Z" }] }],
    open_sets_total: 1,
    rankings_since_last_round: 172,
    min_new_rankings: null,
    ...overrides,
  }) as LoopWaiting;

afterEach(cleanup);

describe("RoundWaitingPanel", () => {
  it("lists each open set with who holds it and until when", () => {
    render(<RoundWaitingPanel waiting={waiting()} isAdmin={true} />);
    expect(screen.getByRole("heading", { name: "Waiting for" })).toBeTruthy();
    expect(screen.getByText(/172 of 173 complete, 1 still open/)).toBeTruthy();
    const item = screen.getByRole("listitem");
    expect(item.textContent).toMatch(/^Set #12 \(0 of 1 rankings\): leased by annotator1 until \d/);
    expect(screen.getByRole("link", { name: "Set #12" }).getAttribute("href")).toBe("#/sets/12");
    expect(screen.getByText(/“Start round now” above/)).toBeTruthy();
  });

  it("does not point a reviewer at the admin's button", () => {
    render(<RoundWaitingPanel waiting={waiting()} isAdmin={false} />);
    expect(screen.queryByText(/Start round now/)).toBeNull();
  });

  it("says a free set waits for an annotator", () => {
    render(<RoundWaitingPanel waiting={waiting({ open_sets: [{ candidate_set: 13, prompt: 5, rankings: 0, needed: 1, leases: [] }] })} isAdmin={true} />);
    expect(screen.getByRole("listitem").textContent).toContain("free: waiting for an annotator");
  });

  it("shows nothing while a round is open", () => {
    const { container } = render(<RoundWaitingPanel waiting={waiting({ blocked_by: "running", blocking_round: 1 })} isAdmin={true} />);
    expect(container.innerHTML).toBe("");
  });
});
