/** Per annotator: how often the response shown first ended on top, against the rate chance
 * would give. A bar per annotator with the expected rate as a tick across it. */

import { type AnnotatorRow, biasIsNotable } from "../../review/dashboard";
import { fixed, percent } from "../../review/resource";

export function PositionBiasChart({ rows }: { rows: AnnotatorRow[] }) {
  const withData = rows.filter((r) => r.bias.observed !== null);
  if (withData.length === 0) return <p className="hint">No rankings to measure position bias on yet.</p>;
  const rowH = 26;
  const left = 120;
  const width = 520;
  const plot = width - left - 60;
  const height = withData.length * rowH + 24;
  return (
    <figure className="bias-chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Position bias: first-shown-on-top rate per annotator against chance">
        {[0, 0.5, 1].map((t) => (
          <g key={t}>
            <line className="grid" x1={left + t * plot} x2={left + t * plot} y1={0} y2={height - 18} />
            <text className="tick" x={left + t * plot} y={height - 4} textAnchor="middle">
              {percent(t)}
            </text>
          </g>
        ))}
        {withData.map((r, i) => {
          const y = i * rowH + 4;
          const observed = r.bias.observed ?? 0;
          const notable = biasIsNotable(r.bias);
          return (
            <g key={r.id} data-annotator={r.username}>
              <text className="label" x={left - 6} y={y + 14} textAnchor="end">
                {r.username}
              </text>
              <rect className={notable ? "bar notable" : "bar"} x={left} y={y + 3} width={observed * plot} height={rowH - 10}>
                <title>{`${r.username}: ${percent(observed)} first-shown on top, chance ${percent(r.bias.expected)}, p = ${fixed(r.bias.p, 3)}`}</title>
              </rect>
              {r.bias.expected !== null && (
                <line className="expected" x1={left + r.bias.expected * plot} x2={left + r.bias.expected * plot} y1={y} y2={y + rowH - 4} />
              )}
              <text className="tick" x={left + observed * plot + 4} y={y + 14}>
                {percent(observed)}
                {notable ? " !" : ""}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="hint">
        Bar: share of this annotator's rankings that put the first-shown response on top. Line: the share chance would give.
        “!” marks a rate above chance at p &lt; 0.01.
      </figcaption>
    </figure>
  );
}
