import { describe, expect, it } from "vitest";
import { errorMessage } from "./apiErrors";

describe("errorMessage", () => {
  it("shows the API's detail", () => {
    const body = {
      detail: "Unable to sign in with these credentials.",
      code: "invalid_credentials",
      errors: {},
    };
    expect(errorMessage(400, body)).toBe("Unable to sign in with these credentials.");
  });

  it("falls back on the status when there is no detail (Django's HTML CSRF page)", () => {
    expect(errorMessage(403, null)).toMatch(/refused the request \(403\)/);
    expect(errorMessage(502, null)).toMatch(/failed \(502\)/);
    expect(errorMessage(418, { detail: "" })).toBe("The server answered 418.");
    expect(errorMessage(400, { detail: ["not", "a string"] })).toBe("The server answered 400.");
  });
});
