/** The calls of the Webhooks page (admins): list, create, pause/resume and delete hooks, read a
 * hook's delivery log and redeliver one. Every answer becomes a Loaded<T>; a network failure a
 * "could not be reached" message, never a thrown error. */

import { request } from "../api";
import { type Loaded, fieldErrors, loadedFrom } from "./resource";
import {
  type Delivery,
  type DeliveryStatus,
  type NewWebhook,
  type Webhook,
  type WebhookPayload,
  deliveriesPath,
  parseDelivery,
  parseDeliveryPage,
  parseNewWebhook,
  parseWebhook,
  parseWebhookPage,
} from "./webhooks";

const UNREACHABLE = { kind: "failed", status: 0, message: "The server could not be reached." } as const;

export type Created = Loaded<NewWebhook> | { kind: "invalid"; message: string; errors: Record<string, string> };

export async function fetchWebhooks(): Promise<Loaded<Webhook[]>> {
  try {
    const { status, body } = await request("/api/v1/webhooks/?limit=200");
    return loadedFrom(status, body, parseWebhookPage);
  } catch {
    return UNREACHABLE;
  }
}

export async function createWebhook(payload: WebhookPayload): Promise<Created> {
  try {
    const { status, body } = await request("/api/v1/webhooks/", { method: "POST", json: payload });
    const loaded = loadedFrom(status, body, parseNewWebhook, 201);
    if (status === 400 && loaded.kind === "failed") {
      return { kind: "invalid", message: loaded.message, errors: fieldErrors(body) };
    }
    return loaded;
  } catch {
    return UNREACHABLE;
  }
}

export async function setWebhookActive(id: number, active: boolean): Promise<Loaded<Webhook>> {
  try {
    const { status, body } = await request(`/api/v1/webhooks/${id}/`, { method: "PATCH", json: { active } });
    return loadedFrom(status, body, parseWebhook);
  } catch {
    return UNREACHABLE;
  }
}

export async function deleteWebhook(id: number): Promise<Loaded<null>> {
  try {
    const { status, body } = await request(`/api/v1/webhooks/${id}/`, { method: "DELETE" });
    if (status === 204) return { kind: "loaded", value: null };
    return loadedFrom(status, body, () => null);
  } catch {
    return UNREACHABLE;
  }
}

export async function fetchDeliveries(webhookId: number, filter: DeliveryStatus | ""): Promise<Loaded<Delivery[]>> {
  try {
    const { status, body } = await request(deliveriesPath(webhookId, filter));
    return loadedFrom(status, body, parseDeliveryPage);
  } catch {
    return UNREACHABLE;
  }
}

export async function redeliver(deliveryId: number): Promise<Loaded<Delivery>> {
  try {
    const { status, body } = await request(`/api/v1/webhook-deliveries/${deliveryId}/redeliver/`, { method: "POST" });
    return loadedFrom(status, body, parseDelivery, 202);
  } catch {
    return UNREACHABLE;
  }
}
