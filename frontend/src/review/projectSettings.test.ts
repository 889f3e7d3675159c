import { describe, expect, it } from "vitest";
import {
  criteriaErrors,
  emptyProjectForm,
  formFromSettings,
  importOutcomeFrom,
  importedText,
  otherErrors,
  parseProjectSettings,
  projectPayload,
  rowErrors,
  splitNames,
} from "./projectSettings";
import { parseProject } from "../projects";
import { emptyUserForm, parseUserPage, userPayload } from "./users";

describe("projectPayload", () => {
  it("sends the server's defaults for a new project, lease in seconds", () => {
    const form = { ...emptyProjectForm(), name: " Helpfulness ", flags: "unsafe, off-topic,," };
    expect(projectPayload(form, true)).toEqual({
      ok: true,
      payload: {
        name: "Helpfulness",
        k: 4,
        annotations_per_set: 1,
        guidelines: "",
        criteria: { flags: ["unsafe", "off-topic"], ratings: [] },
        allow_ties: true,
        show_ai_suggestion: false,
        lease_seconds: 1800,
        gold_rate: 0,
      },
    });
  });

  it("leaves K out of an edit: it is fixed once the project exists", () => {
    const built = projectPayload({ ...emptyProjectForm(), name: "x", k: "" }, false);
    expect(built.ok && "k" in built.payload).toBe(false);
    expect(built.ok).toBe(true);
  });

  it("leaves ranges to the server, whose refusal lands at the same field", () => {
    const built = projectPayload({ ...emptyProjectForm(), name: "x", k: "12", goldRate: "0.9" }, true);
    expect(built.ok && built.payload.k === 12 && built.payload.gold_rate === 0.9).toBe(true);
  });

  it("names each bad field with the API's name", () => {
    const form = {
      ...emptyProjectForm(),
      k: "three",
      annotationsPerSet: "",
      leaseMinutes: "2.5",
      goldRate: "a tenth",
      flags: "a, a",
      ratings: [
        { name: "", min: "1", max: "5" },
        { name: "clarity", min: "5", max: "1" },
      ],
    };
    const built = projectPayload(form, true);
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(Object.keys(built.errors).sort()).toEqual(
      ["annotations_per_set", "criteria.flags", "criteria.ratings[0]", "criteria.ratings[1]", "gold_rate", "k", "lease_seconds", "name"].sort(),
    );
    expect(criteriaErrors(built.errors)).toEqual([
      "Flags: Flag names must be unique.",
      "Dimension 1: Give the dimension a name.",
      "Dimension 2: Min must be less than max.",
    ]);
  });

  it("refuses two dimensions with one name", () => {
    const ratings = [
      { name: "clarity", min: "1", max: "5" },
      { name: "clarity", min: "0", max: "3" },
    ];
    const built = projectPayload({ ...emptyProjectForm(), name: "x", ratings }, true);
    expect(built).toEqual({ ok: false, errors: { "criteria.ratings": "Dimension names must be unique." } });
  });

  it("keeps a server error on an unknown field apart", () => {
    expect(otherErrors({ name: "Taken.", slug: "Taken.", "criteria.flags": "x" })).toEqual(["slug: Taken."]);
  });

  it("splits names on commas and lines", () => {
    expect(splitNames(" a,b\n c ,, ")).toEqual(["a", "b", "c"]);
  });
});

describe("a project's settings", () => {
  const body = {
    id: 7, name: "P", slug: "p", k: 3, annotations_per_set: 2, guidelines: "# Hi", allow_ties: false,
    show_ai_suggestion: true, lease_seconds: 900, gold_rate: 0.1, current_policy: null, created_at: "2026-01-01T00:00:00Z",
    prompt_count: 5, set_count: 4, complete_set_count: 1,
    criteria: { flags: ["unsafe"], ratings: [{ name: "clarity", min: 1, max: 5 }] },
  };

  it("fill the edit form, and a save sends them back unchanged", () => {
    const settings = parseProjectSettings(body, parseProject(body));
    expect(settings).not.toBeNull();
    if (!settings) return;
    expect(settings.promptCount).toBe(5);
    const form = formFromSettings(settings);
    expect(form).toMatchObject({ k: "3", annotationsPerSet: "2", leaseMinutes: "15", goldRate: "0.1", flags: "unsafe" });
    expect(projectPayload(form, false)).toEqual({
      ok: true,
      payload: {
        name: "P", annotations_per_set: 2, guidelines: "# Hi", allow_ties: false, show_ai_suggestion: true,
        lease_seconds: 900, gold_rate: 0.1, criteria: { flags: ["unsafe"], ratings: [{ name: "clarity", min: 1, max: 5 }] },
      },
    });
  });
});

describe("imports", () => {
  it("lists the server's row errors by row, apart from the rest", () => {
    expect(
      rowErrors({ "rows[12].candidates": ["Expected 3."], "rows[3].prompt": ["Required.", "Or messages."], rows: ["Too many."], "rows[3]": ["Bad."] }),
    ).toEqual({
      rows: [
        { row: 3, field: "prompt", message: "Required. Or messages." },
        { row: 3, field: "", message: "Bad." },
        { row: 12, field: "candidates", message: "Expected 3." },
      ],
      other: ["rows: Too many."],
    });
  });

  it("reads a 201 as the count imported, a 400 as its detail and rows, a 401 as signed out", () => {
    expect(importOutcomeFrom(201, { created: 2, ids: [1, 2] }, "")).toEqual({ kind: "imported", created: 2 });
    expect(importOutcomeFrom(400, { detail: "1 of 2 row(s) are invalid", errors: { "rows[2].prompt": ["Required."] } }, "")).toEqual({
      kind: "refused",
      message: "1 of 2 row(s) are invalid",
      rows: [{ row: 2, field: "prompt", message: "Required." }],
      other: [],
    });
    expect(importOutcomeFrom(401, null, "")).toEqual({ kind: "signed-out" });
    expect(importOutcomeFrom(500, null, "The server answered 500.")).toMatchObject({ kind: "refused", message: "The server answered 500." });
  });

  it("says how many were imported", () => {
    expect(importedText("prompts", 1)).toBe("Imported 1 prompt.");
    expect(importedText("candidate-sets", 3)).toBe("Imported 3 candidate sets.");
  });
});

describe("users", () => {
  it("builds the create body and refuses what the server would", () => {
    expect(userPayload({ ...emptyUserForm(), username: " ann ", password: "pw" })).toEqual({
      ok: true,
      payload: { username: "ann", password: "pw", role: "annotator" },
    });
    expect(userPayload({ username: "a b", password: "", role: "boss", email: "" })).toEqual({
      ok: false,
      errors: { username: "Letters, digits and @/./+/-/_ only (at most 150).", password: "Set a password.", role: "Choose a role." },
    });
  });

  it("reads a page of users, leaving out unreadable rows", () => {
    const page = parseUserPage({ count: 3, results: [{ id: 1, username: "a", email: "", role: "admin", is_active: true, date_joined: "x" }, { id: "2" }] });
    expect(page?.count).toBe(3);
    expect(page?.users.map((u) => u.username)).toEqual(["a"]);
  });
});
