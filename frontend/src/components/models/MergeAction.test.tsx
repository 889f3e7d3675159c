// @vitest-environment jsdom
/**
 * The "Merge" action of an adapter version against a fake server: a blank name is refused
 * before anything is sent, the API's 400 shows next to the name field, and a queued job is
 * followed until it succeeds, when the page is told to reload its models.
 */

import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ModelVersion } from "../../review/models";
import { MergeAction } from "./MergeAction";
import { type MergeJob, mergeStatusText, parseMergeJob } from "./merge";

const ADAPTER: ModelVersion = {
  id: 5,
  name: "dpo-run-3",
  kind: "policy",
  parent: 1,
  adapterBase: 1,
  endpoint: null,
  children: [],
  producedBy: 3,
  dataset: 2,
  usedByRuns: [],
  generationJobs: [],
  candidatesGenerated: 0,
};

function job(status: string, extra: Record<string, unknown> = {}) {
  return {
    id: 9, adapter: 5, adapter_name: "dpo-run-3", name: "policy-full", status, merged_model: null, error: "",
    attempts: status === "queued" ? 0 : 1, created_at: "2025-01-01T00:00:00Z", started_at: null, finished_at: null, ...extra,
  };
}

/** Answers `POST …/merge/` and `GET /merge-jobs/9/` from queues of answers; records the posts. */
function fakeServer(posts: { status: number; body: unknown }[], polls: unknown[]) {
  const sent: unknown[] = [];
  vi.stubGlobal("fetch", (path: string, init: RequestInit) => {
    let answer: { status: number; body: unknown };
    if (path === "/api/v1/models/5/merge/") {
      sent.push(JSON.parse(String(init.body)));
      answer = posts.shift() ?? { status: 500, body: {} };
    } else if (path === "/api/v1/merge-jobs/9/") {
      answer = { status: 200, body: polls.length > 1 ? polls.shift() : polls[0] };
    } else {
      answer = { status: 404, body: {} };
    }
    const headers = new Headers({ "Content-Type": "application/json" });
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status, headers }));
  });
  return sent;
}

beforeEach(() => vi.unstubAllGlobals());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("merge jobs", () => {
  it("reads a job and says where it is", () => {
    const queued = parseMergeJob(job("queued")) as MergeJob;
    expect(queued).toEqual({
      id: 9, adapter: 5, adapterName: "dpo-run-3", name: "policy-full", status: "queued", mergedModel: null, error: "",
    });
    expect(mergeStatusText(queued)).toBe("Merge job #9 is queued for a worker.");
    expect(mergeStatusText({ ...queued, status: "succeeded", mergedModel: 12 })).toBe("Merged: policy-full is model #12.");
    expect(mergeStatusText({ ...queued, status: "failed", error: "\nOSError: disk full\n\nTraceback…" })).toBe(
      "Merge job #9 failed: OSError: disk full",
    );
    expect(parseMergeJob({ id: "9" })).toBeNull();
  });
});

describe("MergeAction", () => {
  it("refuses a blank name without sending it, and shows the API's reason next to the field", async () => {
    const sent = fakeServer([{ status: 400, body: { detail: "Invalid.", code: "conflict", errors: { name: ["A model with this name exists."] } } }], []);
    const user = userEvent.setup();
    render(<MergeAction model={ADAPTER} onMerged={() => {}} onSignedOut={() => {}} pollMs={5} />);

    await user.click(screen.getByRole("button", { name: "Merge" }));
    const field = screen.getByLabelText("Name of the merged model");
    expect(field).toHaveProperty("value", "dpo-run-3-merged");
    await user.clear(field);
    await user.click(screen.getByRole("button", { name: "Start merge" }));
    expect(screen.getByText("Name the new model.").id).toBe(field.getAttribute("aria-describedby"));
    expect(sent).toEqual([]);

    await user.type(field, "tiny-sft");
    await user.click(screen.getByRole("button", { name: "Start merge" }));
    const reason = await screen.findByText("A model with this name exists.");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toBe(reason.id);
    expect(sent).toEqual([{ name: "tiny-sft" }]);
  });

  it("follows the queued job until it succeeds, then has the models reloaded", async () => {
    const sent = fakeServer(
      [{ status: 202, body: job("queued") }],
      [job("running"), job("succeeded", { merged_model: 12 })],
    );
    const onMerged = vi.fn();
    const user = userEvent.setup();
    render(<MergeAction model={ADAPTER} onMerged={onMerged} onSignedOut={() => {}} pollMs={5} />);

    await user.click(screen.getByRole("button", { name: "Merge" }));
    await user.clear(screen.getByLabelText("Name of the merged model"));
    await user.type(screen.getByLabelText("Name of the merged model"), " policy-full ");
    await user.click(screen.getByRole("button", { name: "Start merge" }));

    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("Merged: policy-full is model #12."));
    expect(sent).toEqual([{ name: "policy-full" }]);
    expect(onMerged).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("link", { name: "Open it" }).getAttribute("href")).toBe("#/models/12");
  });
});
