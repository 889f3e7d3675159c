/**
 * The API's payloads, as generated from its OpenAPI schema into ./generated/api.d.ts
 * (`make api-types` regenerates it from `manage.py spectacular`; `make check-api-types`, run by
 * `make test-frontend`, fails when the committed file is stale). Never edit the generated file.
 *
 * The parsers (projects.ts, task.ts, review/*.ts) still check every value at run time: the server
 * is another program, possibly of another version during a deploy. What the generated types give
 * them is the field names: reading a field the schema does not have, or sending one, fails `tsc`.
 */

import type { components } from "./generated/api";

export type Schemas = components["schemas"];

/** A body as it arrives: the schema's field names, values untrusted until a parser checks them. */
export type Wire<T> = { readonly [K in keyof T]?: unknown };

/**
 * A generated type with some fields typed more precisely than the schema can say (JSON fields
 * are `unknown` there). Only the schema's own field names may be refined.
 */
export type Refine<T, R extends { [K in keyof R]: K extends keyof T ? unknown : never }> = Omit<T, keyof R> & R;

/** `body` read as the schema's `T` when it is a JSON object; null otherwise. */
export function wire<T>(body: unknown): Wire<T> | null {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Wire<T>) : null;
}
