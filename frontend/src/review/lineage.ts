/**
 * The lineage graph: models, training runs, dataset snapshots and generation jobs as nodes,
 * with the edges that made each thing (dataset → run, base/reward model → run, run → output
 * model, model → generation job, parent → child when no run in the graph explains it), and a
 * layered left-to-right layout for the SVG. Pure.
 *
 * Layout: longest-path layering (each node one layer right of its furthest-left input), then
 * sources pulled right next to their first consumer (a dataset sits just before its run, not
 * in layer 0), then a few barycenter sweeps to order each layer by where its neighbours are
 * (the Sugiyama et al. 1981 heuristic, without dummy nodes for long edges).
 */

import type { GenerationJob } from "./generation";
import type { ModelVersion } from "./models";
import type { Run } from "./runs";
import type { Snapshot } from "./datasets";

export type NodeKind = "dataset" | "model" | "run" | "job";
export type EdgeKind = "trained-on" | "base" | "reward" | "output" | "generated" | "parent";

export interface GraphNode {
  key: string;
  kind: NodeKind;
  id: number;
  /** Short text drawn in the box. */
  title: string;
  /** The second line: kind, status, counts. */
  detail: string;
  href: string;
  status: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface LineageGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface LineageInput {
  models: ModelVersion[];
  /** Optional: runs add their dataset and models even when they produced no model yet. */
  runs?: Run[];
  jobs?: GenerationJob[];
  /** Optional: names for the dataset nodes. */
  datasets?: Snapshot[];
}

const nodeKey = (kind: NodeKind, id: number) => `${kind}-${id}`;

export function lineageGraph({ models, runs = [], jobs = [], datasets = [] }: LineageInput): LineageGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const datasetName = new Map(datasets.map((d) => [d.id, d.name]));
  const runById = new Map(runs.map((r) => [r.id, r]));
  const modelById = new Map(models.map((m) => [m.id, m]));

  const addNode = (node: GraphNode) => {
    if (!nodes.has(node.key)) nodes.set(node.key, node);
  };
  const addEdge = (from: string, to: string, kind: EdgeKind) => {
    if (from !== to) edges.set(`${from}>${to}`, { from, to, kind });
  };
  const dataset = (id: number) => {
    addNode({ key: nodeKey("dataset", id), kind: "dataset", id, title: datasetName.get(id) ?? `Dataset #${id}`, detail: `dataset #${id}`, href: `#/datasets/${id}`, status: "" });
    return nodeKey("dataset", id);
  };
  const run = (id: number) => {
    const r = runById.get(id);
    addNode({
      key: nodeKey("run", id),
      kind: "run",
      id,
      title: `Run #${id}${r ? ` · ${r.kind.toUpperCase()}` : ""}`,
      detail: r ? r.status : "training run",
      href: `#/runs/${id}`,
      status: r?.status ?? "",
    });
    return nodeKey("run", id);
  };

  for (const m of models) {
    const what = m.adapterBase === null ? "model" : "adapter";
    addNode({ key: nodeKey("model", m.id), kind: "model", id: m.id, title: m.name, detail: `${m.kind} ${what} #${m.id}`, href: `#/models/${m.id}`, status: "" });
  }
  const model = (id: number) => (modelById.has(id) ? nodeKey("model", id) : null);

