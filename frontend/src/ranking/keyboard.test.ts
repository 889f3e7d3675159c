import { describe, expect, it } from "vitest";
import { type KeyLike, SHORTCUTS, commandFor, isTypingTarget } from "./keyboard";

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe("commandFor", () => {
  it("selects with 1–9 (not 0)", () => {
    expect(commandFor(key("1"))).toEqual({ kind: "select", number: 1 });
    expect(commandFor(key("9"))).toEqual({ kind: "select", number: 9 });
    expect(commandFor(key("0"))).toBeNull();
  });

  it("moves with arrows and j/k; ties and splits with shift+arrows, t and u", () => {
    expect(commandFor(key("ArrowUp"))?.kind).toBe("up");
    expect(commandFor(key("k"))?.kind).toBe("up");
    expect(commandFor(key("ArrowDown"))?.kind).toBe("down");
    expect(commandFor(key("j"))?.kind).toBe("down");
    expect(commandFor(key("ArrowUp", { shiftKey: true }))?.kind).toBe("tie");
    expect(commandFor(key("t"))?.kind).toBe("tie");
    expect(commandFor(key("ArrowDown", { shiftKey: true }))?.kind).toBe("split");
    expect(commandFor(key("u"))?.kind).toBe("split");
  });

  it("submits, skips, helps", () => {
    expect(commandFor(key("Enter"))?.kind).toBe("submit");
    expect(commandFor(key("s"))?.kind).toBe("skip");
    expect(commandFor(key("?", { shiftKey: true }))?.kind).toBe("help");
    expect(commandFor(key("Escape"))?.kind).toBe("escape");
  });

  it("leaves browser shortcuts alone", () => {
    expect(commandFor(key("s", { ctrlKey: true }))).toBeNull();
    expect(commandFor(key("1", { metaKey: true }))).toBeNull();
    expect(commandFor(key("ArrowUp", { altKey: true }))).toBeNull();
    expect(commandFor(key("x"))).toBeNull();
  });

  it("documents every command it maps", () => {
    expect(SHORTCUTS.length).toBeGreaterThanOrEqual(10);
  });

  it("is not typing outside the DOM", () => {
    expect(isTypingTarget(null)).toBe(false);
  });
});
