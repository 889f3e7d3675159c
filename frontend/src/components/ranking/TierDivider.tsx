/**
 * The line between two tiers ("better above, worse below"); while a response is dragged it is
 * also a drop zone that makes a new tier of its own there.
 */

import { useDroppable } from "@dnd-kit/core";

export function TierDivider({ gap, dragging, position }: { gap: number; dragging: boolean; position: "top" | "between" | "bottom" }) {
  const { setNodeRef, isOver } = useDroppable({ id: `gap:${gap}` });
  const label =
    position === "top" ? "New best tier" : position === "bottom" ? "New worst tier" : "New tier here";
  return (
    <div
      ref={setNodeRef}
      className={`tier-divider${dragging ? " dragging" : ""}${isOver ? " over" : ""} ${position}`}
      data-gap={gap}
      aria-hidden="true"
    >
      <span className="tier-divider-label">{dragging ? label : position === "between" ? "▲ better · worse ▼" : ""}</span>
    </div>
  );
}