  for (const r of runs) {
    const key = run(r.id);
    addEdge(dataset(r.dataset), key, "trained-on");
    const base = model(r.baseModel);
    if (base) addEdge(base, key, "base");
    const reward = r.rewardModel === null ? null : model(r.rewardModel);
    if (reward) addEdge(reward, key, "reward");
    const output = r.outputModel === null ? null : model(r.outputModel);
    if (output) addEdge(key, output, "output");
  }
  for (const m of models) {
    const key = nodeKey("model", m.id);
    if (m.producedBy !== null) {
      const r = run(m.producedBy);
      addEdge(r, key, "output");
      if (m.dataset !== null) addEdge(dataset(m.dataset), r, "trained-on");
    }
    for (const id of m.usedByRuns) {
      // Without the run row, a model that a run uses is drawn as its base.
      if (!runById.has(id)) addEdge(key, run(id), "base");
    }
    for (const id of m.generationJobs) {
      const job = jobs.find((j) => j.id === id);
      addNode({
        key: nodeKey("job", id),
        kind: "job",
        id,
        title: `Generation #${id}`,
        detail: job ? `${job.status} · ${job.setsCreated} sets` : "generation job",
        href: job ? `#/projects/${job.project}/generate` : "#/models",
        status: job?.status ?? "",
      });
      addEdge(key, nodeKey("job", id), "generated");
    }
  }
  // parent → child, unless a run in the graph already leads from the parent to the child.
  for (const m of models) {
    if (m.parent === null || !modelById.has(m.parent)) continue;
    const parent = nodeKey("model", m.parent);
    const child = nodeKey("model", m.id);
    const implied = [...edges.values()].some(
      (e) => e.from === parent && e.to.startsWith("run-") && edges.has(`${e.to}>${child}`),
    );
    if (!implied) addEdge(parent, child, "parent");
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

// ------------------------------------------------------------------------------------ layout

export interface NodeBox extends GraphNode {
  layer: number;
  x: number;
  y: number;
}

export interface EdgePath extends GraphEdge {
  d: string;
  /** Where the edge crosses the layers between its ends (one point per layer, in the gap
   * kept free for it), so that no edge runs behind a box. */
  waypoints: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: NodeBox[];
  edges: EdgePath[];
  width: number;
  height: number;
  nodeWidth: number;
}

export interface LayoutSize {
  nodeWidth: number;
  nodeHeight: number;
  gapX: number;
  gapY: number;
  pad: number;
}

export const DEFAULT_SIZE: LayoutSize = { nodeWidth: 156, nodeHeight: 46, gapX: 44, gapY: 14, pad: 8 };
// Upper bounds of a character's width in the boxes' fonts (13px bold title, 11px detail), and
// the widest box: a name past that is cut at the box's edge (its link still says it whole).
const TITLE_CHAR_PX = 8.2;
const DETAIL_CHAR_PX = 6.6;
const TEXT_INSET_PX = 14;
export const MAX_NODE_WIDTH = 340;

/** The layout size whose boxes fit the graph's longest title and detail (issue 18: a box of
 * fixed width cut "tinyworld-base-seed0" to "tinyworld-base-seec"). */
export function fittedSize(graph: LineageGraph, size: LayoutSize = DEFAULT_SIZE): LayoutSize {
  const widest = Math.max(
    0,
    ...graph.nodes.map((n) => Math.max(n.title.length * TITLE_CHAR_PX, n.detail.length * DETAIL_CHAR_PX)),
  );
  const nodeWidth = Math.min(MAX_NODE_WIDTH, Math.max(size.nodeWidth, Math.ceil(widest + TEXT_INSET_PX)));
  return { ...size, nodeWidth };
}

const KIND_ORDER: Record<NodeKind, number> = { dataset: 0, model: 1, run: 2, job: 3 };
const byKindThenId = (a: GraphNode, b: GraphNode) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.id - b.id;

/** Layer of each node: longest path from a source, sources then moved next to their first
 * successor. A cycle (the data cannot have one) is broken where Kahn's algorithm stops. */
export function assignLayers(graph: LineageGraph): Map<string, number> {
  const preds = new Map<string, string[]>(graph.nodes.map((n) => [n.key, []]));
  const succs = new Map<string, string[]>(graph.nodes.map((n) => [n.key, []]));
  for (const e of graph.edges) {
    if (!preds.has(e.from) || !preds.has(e.to)) continue;
    preds.get(e.to)!.push(e.from);
    succs.get(e.from)!.push(e.to);
  }
  const indegree = new Map([...preds].map(([k, p]) => [k, p.length]));
  const ordered = [...graph.nodes].sort(byKindThenId).map((n) => n.key);
  const queue = ordered.filter((k) => indegree.get(k) === 0);
  const topo: string[] = [];
  while (queue.length > 0) {
    const k = queue.shift()!;
    topo.push(k);
    for (const s of succs.get(k)!) {
      indegree.set(s, indegree.get(s)! - 1);
      if (indegree.get(s) === 0) queue.push(s);
    }
  }
  for (const k of ordered) if (!topo.includes(k)) topo.push(k);

  const layer = new Map<string, number>();
  for (const k of topo) {
    const from = preds.get(k)!.filter((p) => layer.has(p));
    layer.set(k, from.length ? Math.max(...from.map((p) => layer.get(p)! + 1)) : 0);
  }
  for (const k of topo) {
    const next = succs.get(k)!;
    if (preds.get(k)!.length === 0 && next.length > 0) {
      layer.set(k, Math.max(0, Math.min(...next.map((s) => layer.get(s)!)) - 1));
    }
  }
  return layer;
}

/** The layers with a waypoint (a "dummy node", key starting with "~") wherever an edge spans
 * more than one layer, and each edge as the chain of keys it passes through. */
export interface Layered {
  layers: string[][];
  chains: Map<string, string[]>;
}

export function layerGraph(graph: LineageGraph): Layered {
  const layer = assignLayers(graph);
  const depth = Math.max(0, ...layer.values()) + 1;
  const layers: string[][] = Array.from({ length: depth }, () => []);
  for (const n of [...graph.nodes].sort(byKindThenId)) layers[layer.get(n.key)!]!.push(n.key);
  const chains = new Map<string, string[]>();
  for (const e of graph.edges) {
    const a = layer.get(e.from);
    const b = layer.get(e.to);
    if (a === undefined || b === undefined) continue;
    const chain = [e.from];
    for (let l = a + 1; l < b; l++) {
      const key = `~${e.from}>${e.to}@${l}`;
      layers[l]!.push(key);
      chain.push(key);
    }
    chain.push(e.to);
    chains.set(`${e.from}>${e.to}`, chain);
  }
  return { layers: orderLayers(layers, [...chains.values()]), chains };
}

/** Order within each layer by the barycenter of each item's neighbours in the layer before
 * (down sweeps) or after (up sweep): down, up, down. Items without neighbours keep their place. */
export function orderLayers(initial: string[][], chains: string[][]): string[][] {
  const layers = initial.map((l) => [...l]);
  const before = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  for (const chain of chains) {
    for (let i = 0; i + 1 < chain.length; i++) {
      const [u, v] = [chain[i]!, chain[i + 1]!];
      after.set(u, [...(after.get(u) ?? []), v]);
      before.set(v, [...(before.get(v) ?? []), u]);
    }
  }
  const position = new Map<string, number>();
  layers.forEach((keys) => keys.forEach((k, i) => position.set(k, i)));
  const sweep = (indices: number[], neighbours: Map<string, string[]>) => {
    for (const i of indices) {
      const keys = layers[i]!;
      const centre = new Map<string, number>();
      keys.forEach((k, idx) => {
        const ps = (neighbours.get(k) ?? []).filter((p) => position.has(p));
        centre.set(k, ps.length ? ps.reduce((sum, p) => sum + position.get(p)!, 0) / ps.length : idx);
      });
      layers[i] = keys
        .map((k, idx) => ({ k, idx }))
        .sort((a, b) => centre.get(a.k)! - centre.get(b.k)! || a.idx - b.idx)
        .map(({ k }) => k);
      layers[i]!.forEach((k, idx) => position.set(k, idx));
    }
  };
  const down = Array.from({ length: layers.length }, (_, i) => i).slice(1);
  sweep(down, before);
  sweep([...down].reverse().map((i) => i - 1), after);
  sweep(down, before);
  return layers;
}

/** Where each box and edge goes: layers left to right, each layer centred vertically. */
export function layoutLineage(graph: LineageGraph, size: LayoutSize = DEFAULT_SIZE): GraphLayout {
  if (graph.nodes.length === 0) return { nodes: [], edges: [], width: 0, height: 0, nodeWidth: size.nodeWidth };
  const { layers, chains } = layerGraph(graph);
  const rows = Math.max(...layers.map((l) => l.length));
  const stepX = size.nodeWidth + size.gapX;
  const stepY = size.nodeHeight + size.gapY;
  const at = new Map<string, { x: number; y: number; layer: number }>();
  layers.forEach((keys, li) => {
    const offset = ((rows - keys.length) * stepY) / 2;
    keys.forEach((k, i) => at.set(k, { x: size.pad + li * stepX, y: size.pad + offset + i * stepY, layer: li }));
  });
  const mid = size.nodeHeight / 2;
  const edges: EdgePath[] = [];
  for (const e of graph.edges) {
    const chain = chains.get(`${e.from}>${e.to}`);
    if (!chain) continue;
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const inner = chain.slice(1, -1).map((k) => at.get(k)!);
    // Ports: out of the source's right side, across each waypoint's column, into the target.
    const ports = [{ x: a.x + size.nodeWidth, y: a.y + mid }];
    for (const p of inner) ports.push({ x: p.x, y: p.y + mid }, { x: p.x + size.nodeWidth, y: p.y + mid });
    ports.push({ x: b.x, y: b.y + mid });
    edges.push({ ...e, d: portPath(ports), waypoints: inner.map((p) => ({ x: p.x + size.nodeWidth / 2, y: p.y + mid })) });
  }
  return {
    nodes: graph.nodes.map((n) => ({ ...n, ...at.get(n.key)! })),
    edges,
    width: size.pad * 2 + layers.length * stepX - size.gapX,
    height: size.pad * 2 + rows * stepY - size.gapY,
    nodeWidth: size.nodeWidth,
  };
}

/** An SVG path through ports [out, in, out, in, …]: a horizontal-tangent curve from each out
 * port to the next in port, a straight line across each waypoint's column. */
export function portPath(ports: { x: number; y: number }[]): string {
  const [first, ...rest] = ports;
  if (!first) return "";
  let d = `M${first.x} ${first.y}`;
  let prev = first;
  rest.forEach((p, i) => {
    if (i % 2 === 0) {
      const bend = Math.max(24, Math.abs(p.x - prev.x) / 2);
      d += ` C${prev.x + bend} ${prev.y} ${p.x - bend} ${p.y} ${p.x} ${p.y}`;
    } else d += ` L${p.x} ${p.y}`;
    prev = p;
  });
  return d;
}

const EDGE_WORDS: Record<EdgeKind, [string, string]> = {
  // [as seen from the source, as seen from the target]
  "trained-on": ["trains", "trained on"],
  base: ["is the base of", "starts from"],
  reward: ["is the reward model of", "scored by"],
  output: ["made", "made by"],
  generated: ["generated", "generated by"],
  parent: ["is the parent of", "derived from"],
};

/** A node's connections in words, for its accessible description: "trained on helpful-v1;
 * starts from tiny-sft; made tiny-policy". */
export function describeConnections(node: GraphNode, graph: LineageGraph): string {
  const names = new Map(graph.nodes.map((n) => [n.key, n.title]));
  const parts: string[] = [];
  for (const e of graph.edges) {
    if (e.to === node.key) parts.push(`${EDGE_WORDS[e.kind][1]} ${names.get(e.from) ?? e.from}`);
  }
  for (const e of graph.edges) {
    if (e.from === node.key) parts.push(`${EDGE_WORDS[e.kind][0]} ${names.get(e.to) ?? e.to}`);
  }
  return parts.length ? `${parts.join("; ")}.` : "No connections.";
}
