/** What annotators record besides the ranking: flags (names, comma-separated) and rating
 * dimensions (a name and an integer scale each). */

import type { RatingRow } from "../../review/projectSettings";

export function CriteriaFieldset({
  flags,
  ratings,
  errors,
  onFlags,
  onRatings,
}: {
  flags: string;
  ratings: RatingRow[];
  errors: string[];
  onFlags: (flags: string) => void;
  onRatings: (ratings: RatingRow[]) => void;
}) {
  const change = (i: number, patch: Partial<RatingRow>) =>
    onRatings(ratings.map((row, j) => (j === i ? { ...row, ...patch } : row)));
  return (
    <fieldset className="criteria-fieldset" aria-describedby={errors.length ? "criteria-err" : undefined}>
      <legend>Criteria</legend>
      <div className="field">
        <label htmlFor="project-flags">Flags</label>
        <input
          id="project-flags"
          value={flags}
          aria-describedby="project-flags-hint"
          onChange={(e) => onFlags(e.target.value)}
        />
        <span id="project-flags-hint" className="hint small">
          Names separated by commas, e.g. “unsafe, off-topic”; annotators tick them per response.
        </span>
      </div>
      <p className="hint small">Rating dimensions: each response is scored on each, from min to max.</p>
      {ratings.map((row, i) => (
        <div className="rating-row" key={i} role="group" aria-label={`Dimension ${i + 1}`}>
          <label htmlFor={`rating-name-${i}`}>Name</label>
          <input id={`rating-name-${i}`} value={row.name} onChange={(e) => change(i, { name: e.target.value })} />
          <label htmlFor={`rating-min-${i}`}>Min</label>
          <input id={`rating-min-${i}`} inputMode="numeric" size={4} value={row.min} onChange={(e) => change(i, { min: e.target.value })} />
          <label htmlFor={`rating-max-${i}`}>Max</label>
          <input id={`rating-max-${i}`} inputMode="numeric" size={4} value={row.max} onChange={(e) => change(i, { max: e.target.value })} />
          <button type="button" aria-label={`Remove dimension ${i + 1}`} onClick={() => onRatings(ratings.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onRatings([...ratings, { name: "", min: "1", max: "5" }])}>
        Add a rating dimension
      </button>
      {errors.length > 0 && (
        <ul id="criteria-err" className="field-error">
          {errors.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
