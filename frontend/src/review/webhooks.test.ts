import { describe, expect, it } from "vitest";
import {
  type Delivery,
  EMPTY_WEBHOOK_FORM,
  backlogText,
  deliveriesPath,
  deliveryWhen,
  parseDeliveryPage,
  parseNewWebhook,
  parseWebhook,
  parseWebhookPage,
  responseText,
  scopeText,
  toggleEvent,
  webhookPayload,
} from "./webhooks";

const HOOK = {
  id: 3,
  project: null,
  url: "https://example.com/hook",
  events: ["snapshot.created", "ranking.submitted"],
  description: "ci",
  active: true,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  pending: 2,
  failed: 1,
};

const DELIVERY = {
  id: 7,
  webhook: 3,
  event_id: "0b6f6a0e-1c1e-4d7e-9a55-2f1f3f9b7a10",
  event_type: "snapshot.created",
  event_created_at: "2025-01-02T00:00:00Z",
  status: "failed",
  attempts: 8,
  response_code: 500,
  last_error: "HTTP 500",
  next_attempt_at: null,
  last_attempt_at: "2025-01-02T01:00:00Z",
  delivered_at: null,
  created_at: "2025-01-02T00:00:00Z",
};

describe("parseWebhook", () => {
  it("reads a hook, a global one as project null", () => {
    expect(parseWebhook(HOOK)).toEqual({
      id: 3,
      project: null,
      url: "https://example.com/hook",
      events: ["snapshot.created", "ranking.submitted"],
      description: "ci",
      active: true,
      createdAt: "2025-01-01T00:00:00Z",
      pending: 2,
      failed: 1,
    });
    expect(parseWebhook({ ...HOOK, project: 4 })?.project).toBe(4);
  });

  it("drops event types it does not know and refuses a body without id or url", () => {
    expect(parseWebhook({ ...HOOK, events: ["set.completed", "nope", 3] })?.events).toEqual(["set.completed"]);
    expect(parseWebhook({ ...HOOK, id: "3" })).toBeNull();
    expect(parseWebhook({ ...HOOK, url: undefined })).toBeNull();
    expect(parseWebhook([HOOK])).toBeNull();
  });

  it("reads the secret of the create's answer only", () => {
    expect(parseNewWebhook({ ...HOOK, secret: "s3cret" })?.secret).toBe("s3cret");
    expect(parseNewWebhook(HOOK)).toBeNull();
    expect(parseNewWebhook({ ...HOOK, secret: "" })).toBeNull();
  });

  it("reads a page, leaving out unreadable rows", () => {
    expect(parseWebhookPage({ count: 2, results: [HOOK, { id: "x" }] })?.map((h) => h.id)).toEqual([3]);
    expect(parseWebhookPage({ detail: "no" })).toBeNull();
  });
});

describe("parseDeliveryPage", () => {
  it("reads the log's rows and refuses an unknown status", () => {
    const [d] = parseDeliveryPage({ results: [DELIVERY, { ...DELIVERY, id: 8, status: "lost" }] }) ?? [];
    expect(d).toMatchObject({ id: 7, status: "failed", attempts: 8, responseCode: 500, lastError: "HTTP 500" });
    expect(parseDeliveryPage({ results: [DELIVERY, { ...DELIVERY, id: 8, status: "lost" }] })).toHaveLength(1);
    expect(parseDeliveryPage(null)).toBeNull();
  });
});

describe("webhookPayload", () => {
  const form = { ...EMPTY_WEBHOOK_FORM, url: " https://example.com/h ", events: toggleEvent([], "round.finished") };

  it("builds the create's body, events in the server's order, project null for all", () => {
    const built = webhookPayload({ ...form, events: ["round.finished", "set.completed"], description: " x " });
    expect(built).toEqual({
      ok: true,
      payload: { url: "https://example.com/h", events: ["set.completed", "round.finished"], project: null, description: "x" },
    });
    const forProject = webhookPayload({ ...form, project: "12" });
    expect(forProject.ok && forProject.payload.project).toBe(12);
  });

  it("names each field that is wrong, keyed like the server's errors", () => {
    expect(webhookPayload(EMPTY_WEBHOOK_FORM)).toEqual({
      ok: false,
      errors: { url: "Give the URL events are POSTed to.", events: "Pick at least one event." },
    });
    const bad = webhookPayload({ ...form, url: "ftp://x", project: "abc", description: "d".repeat(201) });
    expect(bad.ok ? [] : Object.keys(bad.errors)).toEqual(["url", "project", "description"]);
  });

  it("toggles an event in and out", () => {
    expect(toggleEvent(["set.completed"], "round.finished")).toEqual(["set.completed", "round.finished"]);
    expect(toggleEvent(["set.completed", "round.finished"], "set.completed")).toEqual(["round.finished"]);
  });
});

describe("the page's wording", () => {
  const hook = parseWebhook(HOOK)!;
  const delivery = parseDeliveryPage({ results: [DELIVERY] })![0] as Delivery;

  it("says which projects a hook listens to", () => {
    const names = new Map([[4, "Owls"]]);
    expect(scopeText(hook, names)).toBe("all projects");
    expect(scopeText({ ...hook, project: 4 }, names)).toBe("Owls");
    expect(scopeText({ ...hook, project: 5 }, names)).toBe("project 5");
  });

  it("sums up what waits or failed", () => {
    expect(backlogText(hook)).toBe("2 pending, 1 failed");
    expect(backlogText({ ...hook, pending: 0, failed: 0 })).toBe("");
  });

  it("tells no answer from no attempt", () => {
    expect(responseText(delivery)).toBe("500");
    expect(responseText({ ...delivery, responseCode: null })).toBe("no answer");
    expect(responseText({ ...delivery, responseCode: null, attempts: 0 })).toBe("–");
  });

  it("dates a delivery by what happened last", () => {
    expect(deliveryWhen(delivery)).toBe("2025-01-02T01:00:00Z");
    expect(deliveryWhen({ ...delivery, deliveredAt: "2025-01-03T00:00:00Z" })).toBe("2025-01-03T00:00:00Z");
    expect(deliveryWhen({ ...delivery, lastAttemptAt: null })).toBe("2025-01-02T00:00:00Z");
  });

  it("asks for one status of the log, or all", () => {
    expect(deliveriesPath(3, "")).toBe("/api/v1/webhooks/3/deliveries/?limit=50");
    expect(deliveriesPath(3, "failed")).toBe("/api/v1/webhooks/3/deliveries/?limit=50&status=failed");
  });
});
