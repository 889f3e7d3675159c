/** The answer to `POST /api/v1/auth/login/`, as what the sign-in form shows next. */

import { errorMessage } from "./apiErrors";
import { type Me, parseMe } from "./session";

export type SignInResult = { kind: "signed-in"; me: Me } | { kind: "refused"; message: string };

export function signInResultFrom(status: number, body: unknown): SignInResult {
  if (status === 200) {
    const me = parseMe(body);
    return me
      ? { kind: "signed-in", me }
      : { kind: "refused", message: "The server answered with something unexpected." };
  }
  return { kind: "refused", message: errorMessage(status, body) };
}
