import { describe, expect, it } from "vitest";
import { lastUsedText, parseNewToken, parseToken, parseTokenPage, tokenPayload } from "./tokens";

const row = {
  id: 3,
  name: "nightly export",
  prefix: "fw_abcdefg",
  username: "ann",
  created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-04-01T00:00:00Z",
  last_used_at: null,
};

describe("token parsers", () => {
  it("reads a listed token, never-used included", () => {
    expect(parseToken(row)).toEqual({
      id: 3,
      name: "nightly export",
      prefix: "fw_abcdefg",
      username: "ann",
      createdAt: "2026-01-01T00:00:00Z",
      expiresAt: "2026-04-01T00:00:00Z",
      lastUsedAt: null,
    });
    expect(parseToken({ ...row, id: "3" })).toBeNull();
    expect(parseToken(null)).toBeNull();
  });

  it("needs the key in a created token", () => {
    expect(parseNewToken({ ...row, key: "fw_secret" })?.key).toBe("fw_secret");
    expect(parseNewToken(row)).toBeNull();
    expect(parseNewToken({ ...row, key: "" })).toBeNull();
  });

  it("reads a page and drops malformed rows", () => {
    expect(parseTokenPage({ count: 2, results: [row, { nope: 1 }] })?.map((t) => t.id)).toEqual([3]);
    expect(parseTokenPage([row])).toBeNull();
  });

  it("shows never for an unused token", () => {
    const token = parseToken(row)!;
    expect(lastUsedText(token, () => "x")).toBe("never");
    expect(lastUsedText({ ...token, lastUsedAt: "2026-01-02T00:00:00Z" }, (iso) => iso)).toBe("2026-01-02T00:00:00Z");
  });
});

describe("tokenPayload", () => {
  it("sends the name, and the days only when given", () => {
    expect(tokenPayload({ name: "  ci ", days: "" })).toEqual({ ok: true, payload: { name: "ci" } });
    expect(tokenPayload({ name: "ci", days: "30" })).toEqual({ ok: true, payload: { name: "ci", expires_in_days: 30 } });
  });

  it("refuses an empty name and days that are not a positive whole number", () => {
    expect(tokenPayload({ name: " ", days: "" })).toEqual({ ok: false, errors: { name: "Give the token a name." } });
    for (const days of ["0", "-1", "1.5", "x", "999999"]) {
      const result = tokenPayload({ name: "ci", days });
      expect(result.ok).toBe(false);
    }
  });
});
