import { describe, expect, it } from "vitest";
import { parseMe, sessionStateFrom, signedInText } from "./session";

describe("parseMe", () => {
  it("accepts the documented shape", () => {
    expect(parseMe({ id: 7, username: "ada", role: "reviewer" })).toEqual({
      id: 7,
      username: "ada",
      role: "reviewer",
    });
  });

  it("accepts an account without a role", () => {
    expect(parseMe({ id: 7, username: "ada", role: null })).toEqual({
      id: 7,
      username: "ada",
      role: null,
    });
  });

  it("rejects an unknown role, a missing id or username, and non-objects", () => {
    expect(parseMe({ id: 7, username: "ada", role: "superuser" })).toBeNull();
    expect(parseMe({ id: 7, username: "ada" })).toBeNull();
    expect(parseMe({ username: "ada", role: "admin" })).toBeNull();
    expect(parseMe({ id: "7", username: "ada", role: "admin" })).toBeNull();
    expect(parseMe({ id: 7, role: "admin" })).toBeNull();
    expect(parseMe({ id: 7, username: "", role: "admin" })).toBeNull();
    expect(parseMe(null)).toBeNull();
    expect(parseMe("ada")).toBeNull();
  });
});

describe("sessionStateFrom", () => {
  it("treats 401 and 403 as signed out", () => {
    expect(sessionStateFrom(401, null)).toEqual({ kind: "signed-out" });
    expect(sessionStateFrom(403, null)).toEqual({ kind: "signed-out" });
  });

  it("is signed in with a well-formed 200", () => {
    expect(sessionStateFrom(200, { id: 1, username: "ada", role: "annotator" })).toEqual({
      kind: "signed-in",
      me: { id: 1, username: "ada", role: "annotator" },
    });
  });

  it("reports a server error or a malformed body as unavailable", () => {
    expect(sessionStateFrom(500, null).kind).toBe("unavailable");
    expect(sessionStateFrom(200, { username: 3 }).kind).toBe("unavailable");
  });
});

describe("signedInText", () => {
  it("names the user and role", () => {
    expect(signedInText({ id: 1, username: "ada", role: "annotator" })).toBe(
      "Signed in as ada (annotator)",
    );
  });

  it("says so when the account has no role", () => {
    expect(signedInText({ id: 1, username: "ada", role: null })).toBe("Signed in as ada (no role)");
  });

  it("keeps a username with markup as plain text", () => {
    const me = { id: 1, username: "<img src=x onerror=alert(1)>", role: "admin" as const };
    expect(signedInText(me)).toBe("Signed in as <img src=x onerror=alert(1)> (admin)");
  });
});
