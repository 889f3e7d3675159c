// @vitest-environment jsdom
/**
 * The Webhooks page against a fake server: a refused URL's message sits next to the URL field;
 * a created hook's secret is shown once (gone after "Done"); a hook's delivery log filters by
 * status and redelivers; pausing PATCHes `active`.
 */

import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebhooksPage } from "./WebhooksPage";

const HOOK = {
  id: 3, project: 4, url: "https://example.com/hook", events: ["snapshot.created"], description: "", active: true,
  created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:00Z", pending: 0, failed: 1,
};
const DELIVERY = {
  id: 7, webhook: 3, event_id: "0b6f6a0e-1c1e-4d7e-9a55-2f1f3f9b7a10", event_type: "snapshot.created",
  event_created_at: "2025-01-02T00:00:00Z", status: "failed", attempts: 8, response_code: null,
  last_error: "ConnectError: refused", next_attempt_at: null, last_attempt_at: "2025-01-02T01:00:00Z",
  delivered_at: null, created_at: "2025-01-02T00:00:00Z",
};

interface Call {
  path: string;
  method: string;
  body: unknown;
}

function fakeServer(hooks: unknown[], answers: Record<string, { status: number; body: unknown }> = {}) {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", (path: string, init: RequestInit) => {
    const method = init?.method ?? "GET";
    calls.push({ path, method, body: init?.body ? JSON.parse(String(init.body)) : null });
    const page = (results: unknown[]) => ({ count: results.length, next: null, previous: null, results });
    const answer =
      answers[`${method} ${path}`] ??
      (path.startsWith("/api/v1/projects/")
        ? { status: 200, body: page([{ id: 4, name: "Owls", k: 2, set_count: 0, complete_set_count: 0 }]) }
        : path.startsWith("/api/v1/webhooks/3/deliveries/")
          ? { status: 200, body: page(path.includes("status=delivered") ? [] : [DELIVERY]) }
          : path.startsWith("/api/v1/webhooks/")
            ? { status: 200, body: page(hooks) }
            : { status: 404, body: { detail: "Not found.", code: "not_found", errors: {} } });
    const headers = new Headers({ "Content-Type": "application/json" });
    return Promise.resolve(new Response(answer.status === 204 ? null : JSON.stringify(answer.body), { status: answer.status, headers }));
  });
  return calls;
}

beforeEach(() => vi.unstubAllGlobals());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("WebhooksPage", () => {
  it("shows the server's refusal of a URL next to the URL field", async () => {
    const calls = fakeServer([], {
      "POST /api/v1/webhooks/": {
        status: 400,
        body: { detail: "Invalid input.", code: "invalid", errors: { url: ["The destination is a loopback address."] } },
      },
    });
    render(<WebhooksPage onSignedOut={() => {}} />);
    await screen.findByText("No webhooks.");
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "http://127.0.0.1/h" } });
    fireEvent.click(screen.getByRole("checkbox", { name: /snapshot\.created/ }));
    fireEvent.click(screen.getByRole("button", { name: "Add webhook" }));

    const error = await screen.findByText("The destination is a loopback address.");
    expect(error.id).toBe("webhook-err-url");
    expect(screen.getByLabelText("URL").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("URL").getAttribute("aria-describedby")).toContain("webhook-err-url");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({
      url: "http://127.0.0.1/h", events: ["snapshot.created"], project: null, description: "",
    });
  });

  it("checks the form before asking the server", async () => {
    const calls = fakeServer([]);
    render(<WebhooksPage onSignedOut={() => {}} />);
    await screen.findByText("No webhooks.");
    fireEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByText("Pick at least one event.")).toBeTruthy();
    expect(screen.getByText("Give the URL events are POSTed to.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("shows a new hook's secret once, for the chosen project", async () => {
    const calls = fakeServer([], {
      "POST /api/v1/webhooks/": { status: 201, body: { ...HOOK, secret: "whsec-abc" } },
    });
    render(<WebhooksPage onSignedOut={() => {}} />);
    await screen.findByRole("option", { name: "Owls" });
    fireEvent.change(screen.getByLabelText("URL"), { target: { value: "https://example.com/hook" } });
    fireEvent.change(screen.getByLabelText("Project"), { target: { value: "4" } });
    fireEvent.click(screen.getByRole("checkbox", { name: /snapshot\.created/ }));
    fireEvent.click(screen.getByRole("button", { name: "Add webhook" }));

    expect((await screen.findByTestId("new-webhook-secret")).textContent).toBe("whsec-abc");
    expect(screen.getByText(/Store it now: it is not shown again\./)).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ project: 4 });
    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByTestId("new-webhook-secret")).toBeNull();
    expect(screen.getByRole("button", { name: "Add webhook" })).toBeTruthy();
  });

  it("lists hooks with their project, pauses one, and reads and redelivers its log", async () => {
    const calls = fakeServer([HOOK], {
      "PATCH /api/v1/webhooks/3/": { status: 200, body: { ...HOOK, active: false } },
      "POST /api/v1/webhook-deliveries/7/redeliver/": { status: 202, body: { ...DELIVERY, status: "pending", attempts: 0 } },
    });
    render(<WebhooksPage onSignedOut={() => {}} />);
    const row = within((await screen.findByText("https://example.com/hook")).closest("tr")!);
    expect(await row.findByText("Owls")).toBeTruthy();
    expect(row.getByText("1 failed")).toBeTruthy();

    fireEvent.click(row.getByRole("button", { name: "Pause https://example.com/hook" }));
    expect(await screen.findByText("Paused https://example.com/hook.")).toBeTruthy();
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ active: false });

    fireEvent.click(row.getByRole("button", { name: "Show deliveries to https://example.com/hook" }));
    const log = within(await screen.findByRole("region", { name: "Deliveries to https://example.com/hook" }));
    const delivery = within((await log.findByText("ConnectError: refused")).closest("tr")!);
    expect(delivery.getByText("no answer")).toBeTruthy();
    expect(delivery.getByText("failed")).toBeTruthy();

    fireEvent.click(delivery.getByRole("button", { name: "Redeliver delivery 7" }));
    expect(await log.findByText("Delivery 7 queued again.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/webhook-deliveries/7/redeliver/")).toBe(true);

    fireEvent.change(log.getByLabelText("Status"), { target: { value: "delivered" } });
    expect(await log.findByText("No deliveries delivered yet.")).toBeTruthy();
    expect(calls.map((c) => c.path)).toContain("/api/v1/webhooks/3/deliveries/?limit=50&status=delivered");
  });
});
