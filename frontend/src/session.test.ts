import { describe, expect, it } from "vitest";
import { SIGN_IN_URL, describeSession, parseMe, sessionStateFrom } from "./session";

describe("parseMe", () => {
  it("accepts the documented shape", () => {
    expect(parseMe({ username: "ada", role: "reviewer" })).toEqual({
      username: "ada",
      role: "reviewer",
    });
  });

  it("rejects an unknown role, a missing username and non-objects", () => {
    expect(parseMe({ username: "ada", role: "superuser" })).toBeNull();
    expect(parseMe({ role: "admin" })).toBeNull();
    expect(parseMe({ username: "", role: "admin" })).toBeNull();
    expect(parseMe(null)).toBeNull();
    expect(parseMe("ada")).toBeNull();
  });
});

describe("sessionStateFrom", () => {
  it("treats 401 and 403 as signed out", () => {
    expect(sessionStateFrom(401, null)).toEqual({ kind: "signed-out" });
    expect(sessionStateFrom(403, null)).toEqual({ kind: "signed-out" });
  });

  it("reports a server error or a malformed body as unavailable", () => {
    expect(sessionStateFrom(500, null).kind).toBe("unavailable");
    expect(sessionStateFrom(200, { username: 3 }).kind).toBe("unavailable");
  });
});

describe("describeSession", () => {
  it("names the user and role when signed in", () => {
    const line = describeSession({ kind: "signed-in", me: { username: "ada", role: "annotator" } });
    expect(line).toEqual({ text: "Signed in as ada (annotator)" });
  });

  it("offers a sign-in link that returns to the home page when signed out", () => {
    const line = describeSession({ kind: "signed-out" });
    expect(line.link).toEqual({ text: "Sign in", href: SIGN_IN_URL });
    expect(SIGN_IN_URL).toBe("/admin/login/?next=/");
  });

  it("keeps a username with markup as plain text", () => {
    const line = describeSession({
      kind: "signed-in",
      me: { username: "<img src=x onerror=alert(1)>", role: "admin" },
    });
    expect(line.text).toBe("Signed in as <img src=x onerror=alert(1)> (admin)");
  });
});
