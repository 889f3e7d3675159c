import { describe, expect, it } from "vitest";
import { emptyModelRegisterForm, modelRegisterPayload } from "./modelRegistration";

describe("modelRegisterPayload", () => {
  it("sends the name, directory and kind, and a parent only when one is picked", () => {
    const form = { ...emptyModelRegisterForm(), name: " qwen-0.5b ", path: " /models/qwen " };
    expect(modelRegisterPayload(form)).toEqual({ ok: true, payload: { name: "qwen-0.5b", path: "/models/qwen", kind: "base" } });
    expect(modelRegisterPayload({ ...form, kind: "sft", parent: "3" })).toEqual({
      ok: true,
      payload: { name: "qwen-0.5b", path: "/models/qwen", kind: "sft", parent: 3 },
    });
  });

  it("names what is missing with the API's field names", () => {
    expect(modelRegisterPayload({ name: "", path: "", kind: "giant", parent: "x" })).toEqual({
      ok: false,
      errors: { name: "Give the model a name.", path: "The model's directory on the server.", kind: "Choose a kind.", parent: "Choose a model." },
    });
  });
});
