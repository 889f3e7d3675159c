/**
 * The workspace's keyboard shortcuts: which key does what, as data (the shortcuts dialog lists
 * them from here) and as a pure mapping from a key event to a command.
 */

export type Command =
  | { kind: "select"; number: number }
  | { kind: "up" }
  | { kind: "down" }
  | { kind: "tie" }
  | { kind: "split" }
  | { kind: "submit" }
  | { kind: "skip" }
  | { kind: "help" }
  | { kind: "expand" }
  | { kind: "compare" }
  | { kind: "guidelines" }
  | { kind: "escape" };

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export const SHORTCUTS: readonly { keys: string[]; does: string }[] = [
  { keys: ["1", "…", "9"], does: "Select response 1 to 9" },
  { keys: ["↑", "k"], does: "Move the selected response up (out of a tie, or above the tier above)" },
  { keys: ["↓", "j"], does: "Move the selected response down" },
  { keys: ["t", "Shift+↑"], does: "Tie: put the selected response in the tier above" },
  { keys: ["u", "Shift+↓"], does: "Untie: split the selected response out into its own tier" },
  { keys: ["e"], does: "Expand or collapse the selected response" },
  { keys: ["c"], does: "Add the selected response to a side-by-side comparison" },
  { keys: ["g"], does: "Show or hide the guidelines" },
  { keys: ["Enter"], does: "Submit the ranking" },
  { keys: ["s"], does: "Skip this set" },
  { keys: ["?"], does: "Show these shortcuts" },
  { keys: ["Esc"], does: "Close a dialog, or clear the selection" },
];

export function commandFor(event: KeyLike): Command | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const { key, shiftKey } = event;
  if (/^[1-9]$/.test(key)) return { kind: "select", number: Number(key) };
  switch (key) {
    case "ArrowUp":
      return shiftKey ? { kind: "tie" } : { kind: "up" };
    case "ArrowDown":
      return shiftKey ? { kind: "split" } : { kind: "down" };
    case "k":
      return { kind: "up" };
    case "j":
      return { kind: "down" };
    case "t":
      return { kind: "tie" };
    case "u":
      return { kind: "split" };
    case "Enter":
      return { kind: "submit" };
    case "s":
      return { kind: "skip" };
    case "?":
      return { kind: "help" };
    case "e":
      return { kind: "expand" };
    case "c":
      return { kind: "compare" };
    case "g":
      return { kind: "guidelines" };
    case "Escape":
      return { kind: "escape" };
    default:
      return null;
  }
}

/** Typing in a field (rationale, ratings) must never trigger a shortcut. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "button", "submit"].includes(type);
}
