/** The project's guidelines (markdown written by an admin, sanitised like everything else). */

import { Markdown } from "../shared/Markdown";

export function GuidelinesPanel({ guidelines, open, onToggle }: { guidelines: string; open: boolean; onToggle: () => void }) {
  return (
    <section className="guidelines-panel panel" aria-labelledby="guidelines-heading">
      <h2 id="guidelines-heading">
        <button
          type="button"
          className="disclosure"
          aria-expanded={open}
          aria-controls="guidelines-body"
          onClick={onToggle}
        >
          Guidelines <span className="key-hint" aria-hidden="true">g</span>
        </button>
      </h2>
      {open && (
        <div id="guidelines-body">
          {guidelines.trim() ? (
            <Markdown source={guidelines} />
          ) : (
            <p className="hint">This project has no written guidelines: rank best to worst.</p>
          )}
        </div>
      )}
    </section>
  );
}
