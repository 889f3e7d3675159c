import { describe, expect, it } from "vitest";
import { membersPayload, parseMember, parseMemberList, parseMemberPage, usernamesIn } from "./members";

const row = {
  user: 4,
  username: "ann",
  role: "annotator",
  account_role: "annotator",
  added_by: "admin",
  added_at: "2026-12-07T10:00:00Z",
};

describe("parseMember", () => {
  it("reads a member", () => {
    expect(parseMember(row)).toEqual({
      user: 4,
      username: "ann",
      role: "annotator",
      accountRole: "annotator",
      addedBy: "admin",
      addedAt: "2026-12-07T10:00:00Z",
    });
  });

  it("refuses a role that is not a project role, and a missing user", () => {
    expect(parseMember({ ...row, role: "admin" })).toBeNull();
    expect(parseMember({ ...row, user: "4" })).toBeNull();
  });

  it("reads the bulk add's answer", () => {
    expect(parseMemberList({ members: [row] })?.map((m) => m.username)).toEqual(["ann"]);
    expect(parseMemberList([row])).toBeNull();
  });

  it("reads a page, and refuses one with a bad row", () => {
    expect(parseMemberPage({ count: 1, results: [row] })?.members[0]?.username).toBe("ann");
    expect(parseMemberPage({ count: 2, results: [row, { ...row, username: 5 }] })).toBeNull();
  });
});

describe("membersPayload", () => {
  it("splits on commas, semicolons and whitespace, each name once (any case)", () => {
    expect(usernamesIn(" ann, bob;\ncy  Ann\n\n")).toEqual(["ann", "bob", "cy"]);
  });

  it("builds the bulk add's body", () => {
    expect(membersPayload("ann\nbob", "reviewer")).toEqual({ ok: true, payload: { users: ["ann", "bob"], role: "reviewer" } });
  });

  it("names what is missing", () => {
    expect(membersPayload("  ", "owner")).toEqual({ ok: false, errors: { users: "Name at least one user.", role: "Choose a role." } });
  });
});
