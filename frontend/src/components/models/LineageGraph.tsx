/** The lineage as an SVG graph: datasets, models, runs and generation jobs as boxes in layers,
 * left to right in the order things were made. Each box is a link named by its text, described
 * by what it connects to (in words); the edges are drawing only. */

import { useMemo, useState } from "react";
import { type EdgeKind, type LineageGraph as Graph, describeConnections, fittedSize, layoutLineage } from "../../review/lineage";

const LEGEND: [string, string][] = [
  ["dataset", "Dataset snapshot"],
  ["model", "Model"],
  ["run", "Training run"],
  ["job", "Generation job"],
];

const EDGE_LEGEND: [EdgeKind, string][] = [
  ["trained-on", "dataset → run"],
  ["base", "base model → run"],
  ["reward", "reward model → run"],
  ["output", "run → output model"],
  ["generated", "model → generation job"],
  ["parent", "parent → child model"],
];

export function LineageGraph({ graph, selected }: { graph: Graph; selected: string | null }) {
  const layout = useMemo(() => layoutLineage(graph, fittedSize(graph)), [graph]);
  const [hover, setHover] = useState<string | null>(null);
  const focus = hover ?? selected;
  const near = useMemo(() => {
    if (focus === null) return null;
    const keys = new Set([focus]);
    for (const e of graph.edges) {
      if (e.from === focus) keys.add(e.to);
      if (e.to === focus) keys.add(e.from);
    }
    return keys;
  }, [focus, graph]);
  const { nodeWidth: w } = layout;
  const h = fittedSize(graph).nodeHeight;
  return (
    <figure className="lineage-graph" aria-labelledby="lineage-graph-caption">
      <figcaption id="lineage-graph-caption">
        Lineage graph: {graph.nodes.length} nodes, {graph.edges.length} edges. Each box is a link; Tab moves through them.
      </figcaption>
      <ul className="graph-legend" aria-label="Legend">
        {LEGEND.map(([kind, label]) => (
          <li key={kind}>
            <span className={`swatch node-${kind}`} aria-hidden="true" /> {label}
          </li>
        ))}
        {EDGE_LEGEND.map(([kind, label]) => (
          <li key={kind}>
            <svg width="28" height="10" aria-hidden="true">
              <line className={`edge edge-${kind}`} x1="1" y1="5" x2="27" y2="5" />
            </svg>{" "}
            {label}
          </li>
        ))}
      </ul>
      <div className="graph-wrap">
        <svg width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} className="graph-svg">
          <defs>
            <marker
              id="lineage-arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="9"
              markerHeight="9"
              orient="auto-start-reverse"
            >
              <path d="M0 0 L10 5 L0 10 z" className="arrow-head" />
            </marker>
          </defs>
          <g aria-hidden="true">
            {layout.edges.map((e) => (
              <path
                key={`${e.from}>${e.to}`}
                d={e.d}
                className={`edge edge-${e.kind}${e.from === focus || e.to === focus ? " near" : ""}`}
                data-edge={`${e.from}>${e.to}`}
                markerEnd="url(#lineage-arrow)"
              />
            ))}
          </g>
          {layout.nodes.map((n) => (
            <a
              key={n.key}
              href={n.href}
              aria-label={`${n.title} ${n.detail}`}
              aria-describedby={`lineage-desc-${n.key}`}
              className={`graph-node node-${n.kind}${n.status ? ` status-${n.status}` : ""}${n.key === selected ? " selected" : ""}${near && !near.has(n.key) ? " faded" : ""}`}
              data-node={n.key}
              onMouseEnter={() => setHover(n.key)}
              onMouseLeave={() => setHover(null)}
              onFocus={() => setHover(n.key)}
              onBlur={() => setHover(null)}
            >
              <desc id={`lineage-desc-${n.key}`}>{describeConnections(n, graph)}</desc>
              <rect x={n.x} y={n.y} width={w} height={h} rx={6} />
              {/* Boxes are as wide as the longest name (fittedSize); past MAX_NODE_WIDTH the
                  nested viewport clips it at the box's edge, and the link still names it whole. */}
              <svg x={n.x} y={n.y} width={w - 4} height={h}>
                <text x={8} y={18}>
                  <tspan className="node-title">{n.title}</tspan>{" "}
                  <tspan className="node-detail" x={8} y={36}>
                    {n.detail}
                  </tspan>
                </text>
              </svg>
            </a>
          ))}
        </svg>
      </div>
    </figure>
  );
}
