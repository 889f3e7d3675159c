/**
 * The board: tiers best → worst, each a row of responses (several in a row are tied), with a
 * TierDivider between tiers. Drag a response onto a tier to tie it there, or onto a divider to
 * give it a tier of its own at that place.
 */

import {
  DndContext,
  type DragEndEvent,
  DragOverlay,
  type DragStartEvent,
  PointerSensor,
  pointerWithin,
  useDroppable,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { Fragment, type ReactNode, useState } from "react";
import type { CandidateId, RankingState } from "../../ranking/state";
import { describePlace, responseNumber } from "../../ranking/state";
import type { DropTarget } from "../../ranking/workspace";
import { TierDivider } from "./TierDivider";

function tierLabel(index: number, count: number): string {
  if (count === 1) return "Tier 1";
  if (index === 0) return "Tier 1 · best";
  if (index === count - 1) return `Tier ${index + 1} · worst`;
  return `Tier ${index + 1}`;
}

function Tier({ index, count, size, allowTies, dragging, children }: {
  index: number; count: number; size: number; allowTies: boolean; dragging: boolean; children: ReactNode;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: `tier:${index}`, disabled: !allowTies });
  const label = tierLabel(index, count);
  return (
    <div
      ref={setNodeRef}
      role="group"
      className={`tier${size > 1 ? " tied" : ""}${isOver ? " over" : ""}${dragging && allowTies ? " droppable" : ""}`}
      data-tier-index={index}
      aria-label={`${label}${size > 1 ? `, ${size} tied` : ""}`}
    >
      <div className="tier-head" aria-hidden="true">
        <span className="tier-label">{label}</span>
        {size > 1 && <span className="tie-badge">tie · {size}</span>}
        {dragging && allowTies && <span className="tier-drop-hint">drop here to tie</span>}
      </div>
      <div className="tier-cards">{children}</div>
    </div>
  );
}

export function RankingBoard({
  state,
  renderCard,
  onDrop,
  onDragStart,
}: {
  state: RankingState;
  renderCard: (id: CandidateId, tierIndex: number) => ReactNode;
  onDrop: (id: CandidateId, target: DropTarget) => void;
  onDragStart: (id: CandidateId) => void;
}) {
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }));
  const [active, setActive] = useState<CandidateId | null>(null);

  function start(event: DragStartEvent) {
    const id = Number(String(event.active.id).split(":")[1]);
    setActive(id);
    onDragStart(id);
  }

  function end(event: DragEndEvent) {
    setActive(null);
    const id = Number(String(event.active.id).split(":")[1]);
    const over = event.over ? String(event.over.id) : null;
    if (!over) return;
    const [kind, index] = over.split(":");
    if (kind === "tier" || kind === "gap") onDrop(id, { kind, index: Number(index) });
  }

  const count = state.tiers.length;
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={pointerWithin}
      onDragStart={start}
      onDragEnd={end}
      onDragCancel={() => setActive(null)}
      accessibility={{
        announcements: {
          onDragStart: () => "Picked up a response.",
          onDragOver: () => undefined,
          onDragEnd: ({ active: a, over }) =>
            over ? `Dropped. ${describePlace(state, Number(String(a.id).split(":")[1]))}` : "Dropped back where it was.",
          onDragCancel: () => "Drag cancelled.",
        },
        screenReaderInstructions: {
          draggable: "Drag with a pointer, or use the move buttons and the keyboard shortcuts (press ? for the list).",
        },
      }}
    >
      <div className={`ranking-board${state.notRankable ? " not-rankable" : ""}`} >
        {state.tiers.map((tier, index) => (
          <Fragment key={tier.join("-")}>
            <TierDivider gap={index} dragging={active !== null} position={index === 0 ? "top" : "between"} />
            <Tier index={index} count={count} size={tier.length} allowTies={state.allowTies} dragging={active !== null}>
              {tier.map((id) => (
                <Fragment key={id}>{renderCard(id, index)}</Fragment>
              ))}
            </Tier>
          </Fragment>
        ))}
        <TierDivider gap={count} dragging={active !== null} position="bottom" />
      </div>
      <DragOverlay dropAnimation={null}>
        {active !== null ? (
          <div className="drag-preview">
            <span className="key-badge">{responseNumber(state, active)}</span> Response {responseNumber(state, active)}
          </div>
        ) : null}
      </DragOverlay>
    </DndContext>
  );
}
