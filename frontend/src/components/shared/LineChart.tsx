/** One metric over training steps as an SVG line with its points, axes and a text summary. */

import { type Point, lineScales, linePath, niceTicks, shortNumber } from "../../review/chart";

const FRAME = { width: 320, height: 180, left: 48, right: 12, top: 12, bottom: 28 };

export function LineChart({ title, points, id }: { title: string; points: Point[]; id: string }) {
  const last = points.length ? points[points.length - 1] : undefined;
  const summary = last
    ? `${points.length} points; latest ${shortNumber(last.y)} at step ${last.x}`
    : "no points yet";
  const { x, y, xDomain, yDomain } = lineScales(points, FRAME);
  const yTicks = niceTicks(yDomain[0], yDomain[1], 4);
  const xTicks = niceTicks(xDomain[0], xDomain[1], 4).filter((t) => Number.isInteger(t));
  return (
    <figure className="metric-chart" data-metric={id} data-points={points.length}>
      <figcaption>
        <strong>{title}</strong> <span className="hint">{summary}</span>
      </figcaption>
      <svg viewBox={`0 0 ${FRAME.width} ${FRAME.height}`} role="img" aria-label={`${title}: ${summary}`}>
        <line className="axis" x1={FRAME.left} x2={FRAME.left} y1={FRAME.top} y2={FRAME.height - FRAME.bottom} />
        <line
          className="axis"
          x1={FRAME.left}
          x2={FRAME.width - FRAME.right}
          y1={FRAME.height - FRAME.bottom}
          y2={FRAME.height - FRAME.bottom}
        />
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line className="grid" x1={FRAME.left} x2={FRAME.width - FRAME.right} y1={y(t)} y2={y(t)} />
            <text className="tick" x={FRAME.left - 4} y={y(t) + 3} textAnchor="end">
              {shortNumber(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={`x${t}`} className="tick" x={x(t)} y={FRAME.height - FRAME.bottom + 14} textAnchor="middle">
            {shortNumber(t)}
          </text>
        ))}
        <text className="tick" x={FRAME.width - FRAME.right} y={FRAME.height - 2} textAnchor="end">
          step
        </text>
        {points.length > 1 && <path className="series" d={linePath(points, x, y)} />}
        {points.map((p) => (
          <circle key={p.x} className="point" cx={x(p.x)} cy={y(p.y)} r={3}>
            <title>{`step ${p.x}: ${shortNumber(p.y)}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}
