/** Rankings per day as SVG bars (the last 30 days that have any), with a table for screen readers. */

import { linearScale, niceTicks } from "../../review/chart";

const W = 560;
const H = 160;
const PAD = { left: 36, right: 8, top: 10, bottom: 24 };

export function ThroughputChart({ days }: { days: { day: string; rankings: number }[] }) {
  const shown = days.slice(-30);
  if (shown.length === 0) return <p className="hint">No rankings yet.</p>;
  const max = Math.max(1, ...shown.map((d) => d.rankings));
  const y = linearScale([0, max], [H - PAD.bottom, PAD.top]);
  const slot = (W - PAD.left - PAD.right) / shown.length;
  const bar = Math.max(2, Math.min(40, slot * 0.7));
  return (
    <figure className="bar-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Rankings per day over ${shown.length} days, at most ${max} a day`}>
        {niceTicks(0, max, 3).map((t) => (
          <g key={t}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="tick" x={PAD.left - 4} y={y(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {shown.map((d, i) => {
          const cx = PAD.left + slot * i + slot / 2;
          return (
            <g key={d.day}>
              <rect className="bar" x={cx - bar / 2} y={y(d.rankings)} width={bar} height={H - PAD.bottom - y(d.rankings)}>
                <title>{`${d.day}: ${d.rankings} rankings`}</title>
              </rect>
              {(shown.length <= 8 || i % Math.ceil(shown.length / 8) === 0) && (
                <text className="tick" x={cx} y={H - 8} textAnchor="middle">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
