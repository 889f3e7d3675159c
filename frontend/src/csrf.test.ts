import { describe, expect, it } from "vitest";
import { CSRF_COOKIE, readCookie } from "./csrf";

describe("readCookie", () => {
  it("finds a cookie among others, whatever the spacing", () => {
    expect(readCookie("a=1; csrftoken=abc123;b=2", CSRF_COOKIE)).toBe("abc123");
    expect(readCookie("csrftoken=abc123", CSRF_COOKIE)).toBe("abc123");
  });

  it("is null when the cookie is absent or the jar is empty", () => {
    expect(readCookie("", CSRF_COOKIE)).toBeNull();
    expect(readCookie("sessionid=x; other=y", CSRF_COOKIE)).toBeNull();
  });

  it("matches the whole name, not a suffix or prefix", () => {
    expect(readCookie("xcsrftoken=no; csrftokenx=no", CSRF_COOKIE)).toBeNull();
  });

  it("keeps '=' inside the value and decodes percent-encoding", () => {
    expect(readCookie("t=a=b", "t")).toBe("a=b");
    expect(readCookie("t=a%20b", "t")).toBe("a b");
    expect(readCookie("t=100%", "t")).toBe("100%");
  });

  it("takes the first of two cookies with the same name (the most specific path)", () => {
    expect(readCookie("csrftoken=first; csrftoken=second", CSRF_COOKIE)).toBe("first");
  });
});
