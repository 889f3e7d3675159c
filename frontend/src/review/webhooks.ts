/**
 * Webhooks as the Webhooks page shows them (issue 18): the parsers of the API's bodies, the
 * creation form's checks and the delivery log's wording. Pure; the calls live in ./webhooksApi.ts.
 */

import type { Schemas } from "../apiTypes";
import { asObj, int, str } from "./resource";

export type EventType = Schemas["WebhookEventTypeEnum"];
export type DeliveryStatus = Schemas["DeliveryStatusEnum"];

/** Every event a hook may subscribe to, in the server's order, with what it means. */
export const EVENT_TYPES: readonly { value: EventType; label: string }[] = [
  { value: "set.completed", label: "Candidate set completed (overlap reached)" },
  { value: "ranking.submitted", label: "Ranking submitted" },
  { value: "snapshot.created", label: "Dataset snapshot created" },
  { value: "training_run.succeeded", label: "Training run succeeded" },
  { value: "training_run.failed", label: "Training run failed or cancelled" },
  { value: "round.finished", label: "Loop round finished" },
];

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "delivered", "failed"];

const EVENT_VALUES = new Set<string>(EVENT_TYPES.map((e) => e.value));

function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && EVENT_VALUES.has(value);
}

function isDeliveryStatus(value: unknown): value is DeliveryStatus {
  return typeof value === "string" && (DELIVERY_STATUSES as readonly string[]).includes(value);
}

export interface Webhook {
  id: number;
  /** null: every project's events, and global ones. */
  project: number | null;
  url: string;
  events: EventType[];
  description: string;
  active: boolean;
  createdAt: string;
  pending: number;
  failed: number;
}

/** A hook just created: the only answer that carries its secret. */
export interface NewWebhook extends Webhook {
  secret: string;
}

type WebhookWire = { [K in keyof Schemas["WebhookOutput"]]?: unknown };

export function parseWebhook(body: unknown): Webhook | null {
  const o = asObj(body) as WebhookWire | null;
  if (o === null || !Number.isInteger(o.id) || typeof o.url !== "string") return null;
  return {
    id: int(o.id),
    project: Number.isInteger(o.project) ? int(o.project) : null,
    url: o.url,
    events: Array.isArray(o.events) ? o.events.filter(isEventType) : [],
    description: str(o.description),
    active: o.active === true,
    createdAt: str(o.created_at),
    pending: int(o.pending),
    failed: int(o.failed),
  };
}

export function parseNewWebhook(body: unknown): NewWebhook | null {
  const hook = parseWebhook(body);
  const secret = (asObj(body) as { [K in keyof Schemas["WebhookCreatedOutput"]]?: unknown } | null)?.secret;
  return hook !== null && typeof secret === "string" && secret !== "" ? { ...hook, secret } : null;
}

export function parseWebhookPage(body: unknown): Webhook[] | null {
  const results = asObj(body)?.results;
  if (!Array.isArray(results)) return null;
  return results.map(parseWebhook).filter((h): h is Webhook => h !== null);
}

export interface Delivery {
  id: number;
  eventId: string;
  eventType: string;
  eventCreatedAt: string;
  status: DeliveryStatus;
  attempts: number;
  /** The HTTP status of the last attempt; null when there was no answer (or no attempt). */
  responseCode: number | null;
  lastError: string;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

type DeliveryWire = { [K in keyof Schemas["DeliveryOutput"]]?: unknown };

const isoOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function parseDelivery(body: unknown): Delivery | null {
  const o = asObj(body) as DeliveryWire | null;
  if (o === null || !Number.isInteger(o.id) || !isDeliveryStatus(o.status)) return null;
  return {
    id: int(o.id),
    eventId: str(o.event_id),
    eventType: str(o.event_type),
    eventCreatedAt: str(o.event_created_at),
    status: o.status,
    attempts: int(o.attempts),
    responseCode: Number.isInteger(o.response_code) ? int(o.response_code) : null,
    lastError: str(o.last_error),
    nextAttemptAt: isoOrNull(o.next_attempt_at),
    lastAttemptAt: isoOrNull(o.last_attempt_at),
    deliveredAt: isoOrNull(o.delivered_at),
    createdAt: str(o.created_at),
  };
}

export function parseDeliveryPage(body: unknown): Delivery[] | null {
  const results = asObj(body)?.results;
  if (!Array.isArray(results)) return null;
  return results.map(parseDelivery).filter((d): d is Delivery => d !== null);
}

/** The delivery log's address: newest first, optionally one status only. */
export function deliveriesPath(webhookId: number, status: DeliveryStatus | "", limit = 50): string {
  return `/api/v1/webhooks/${webhookId}/deliveries/?limit=${limit}${status === "" ? "" : `&status=${status}`}`;
}

export interface WebhookForm {
  url: string;
  /** A project's id as the select holds it; "" for every project. */
  project: string;
  events: EventType[];
  description: string;
}

export const EMPTY_WEBHOOK_FORM: WebhookForm = { url: "", project: "", events: [], description: "" };

export type WebhookPayload = Schemas["WebhookInputRequest"];

/** The form as the create's body, or per-field messages (keyed like the server's errors). The
 * server decides which destinations it accepts (it refuses private addresses); this only
 * catches what is plainly not an http(s) URL. */
export function webhookPayload(
  form: WebhookForm,
): { ok: true; payload: WebhookPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const url = form.url.trim();
  if (url === "") errors.url = "Give the URL events are POSTed to.";
  else if (!/^https?:\/\/\S+$/i.test(url)) errors.url = "An http:// or https:// URL.";
  else if (url.length > 2000) errors.url = "At most 2000 characters.";
  if (form.events.length === 0) errors.events = "Pick at least one event.";
  if (form.project !== "" && !/^[1-9]\d{0,17}$/.test(form.project)) errors.project = "Pick a project.";
  const description = form.description.trim();
  if (description.length > 200) errors.description = "At most 200 characters.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  // The server's order, whatever order the boxes were ticked in.
  const events = EVENT_TYPES.map((e) => e.value).filter((v) => form.events.includes(v));
  return {
    ok: true,
    payload: { url, events, project: form.project === "" ? null : Number(form.project), description },
  };
}

/** Tick or untick one event in the form's list. */
export function toggleEvent(events: readonly EventType[], event: EventType): EventType[] {
  return events.includes(event) ? events.filter((e) => e !== event) : [...events, event];
}

/** "all projects" or the project's name (its id when the list does not hold it). */
export function scopeText(hook: Webhook, projectNames: ReadonlyMap<number, string>): string {
  if (hook.project === null) return "all projects";
  return projectNames.get(hook.project) ?? `project ${hook.project}`;
}

/** "2 pending, 1 failed" / "" — what waits or gave up, for the hook's row. */
export function backlogText(hook: Webhook): string {
  const parts: string[] = [];
  if (hook.pending > 0) parts.push(`${hook.pending} pending`);
  if (hook.failed > 0) parts.push(`${hook.failed} failed`);
  return parts.join(", ");
}

/** The response column: the HTTP status, "no answer" after an attempt without one, "–" before any. */
export function responseText(delivery: Delivery): string {
  if (delivery.responseCode !== null) return String(delivery.responseCode);
  return delivery.attempts > 0 ? "no answer" : "–";
}

/** When it last happened: delivered, else last tried, else recorded. */
export function deliveryWhen(delivery: Delivery): string {
  return delivery.deliveredAt ?? delivery.lastAttemptAt ?? delivery.createdAt;
}
