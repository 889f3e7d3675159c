/** "Loading…" or the refusal (a 403 included) for a page whose data has not arrived. */

import type { Loaded } from "../../review/resource";

export function LoadNotice<T>({ state, what }: { state: Loaded<T> | null; what: string }) {
  if (state === null) return <p role="status">Loading {what}…</p>;
  if (state.kind === "failed")
    return (
      <p className="form-error" role="alert">
        Could not load {what}: {state.message}
      </p>
    );
  return null;
}

export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  return message ? (
    <span id={id} className="field-error">
      {message}
    </span>
  ) : null;
}
