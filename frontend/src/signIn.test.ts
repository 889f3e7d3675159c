import { describe, expect, it } from "vitest";
import { signInResultFrom } from "./signIn";

describe("signInResultFrom", () => {
  it("is signed in with the user from a 200", () => {
    expect(signInResultFrom(200, { id: 3, username: "ann", role: "annotator" })).toEqual({
      kind: "signed-in",
      me: { id: 3, username: "ann", role: "annotator" },
    });
  });

  it("shows the detail of a refusal", () => {
    const body = {
      detail: "Unable to sign in with these credentials.",
      code: "invalid_credentials",
      errors: {},
    };
    expect(signInResultFrom(400, body)).toEqual({
      kind: "refused",
      message: "Unable to sign in with these credentials.",
    });
  });

  it("refuses a 200 whose body is not a user", () => {
    expect(signInResultFrom(200, { token: "x" }).kind).toBe("refused");
  });
});
