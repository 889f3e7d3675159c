/**
 * One response on the board: its number (the key that selects it), where it stands, buttons
 * to move it, the response as sanitised markdown (long ones collapsed), flags and ratings.
 */

import { useDraggable } from "@dnd-kit/core";
import type { Criteria } from "../../projects";
import type { Candidate } from "../../task";
import { Markdown } from "../shared/Markdown";

export interface ResponseCardProps {
  candidate: Candidate;
  number: number;
  place: string;
  tierIndex: number;
  tierCount: number;
  tied: boolean;
  selected: boolean;
  long: boolean;
  expanded: boolean;
  comparing: boolean;
  allowTies: boolean;
  criteria: Criteria;
  flags: string[];
  ratings: Record<string, number>;
  onSelect: () => void;
  onMove: (action: "up" | "down" | "tie" | "split") => void;
  onToggleExpand: () => void;
  onToggleCompare: () => void;
  onFlag: (flag: string) => void;
  onRating: (dimension: string, value: number | null) => void;
}

function range(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

export function ResponseCard(props: ResponseCardProps) {
  const { candidate, number, place, tierIndex, tierCount, tied, selected, long, expanded } = props;
  const { listeners, setNodeRef, isDragging } = useDraggable({ id: `cand:${candidate.id}` });
  const titleId = `response-${candidate.id}-title`;
  const bodyId = `response-${candidate.id}-body`;
  return (
    <article
      className={`response-card${selected ? " selected" : ""}${isDragging ? " dragging" : ""}`}
      data-candidate-id={candidate.id}
      data-number={number}
      tabIndex={0}
      aria-labelledby={titleId}
      aria-describedby={`${titleId}-place`}
      aria-current={selected ? "true" : undefined}
      onFocus={(e) => {
        if (e.target === e.currentTarget) props.onSelect();
      }}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest("button, input, select, label, a")) return;
        props.onSelect();
      }}
    >
      <header className="card-head">
        <div
          ref={setNodeRef}
          className="drag-handle"
          {...listeners}
          title="Drag to another tier (drop on a tier to tie, on a line for a new tier)"
        >
          <span aria-hidden="true" className="grip">⠿</span>
          <h3 id={titleId}>
            <span className="key-badge" aria-hidden="true">{number}</span> Response {number}
          </h3>
        </div>
        <span id={`${titleId}-place`} className="place">{place}</span>
        <div className="card-actions" role="group" aria-label={`Move response ${number}`}>
          <button type="button" className="icon" onClick={() => props.onMove("up")}
            disabled={tierIndex === 0 && !tied} aria-label={`Move response ${number} up`} title="Move up (↑ or k)">↑</button>
          <button type="button" className="icon" onClick={() => props.onMove("down")}
            disabled={tierIndex === tierCount - 1 && !tied} aria-label={`Move response ${number} down`} title="Move down (↓ or j)">↓</button>
          {props.allowTies && (
            <button type="button" className="icon" onClick={() => props.onMove("tie")}
              disabled={tierIndex === 0} aria-label={`Tie response ${number} with the tier above`} title="Tie with the tier above (t)">=↑</button>
          )}
          {props.allowTies && (
            <button type="button" className="icon" onClick={() => props.onMove("split")}
              disabled={!tied} aria-label={`Untie response ${number}`} title="Split out of the tie (u)">≠</button>
          )}
          <button type="button" className={`icon${props.comparing ? " pressed" : ""}`} aria-pressed={props.comparing}
            onClick={props.onToggleCompare} aria-label={`Compare response ${number}`} title="Compare side by side (c)">⇆</button>
        </div>
      </header>
      <Markdown id={bodyId} source={candidate.text} className={long && !expanded ? "collapsed" : undefined} />
      {long && (
        <button type="button" className="link-button expand" aria-expanded={expanded} aria-controls={bodyId}
          onClick={props.onToggleExpand}>
          {expanded ? "Show less" : "Show all"}<span className="visually-hidden"> of response {number}</span>
        </button>
      )}
      {(props.criteria.flags.length > 0 || props.criteria.ratings.length > 0) && (
        <footer className="card-criteria">
          {props.criteria.flags.length > 0 && (
            <fieldset className="flags">
              <legend className="visually-hidden">Flags for response {number}</legend>
              {props.criteria.flags.map((flag) => (
                <label key={flag} className="check">
                  <input type="checkbox" checked={props.flags.includes(flag)} onChange={() => props.onFlag(flag)} />
                  {flag}
                  <span className="visually-hidden"> (response {number})</span>
                </label>
              ))}
            </fieldset>
          )}
          {props.criteria.ratings.map((dim) => {
            const id = `rating-${candidate.id}-${dim.name}`;
            const value = props.ratings[dim.name];
            return (
              <span key={dim.name} className="rating">
                <label htmlFor={id}>
                  {dim.name}
                  <span className="visually-hidden"> of response {number}</span>
                </label>
                <select id={id} value={value === undefined ? "" : String(value)}
                  onChange={(e) => props.onRating(dim.name, e.target.value === "" ? null : Number(e.target.value))}>
                  <option value="">–</option>
                  {range(dim.min, dim.max).map((n) => (
                    <option key={n} value={n}>{n}</option>
                  ))}
                </select>
              </span>
            );
          })}
        </footer>
      )}
    </article>
  );
}
