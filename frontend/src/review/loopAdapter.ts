/**
 * The loop's adapter setting (`adapter` of `GET/PATCH /api/v1/projects/{id}/loop/`): null trains
 * every round's reward and policy runs in full; an object is a run config's adapter block (LoRA
 * rank, alpha, dropout, target modules, output head, quantization) that those runs take. Its
 * inputs are the block's fields as `GET /api/v1/run-kinds/` lists them (type, default and help
 * are the backend's), read with the run-config builder (./runConfig.ts). Pure.
 */

import type { Obj } from "./resource";
import { type ConfigField, type RunKindInfo, type Scalar, blockOn, fieldText, readField, valueText } from "./runConfig";

/** The block's name: in a run config, in the loop settings, and in the API's error keys
 * (`adapter.r`). */
export const ADAPTER = "adapter";

/** A field of the adapter block, its switch included. */
export function isAdapterField(field: ConfigField): boolean {
  return field.block === ADAPTER || (field.toggle === true && field.name === ADAPTER);
}

/** The block's switch and fields (every algorithm takes the same block): from the first kind that
 * has it; none when no kind has it. */
export function adapterFields(kinds: RunKindInfo[]): ConfigField[] {
  const kind = kinds.find((k) => k.fields.some((f) => f.toggle && f.name === ADAPTER));
  return kind ? kind.fields.filter(isAdapterField) : [];
}

const key = (field: ConfigField) => field.name.slice(ADAPTER.length + 1);

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** The inputs of a stored setting, named as the run form names them (`adapter`, `adapter.r`):
 * the switch on and each stored value when there is a block; nothing (off) when null. */
export function adapterEdits(stored: Obj | null): Record<string, string> {
  if (stored === null) return {};
  const edits: Record<string, string> = { [ADAPTER]: "true" };
  for (const [k, v] of Object.entries(stored)) if (isScalar(v)) edits[`${ADAPTER}.${k}`] = valueText(v);
  return edits;
}

export function adapterIsOn(fields: ConfigField[], edits: Record<string, string>): boolean {
  return blockOn(ADAPTER, fields, edits);
}

/** A stored block as the form writes it back: every field, the API's defaults filling what it
 * leaves out (null stays null), so that it compares with what the form reads. */
export function adapterAsWritten(stored: Obj | null, fields: ConfigField[]): Obj | null {
  if (stored === null) return null;
  const out: Obj = {};
  for (const f of fields) if (f.block === ADAPTER) out[key(f)] = f.default;
  return { ...out, ...stored };
}

/**
 * The setting the form's adapter inputs make: null (off: full fine-tuning) or the whole block,
 * every field as its input reads, defaults included (the stored setting says what the rounds
 * train with, and an all-default block is not an empty `{}`); keys the form has no input for
 * stay as stored. Errors are keyed as the API names them (`adapter.r`).
 */
export function adapterValue(
  stored: Obj | null,
  edits: Record<string, string>,
  fields: ConfigField[],
): { value: Obj | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!adapterIsOn(fields, edits)) return { value: null, errors };
  const inner = fields.filter((f) => f.block === ADAPTER);
  const value: Obj = {};
  for (const [k, v] of Object.entries(stored ?? {})) if (!inner.some((f) => key(f) === k)) value[k] = v;
  for (const field of inner) {
    const read = readField(field, fieldText(field, edits));
    if (read.ok) value[key(field)] = read.value;
    else errors[field.name] = read.error;
  }
  return { value, errors };
}

/** The setting in words: "full fine-tuning", or "LoRA r=16, α=32" (a value the block leaves out
 * is the field's default from the API), "QLoRA (4-bit base) …" when quantized, and whether the
 * output head trains in full. */
export function adapterSummary(stored: Obj | null, fields: ConfigField[]): string {
  if (stored === null) return "full fine-tuning";
  const value = (name: string): Scalar | undefined => {
    if (isScalar(stored[name])) return stored[name];
    return fields.find((f) => f.name === `${ADAPTER}.${name}`)?.default;
  };
  const method = value("quantization") === "4bit" ? "QLoRA (4-bit base)" : "LoRA";
  const head = value("train_head") === true ? ", output head trained in full" : "";
  const shown = (name: string) => {
    const v = value(name);
    return v === undefined || v === null ? "default" : String(v);
  };
  return `${method} r=${shown("r")}, α=${shown("alpha")}${head}`;
}
