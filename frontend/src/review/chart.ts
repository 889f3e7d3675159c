/** Scales, ticks and paths for the SVG charts (LineChart, BarChart). Pure. */

export interface Point {
  x: number;
  y: number;
}

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the middle. */
export function linearScale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** Min and max of the values, widened so that a flat line still gets a visible band. */
export function extent(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

/** About `count` round tick values (1, 2 or 5 × 10ⁿ apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** A short label for a tick or a value: 0.0123 → "0.0123", 12345 → "1.23e+4". */
export function shortNumber(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** The SVG path ("M x y L x y …") through the points, in x order. */
export function linePath(points: Point[], sx: (v: number) => number, sy: (v: number) => number): string {
  return [...points]
    .sort((a, b) => a.x - b.x)
    .map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)}`)
    .join(" ");
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Scales of a line chart: x over the steps, y over the values (both padded to be visible). */
export function lineScales(points: Point[], frame: Frame) {
  const xs = extent(points.map((p) => p.x));
  const ys = extent(points.map((p) => p.y));
  return {
    x: linearScale(xs, [frame.left, frame.width - frame.right]),
    y: linearScale(ys, [frame.height - frame.bottom, frame.top]),
    xDomain: xs,
    yDomain: ys,
  };
}
