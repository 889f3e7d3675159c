/** The loop's progress across rounds: the policy's trait rate (from the base policy on), the
 * reward model's held-out accuracy and the new policy's win-rate, one line each on a shared
 * 0–100 % axis, told apart by colour, dash and marker shape; the numbers also as a table. */

import { type RoundSeries, roundChartLayout, roundChartSummary } from "../../review/loop";

const FRAME = { width: 560, height: 220, left: 40, right: 12, top: 12, bottom: 28 };

function Marker({ kind, x, y }: { kind: RoundSeries["key"]; x: number; y: number }) {
  if (kind === "rm_accuracy") return <rect className="marker" x={x - 3.5} y={y - 3.5} width={7} height={7} />;
  if (kind === "win_rate") return <path className="marker" d={`M${x} ${y - 4.5} L${x + 4.5} ${y + 3.5} L${x - 4.5} ${y + 3.5} Z`} />;
  return <circle className="marker" cx={x} cy={y} r={3.5} />;
}

export function RoundsChart({ series }: { series: RoundSeries[] }) {
  const layout = roundChartLayout(series, FRAME);
  const summary = roundChartSummary(series);
  const rounds = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const valueAt = (s: RoundSeries, x: number) => s.points.find((p) => p.x === x)?.y;
  return (
    <figure className="rounds-chart">
      <figcaption>
        <strong>Across rounds</strong>
        <ul className="chart-legend" aria-hidden="true">
          {series.map((s) => (
            <li key={s.key} className={`legend-${s.key}`}>
              <svg width="26" height="10" viewBox="0 0 26 10">
                <line className={`series series-${s.key}`} x1={0} x2={26} y1={5} y2={5} />
                <g className={`series-${s.key}`}>
                  <Marker kind={s.key} x={13} y={5} />
                </g>
              </svg>
              {s.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <svg viewBox={`0 0 ${FRAME.width} ${FRAME.height}`} role="img" aria-label={`Evaluation across rounds. ${summary}`}>
        {layout.yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line className="grid" x1={layout.plot.x0} x2={layout.plot.x1} y1={t.y} y2={t.y} />
            <text className="tick" x={layout.plot.x0 - 4} y={t.y + 3} textAnchor="end">
              {Math.round(t.value * 100)}%
            </text>
          </g>
        ))}
        <line className="axis" x1={layout.plot.x0} x2={layout.plot.x1} y1={layout.plot.y0} y2={layout.plot.y0} />
        {layout.xTicks.map((t) => (
          <text key={`x${t.value}`} className="tick" x={t.x} y={layout.plot.y0 + 14} textAnchor="middle">
            {t.label}
          </text>
        ))}
        <text className="tick" x={layout.plot.x1} y={FRAME.height - 2} textAnchor="end">
          round
        </text>
        {layout.series.map((s) => (
          <g key={s.key} className={`series-${s.key}`} data-series={s.key} data-points={s.points.length}>
            {s.path && <path className={`series series-${s.key}`} d={s.path} />}
            {s.points.map((p) => (
              <g key={p.round}>
                <Marker kind={s.key} x={p.x} y={p.y} />
                <title>{`${s.label}, ${p.round === 0 ? "base policy" : `round ${p.round}`}: ${Math.round(p.value * 100)}%`}</title>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <details className="chart-data">
        <summary>The chart's numbers</summary>
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Round</th>
              {series.map((s) => (
                <th key={s.key} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rounds.map((x) => (
              <tr key={x}>
                <th scope="row">{x === 0 ? "Base policy" : `Round ${x}`}</th>
                {series.map((s) => {
                  const v = valueAt(s, x);
                  return <td key={s.key}>{v === undefined ? "–" : `${Math.round(v * 100)}%`}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
