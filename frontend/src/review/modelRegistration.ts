/** The "Register a model" form → the body of `POST /api/v1/models/`: a local Hugging Face
 * model directory (inside the server's model roots), its name, kind and optional parent. Pure. */

import type { Schemas } from "../apiTypes";

export type ModelKind = Schemas["ModelKindEnum"];
export const MODEL_KINDS: readonly { value: ModelKind; label: string }[] = [
  { value: "base", label: "Base" },
  { value: "sft", label: "SFT" },
  { value: "reward", label: "Reward model" },
  { value: "policy", label: "Policy" },
];

export interface ModelRegisterForm {
  name: string;
  path: string;
  kind: string;
  /** A model id, or "" for none. */
  parent: string;
}

export type ModelRegisterPayload = Schemas["ModelRegisterInputRequest"];

export function emptyModelRegisterForm(): ModelRegisterForm {
  return { name: "", path: "", kind: "base", parent: "" };
}

export function modelRegisterPayload(
  form: ModelRegisterForm,
): { ok: true; payload: ModelRegisterPayload } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  const path = form.path.trim();
  if (!name) errors.name = "Give the model a name.";
  if (!path) errors.path = "The model's directory on the server.";
  const kind = MODEL_KINDS.find((k) => k.value === form.kind)?.value;
  if (!kind) errors.kind = "Choose a kind.";
  if (form.parent !== "" && !/^\d{1,12}$/.test(form.parent)) errors.parent = "Choose a model.";
  if (Object.keys(errors).length > 0 || !kind) return { ok: false, errors };
  const payload: ModelRegisterPayload = { name, path, kind };
  if (form.parent !== "") payload.parent = Number(form.parent);
  return { ok: true, payload };
}
