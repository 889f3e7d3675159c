/**
 * The message to show for a refused request. API errors have one shape,
 * `{"detail": str, "code": str, "errors": {field: [str]}}`, whose `detail` already sums up the
 * field errors; a refusal from outside DRF (Django's CSRF check answers with an HTML page) has
 * no such body, so it gets a message by status.
 */

import { type Schemas, wire } from "./apiTypes";

export function errorDetail(body: unknown): string | null {
  const detail = wire<Schemas["Error"]>(body)?.detail;
  return typeof detail === "string" && detail.trim() !== "" ? detail : null;
}

export function errorMessage(status: number, body: unknown): string {
  const detail = errorDetail(body);
  if (detail) return detail;
  if (status === 403) return "The server refused the request (403). Reload the page and try again.";
  if (status >= 500) return `The server failed (${status}). Try again in a moment.`;
  return `The server answered ${status}.`;
}
