import { describe, expect, it } from "vitest";
import type { Task } from "../task";
import {
  type WorkspaceState,
  allDone,
  dropResponse,
  initialWorkspace,
  moveResponse,
  onCommand,
  rankingSummary,
  recovered,
  requestSkip,
  requestSubmit,
  settled,
  startTask,
  toggleCompare,
  toggleExpand,
} from "./workspace";

function task(assignment = 1, candidateSet = 100, ids = [11, 22, 33]): Task {
  return {
    assignment,
    leaseExpiresAt: new Date(0),
    project: 7,
    candidateSet,
    prompt: [],
    candidates: ids.map((id) => ({ id, text: `text ${id}` })),
    suggestion: null,
  };
}

/** A task on screen: responses 1–3 are ids 11, 22, 33; started at t = 1000 ms. */
const started = (t: Task = task()): WorkspaceState => startTask(initialWorkspace(), t, null, "key-1", 1000);

const key = (s: WorkspaceState, command: Parameters<typeof onCommand>[1]) => onCommand(s, command).state;

describe("startTask", () => {
  it("shows a fresh board, focuses it and announces the set", () => {
    const s = started();
    expect(s.ranking?.tiers).toEqual([[11], [22], [33]]);
    expect(s.focus?.target).toBe("board");
    expect(s.said?.text).toBe("New set: 3 responses to rank.");
    expect(s.idempotencyKey).toBe("key-1");
  });

  it("takes whether ties are allowed from the project", () => {
    const s = { ...initialWorkspace(), project: { allowTies: false } as WorkspaceState["project"] };
    expect(startTask(s, task(), null, "k", 0).ranking?.allowTies).toBe(false);
  });
});

describe("onCommand", () => {
  it("selects by number, focuses the response and says where it is", () => {
    const s = key(started(), { kind: "select", number: 2 });
    expect(s.ranking?.selected).toBe(22);
    expect(s.focus?.target).toBe(22);
    expect(s.said?.text).toBe("Selected. Response 2 is in tier 2 of 3.");
    expect(s.ranking?.interaction.keys).toBe(1);
  });

  it("says there is no such response for a number past the set", () => {
    expect(key(started(), { kind: "select", number: 9 }).said?.text).toBe("There is no response 9.");
  });

  it("asks for a selection before a move", () => {
    const s = key(started(), { kind: "up" });
    expect(s.said?.text).toBe("Select a response first: press its number.");
    expect(s.ranking?.touched).toBe(false);
  });

  it("ties with the tier above and unties into a tier of its own below", () => {
    let s = key(started(), { kind: "select", number: 3 });
    s = key(s, { kind: "tie" });
    expect(s.ranking?.tiers).toEqual([[11], [22, 33]]);
    expect(s.said?.text).toBe("Response 3 is in tier 2 of 2, tied with response 2.");
    s = key(s, { kind: "split" });
    expect(s.ranking?.tiers).toEqual([[11], [22], [33]]);
    expect(s.ranking?.interaction).toMatchObject({ moves: 2, keys: 3 });
  });

  it("leaves submit and skip to the caller, counting the key", () => {
    expect(onCommand(started(), { kind: "submit" }).then).toBe("submit");
    const { state, then } = onCommand(started(), { kind: "skip" });
    expect(then).toBe("skip");
    expect(state.ranking?.interaction.keys).toBe(1);
  });

  it("opens the shortcuts, toggles the guidelines and clears the selection", () => {
    let s = key(started(), { kind: "help" });
    expect(s.showHelp).toBe(true);
    s = key(s, { kind: "guidelines" });
    expect(s.guidelinesOpen).toBe(false);
    s = key(key(s, { kind: "select", number: 1 }), { kind: "escape" });
    expect(s.ranking?.selected).toBeNull();
    expect(s.said?.text).toBe("Selection cleared.");
  });
});

describe("moveResponse", () => {
  it("says why nothing changed and changes nothing else", () => {
    const s = started();
    const moved = moveResponse(s, 11, "up");
    expect(moved.ranking).toBe(s.ranking);
    expect(moved.said?.text).toBe("Response 1 is already at the top.");
    expect(moveResponse(s, 33, "split").said?.text).toBe("Response 3 is not tied.");
  });

  it("withdraws an untouched-submit confirmation", () => {
    const asked = requestSubmit(started(), 2000).state;
    expect(asked.confirm).toBe("submit-untouched");
    expect(moveResponse(asked, 22, "up").confirm).toBeNull();
  });
});

describe("dropResponse", () => {
  it("ties a response dropped on a tier and selects it", () => {
    const s = dropResponse(started(), 33, { kind: "tier", index: 0 });
    expect(s.ranking?.tiers).toEqual([[11, 33], [22]]);
    expect(s.ranking?.selected).toBe(33);
    expect(s.ranking?.interaction.drags).toBe(1);
  });
});

