import { describe, expect, it } from "vitest";
import { leaseText, parseTask } from "./task";

const body = {
  assignment: 7,
  lease_expires_at: "2026-01-01T12:30:00Z",
  project: 1,
  candidate_set: 3,
  prompt: [
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello" },
    { role: "user", content: "Write a haiku" },
  ],
  candidates: [
    { id: 10, text: "a" },
    { id: 12, text: "b" },
  ],
};

describe("parseTask", () => {
  it("reads the next-task answer", () => {
    const task = parseTask(body);
    expect(task?.assignment).toBe(7);
    expect(task?.candidateSet).toBe(3);
    expect(task?.leaseExpiresAt.toISOString()).toBe("2026-01-01T12:30:00.000Z");
    expect(task?.prompt).toHaveLength(3);
    expect(task?.candidates.map((c) => c.id)).toEqual([10, 12]);
  });

  it("reads a reviewer's comment on a set sent back to the annotator", () => {
    expect(parseTask(body)?.reviewComment).toBeNull();
    expect(parseTask({ ...body, review_comment: null })?.reviewComment).toBeNull();
    expect(parseTask({ ...body, review_comment: "Rank <b>b</b> last." })?.reviewComment).toBe("Rank <b>b</b> last.");
  });

  it("reads the AI suggestion only when it ranks exactly the task's candidates", () => {
    expect(parseTask(body)?.suggestion).toBeNull();
    expect(parseTask({ ...body, suggestion: null })?.suggestion).toBeNull();
    expect(parseTask({ ...body, suggestion: { ranking: [[12], [10]] } })?.suggestion).toEqual([[12], [10]]);
    expect(parseTask({ ...body, suggestion: { ranking: [[12, 10]] } })?.suggestion).toEqual([[12, 10]]);
    // A foreign id, a missing or repeated one, an empty tier: left out, the task still loads.
    for (const ranking of [[[12], [99]], [[12]], [[12], [12], [10]], [[12], [], [10]], "12>10"]) {
      const task = parseTask({ ...body, suggestion: { ranking } });
      expect(task?.assignment).toBe(7);
      expect(task?.suggestion).toBeNull();
    }
  });

  it("rejects malformed answers", () => {
    expect(parseTask(null)).toBeNull();
    expect(parseTask({ ...body, lease_expires_at: "soon" })).toBeNull();
    expect(parseTask({ ...body, candidates: [{ id: 1, text: "a" }] })).toBeNull();
    expect(parseTask({ ...body, candidates: [{ id: 1, text: "a" }, { id: 1, text: "b" }] })).toBeNull();
    expect(parseTask({ ...body, prompt: [{ role: "user" }] })).toBeNull();
    expect(parseTask({ ...body, assignment: "7" })).toBeNull();
  });
});

describe("leaseText", () => {
  it("counts down minutes and seconds, hours when long", () => {
    expect(leaseText(29 * 60_000 + 5_000)).toBe("29:05 left");
    expect(leaseText(59_500)).toBe("1:00 left");
    expect(leaseText(3_600_000 + 62_000)).toBe("1:01:02 left");
    expect(leaseText(0)).toBe("expired");
    expect(leaseText(-5)).toBe("expired");
  });
});
