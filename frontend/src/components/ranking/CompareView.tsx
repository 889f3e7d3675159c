/** Two responses side by side, in full. */

import type { Candidate } from "../../task";
import { Markdown } from "../shared/Markdown";
import { Modal } from "../shared/Modal";

export function CompareView({
  left,
  right,
  numberOf,
  placeOf,
  onClose,
}: {
  left: Candidate;
  right: Candidate;
  numberOf: (id: number) => number;
  placeOf: (id: number) => string;
  onClose: () => void;
}) {
  return (
    <Modal
      title={`Compare response ${numberOf(left.id)} and response ${numberOf(right.id)}`}
      onClose={onClose}
      className="compare-view"
    >
      <div className="compare-columns">
        {[left, right].map((c) => (
          <section key={c.id} aria-labelledby={`compare-${c.id}`} className="compare-column">
            <h3 id={`compare-${c.id}`}>Response {numberOf(c.id)}</h3>
            <p className="hint">{placeOf(c.id)}</p>
            <Markdown source={c.text} />
          </section>
        ))}
      </div>
    </Modal>
  );
}