describe("expand and compare", () => {
  it("counts opening a response, not closing it", () => {
    const opened = toggleExpand(started(), 22);
    expect(opened.expanded.has(22)).toBe(true);
    const closed = toggleExpand(opened, 22);
    expect(closed.expanded.has(22)).toBe(false);
    expect(closed.ranking?.interaction.expanded).toBe(1);
  });

  it("opens the comparison at the second pick", () => {
    const one = toggleCompare(started(), 11);
    expect(one.compareOpen).toBe(false);
    expect(one.said?.text).toBe("Response 1 picked for comparison: pick one more.");
    const two = toggleCompare(one, 33);
    expect(two.compare).toEqual([11, 33]);
    expect(two.compareOpen).toBe(true);
    expect(two.ranking?.interaction.compared).toBe(1);
  });
});

describe("requestSubmit", () => {
  it("asks once for an untouched board, then sends the order shown", () => {
    const first = requestSubmit(started(), 2000);
    expect(first.send).toBeNull();
    const second = requestSubmit(first.state, 2000);
    expect(second.send?.body.ranking).toEqual([[11], [22], [33]]);
    expect(second.state.busy).toBe(true);
  });

  it("sends the time spent and the assignment's idempotency key", () => {
    const s = moveResponse(started(), 22, "up");
    const { send } = requestSubmit(s, 13_500);
    expect(send).toMatchObject({ assignment: 1, idempotencyKey: "key-1" });
    expect(send?.body.time_spent_seconds).toBe(12.5);
  });

  it("resends the same body when the same ranking is retried", () => {
    const s = moveResponse(started(), 22, "up");
    const first = requestSubmit(s, 5000);
    const retry = requestSubmit(settled(first.state, "Server error."), 9000);
    expect(retry.send?.body).toBe(first.send?.body);
    const changed = requestSubmit(moveResponse(settled(first.state), 33, "up"), 9000);
    expect(changed.send?.body).not.toBe(first.send?.body);
  });

  it("sends nothing while busy or once the set was lost", () => {
    const s = moveResponse(started(), 22, "up");
    expect(requestSubmit(requestSubmit(s, 0).state, 0).send).toBeNull();
    expect(requestSubmit({ ...s, lost: { next: null } }, 0).send).toBeNull();
  });
});

describe("requestSkip", () => {
  it("skips an untouched set at once, asks first for a changed one", () => {
    expect(requestSkip(started()).then).toEqual({ kind: "skip", assignment: 1 });
    const asked = requestSkip(moveResponse(started(), 22, "up"));
    expect(asked.then).toBeNull();
    expect(asked.state.confirm).toBe("skip");
    expect(requestSkip(asked.state).then).toEqual({ kind: "skip", assignment: 1 });
  });

  it("goes on to the next set once this one was lost", () => {
    expect(requestSkip({ ...started(), lost: { next: null } }).then).toEqual({ kind: "next" });
  });
});

describe("recovered", () => {
  const submitted = () => settled(requestSubmit(moveResponse(started(), 33, "up"), 0).state);

  it("carries the ranking to the same set under a new key when the assignment is new", () => {
    const back = recovered(submitted(), { kind: "task", task: task(2, 100, [33, 11, 22]) }, "key-2");
    if (back === "signed-out") throw new Error("signed out");
    expect(back.ranking?.tiers).toEqual([[11], [33], [22]]);
    expect(back.ranking?.displayOrder).toEqual([33, 11, 22]);
    expect(back.idempotencyKey).toBe("key-2");
    expect(back.lastAttempt).toBeNull();
    expect(back.focus?.target).toBe("submit");
    expect(back.notice?.tone).toBe("success");
  });

  it("keeps the key when the same assignment comes back", () => {
    const back = recovered(submitted(), { kind: "task", task: task(1) }, "key-2");
    expect(back !== "signed-out" && back.idempotencyKey).toBe("key-1");
  });

  it("marks the set lost when another set comes back, keeping the ranking", () => {
    const s = submitted();
    const back = recovered(s, { kind: "task", task: task(5, 101) }, "key-2");
    if (back === "signed-out") throw new Error("signed out");
    expect(back.lost?.next?.candidateSet).toBe(101);
    expect(back.ranking).toBe(s.ranking);
    expect(back.notice?.text).toMatch(/Go on to the next set when ready\.$/);
    expect(recovered(s, { kind: "done" }, "k")).toMatchObject({ lost: { next: null } });
  });

  it("reports a failure to get the set back, and a session that ended", () => {
    const s = submitted();
    const failed = recovered(s, { kind: "failed", refusal: { status: 500, code: null, message: "Boom." } }, "k");
    expect(failed !== "signed-out" && failed.notice?.text).toMatch(/getting the set back failed: Boom\./);
    expect(recovered(s, { kind: "failed", refusal: { status: 401, code: null, message: "" } }, "k")).toBe("signed-out");
  });
});

describe("allDone and rankingSummary", () => {
  it("clears the board when nothing is left", () => {
    const s = allDone(started(), { tone: "success", text: "Ranking submitted." });
    expect(s.ranking).toBeNull();
    expect(s.phase.kind).toBe("done");
    expect(s.said?.text).toBe("All done: nothing left to rank in this project.");
  });

  it("sums up the board", () => {
    const s = started();
    expect(rankingSummary(s.ranking!)).toBe("Untouched: still in the order shown.");
    const tied = key(key(s, { kind: "select", number: 2 }), { kind: "tie" });
    expect(rankingSummary(tied.ranking!)).toBe("2 tiers, 1 with a tie.");
  });
});
