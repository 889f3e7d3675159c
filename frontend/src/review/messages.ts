/** A prompt as the review API sends it: a list of `{role, content}`, or a plain string. */

import type { Message } from "../task";

export type { Message };

export function parseMessages(value: unknown): Message[] {
  if (typeof value === "string") return [{ role: "user", content: value }];
  if (!Array.isArray(value)) return [];
  const out: Message[] = [];
  for (const m of value) {
    if (typeof m !== "object" || m === null) continue;
    const { role, content } = m as Record<string, unknown>;
    if (typeof content === "string") out.push({ role: typeof role === "string" ? role : "user", content });
  }
  return out;
}
