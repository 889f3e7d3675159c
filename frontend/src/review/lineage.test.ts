import { describe, expect, it } from "vitest";
import { parseJob } from "./generation";
import { DEFAULT_SIZE, MAX_NODE_WIDTH, assignLayers, describeConnections, fittedSize, layerGraph, layoutLineage, lineageGraph, portPath } from "./lineage";
import { parseModel } from "./models";
import { parseRun } from "./runs";

// One turn of the flywheel: base (1) → SFT run 10 on dataset 5 → sft (2); reward run 11 on
// dataset 6 → rm (3); PPO run 12 from sft with rm on dataset 5 → policy (4), which generated
// job 20. A registered model (9) derived from base by hand.
const models = [
  { id: 1, name: "tiny-base", kind: "base", parent: null, used_by_runs: [10, 11], generation_jobs: [] },
  { id: 2, name: "tiny-sft", kind: "sft", parent: 1, produced_by: 10, dataset: 5, used_by_runs: [12] },
  { id: 3, name: "tiny-rm", kind: "reward", parent: 1, produced_by: 11, dataset: 6, used_by_runs: [12] },
  { id: 4, name: "tiny-policy", kind: "policy", parent: 2, produced_by: 12, dataset: 5, generation_jobs: [20] },
  { id: 9, name: "hand-made", kind: "policy", parent: 1 },
].map(parseModel).filter((m) => m !== null);
const run = (id: number, kind: string, dataset: number, base: number, reward: number | null, output: number | null) =>
  parseRun({ id, kind, status: output ? "succeeded" : "running", dataset, base_model: base, reward_model: reward, output_model: output })!;
const runs = [run(10, "sft", 5, 1, null, 2), run(11, "reward", 6, 1, null, 3), run(12, "ppo", 5, 2, 3, 4), run(13, "dpo", 7, 4, null, null)];
const jobs = [parseJob({ id: 20, project: 8, status: "succeeded", sets_created: 6 })!];
const datasets = [{ id: 5, name: "helpful-v1" }, { id: 6, name: "helpful-v2" }, { id: 7, name: "helpful-v3" }].map((d) => ({
  ...d, project: 8, testFraction: 0.1, seed: 0, contentHash: "", counts: {}, card: "", filters: {}, createdAt: null,
}));

const graph = lineageGraph({ models, runs, jobs, datasets });
const edge = (from: string, to: string) => graph.edges.find((e) => e.from === from && e.to === to)?.kind;

describe("lineageGraph", () => {
  it("has a node for every model, run, dataset and job", () => {
    expect(graph.nodes.map((n) => n.key).sort()).toEqual(
      ["dataset-5", "dataset-6", "dataset-7", "job-20", "model-1", "model-2", "model-3", "model-4", "model-9", "run-10", "run-11", "run-12", "run-13"].sort(),
    );
    expect(graph.nodes.find((n) => n.key === "dataset-5")).toMatchObject({ title: "helpful-v1", href: "#/datasets/5" });
    expect(graph.nodes.find((n) => n.key === "run-12")).toMatchObject({ title: "Run #12 · PPO", href: "#/runs/12", status: "succeeded" });
    expect(graph.nodes.find((n) => n.key === "job-20")).toMatchObject({ href: "#/projects/8/generate" });
    expect(graph.nodes.find((n) => n.key === "model-4")).toMatchObject({ href: "#/models/4" });
  });

  it("draws dataset → run, base and reward model → run, run → output, model → job", () => {
    expect(edge("dataset-5", "run-12")).toBe("trained-on");
    expect(edge("model-2", "run-12")).toBe("base");
    expect(edge("model-3", "run-12")).toBe("reward");
    expect(edge("run-12", "model-4")).toBe("output");
    expect(edge("model-4", "job-20")).toBe("generated");
    expect(edge("dataset-7", "run-13")).toBe("trained-on"); // a run with no output model yet
  });

  it("draws parent → child only where no run explains it", () => {
    expect(edge("model-1", "model-2")).toBeUndefined(); // base → run 10 → sft
    expect(edge("model-1", "model-9")).toBe("parent");
    expect(edge("model-1", "model-3")).toBeUndefined();
  });

  it("reads an adapter's base and an endpoint, and says adapter in the box", () => {
    const lora = parseModel({ id: 7, name: "dpo-lora", kind: "policy", parent: 2, adapter_base: 2, endpoint: {} })!;
    expect(lora).toMatchObject({ adapterBase: 2, endpoint: null });
    expect(models.find((m) => m.id === 2)).toMatchObject({ adapterBase: null, endpoint: null });
    const hosted = parseModel({ id: 8, name: "hosted", kind: "policy", endpoint: { base_url: "http://vllm:8000/v1", model: "qwen", api_key_env: "K" } });
    expect(hosted?.endpoint).toEqual({ baseUrl: "http://vllm:8000/v1", model: "qwen" });
    const withLora = lineageGraph({ models: [...models, lora] });
    expect(withLora.nodes.find((n) => n.key === "model-7")?.detail).toBe("policy adapter #7");
    expect(withLora.nodes.find((n) => n.key === "model-2")?.detail).toBe("sft model #2");
  });

  it("works from the models alone (the other lists failed to load)", () => {
    const alone = lineageGraph({ models });
    expect(alone.edges.find((e) => e.from === "model-1" && e.to === "run-10")?.kind).toBe("base");
    expect(alone.edges.find((e) => e.from === "dataset-5" && e.to === "run-10")?.kind).toBe("trained-on");
    expect(alone.nodes.find((n) => n.key === "dataset-5")?.title).toBe("Dataset #5");
  });
});

describe("layout", () => {
  it("puts every edge left to right and each dataset just before its first run", () => {
    const layer = assignLayers(graph);
    for (const e of graph.edges) expect(layer.get(e.from)!).toBeLessThan(layer.get(e.to)!);
    expect(layer.get("model-1")).toBe(0);
    expect(layer.get("run-10")).toBe(1);
    expect(layer.get("dataset-5")).toBe(0); // first used by run 10 (layer 1), also by run 12
    expect(layer.get("model-2")).toBe(2);
    expect(layer.get("run-12")).toBe(3);
    expect(layer.get("model-4")).toBe(4);
    expect(layer.get("dataset-7")).toBe(4);
    expect(layer.get("run-13")).toBe(5);
    expect(layer.get("job-20")).toBe(5);
  });

  it("keeps every node once, with a waypoint in each layer a long edge crosses", () => {
    const { layers, chains } = layerGraph(graph);
    expect(layers.flat().filter((k) => !k.startsWith("~")).sort()).toEqual(graph.nodes.map((n) => n.key).sort());
    // dataset 5 (layer 0) → run 12 (layer 3) passes layers 1 and 2.
    expect(chains.get("dataset-5>run-12")).toEqual(["dataset-5", "~dataset-5>run-12@1", "~dataset-5>run-12@2", "run-12"]);
    expect(chains.get("run-12>model-4")).toEqual(["run-12", "model-4"]);
    // run 10 feeds model 2 and run 11 feeds model 3: the models keep their runs' order.
    const at = (k: string) => layers.find((l) => l.includes(k))!.indexOf(k);
    expect(at("run-10") < at("run-11")).toBe(at("model-2") < at("model-3"));
  });

  it("places boxes without overlap inside the drawing, and routes no edge behind a box", () => {
    const layout = layoutLineage(graph);
    const { nodeWidth: w, nodeHeight: h } = DEFAULT_SIZE;
    const inside = (p: { x: number; y: number }, b: { x: number; y: number }) => p.x >= b.x && p.x <= b.x + w && p.y >= b.y && p.y <= b.y + h;
    for (const a of layout.nodes) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.y).toBeGreaterThanOrEqual(0);
      expect(a.x + w).toBeLessThanOrEqual(layout.width);
      expect(a.y + h).toBeLessThanOrEqual(layout.height);
      for (const b of layout.nodes) {
        if (a === b) continue;
        const apart = a.x + w <= b.x || b.x + w <= a.x || a.y + h <= b.y || b.y + h <= a.y;
        expect(apart, `${a.key} overlaps ${b.key}`).toBe(true);
      }
    }
    expect(layout.edges).toHaveLength(graph.edges.length);
    const long = layout.edges.find((e) => e.from === "dataset-5" && e.to === "run-12")!;
    expect(long.waypoints).toHaveLength(2);
    for (const e of layout.edges) {
      for (const p of e.waypoints) for (const b of layout.nodes) expect(inside(p, b), `${e.from}>${e.to} behind ${b.key}`).toBe(false);
    }
    expect(layoutLineage({ nodes: [], edges: [] })).toEqual({ nodes: [], edges: [], width: 0, height: 0, nodeWidth: DEFAULT_SIZE.nodeWidth });
  });

  it("draws a curve between columns and a straight line across a waypoint's column", () => {
    expect(portPath([{ x: 0, y: 10 }, { x: 100, y: 50 }])).toBe("M0 10 C50 10 50 50 100 50");
    expect(portPath([{ x: 0, y: 10 }, { x: 40, y: 30 }, { x: 200, y: 30 }, { x: 240, y: 10 }])).toBe(
      "M0 10 C24 10 16 30 40 30 L200 30 C224 30 216 10 240 10",
    );
  });

  it("survives a cycle (bad data) with every node placed", () => {
    const cyclic = {
      nodes: graph.nodes.filter((n) => n.key === "model-1" || n.key === "run-10"),
      edges: [
        { from: "model-1", to: "run-10", kind: "base" as const },
        { from: "run-10", to: "model-1", kind: "output" as const },
      ],
    };
    expect(layoutLineage(cyclic).nodes).toHaveLength(2);
  });
});

describe("describeConnections", () => {
  it("says what a node connects to, in words", () => {
    const node = (key: string) => graph.nodes.find((n) => n.key === key)!;
    expect(describeConnections(node("run-12"), graph)).toBe(
      "trained on helpful-v1; starts from tiny-sft; scored by tiny-rm; made tiny-policy.",
    );
    expect(describeConnections(node("model-4"), graph)).toBe("made by Run #12 · PPO; is the base of Run #13 · DPO; generated Generation #20.");
    expect(describeConnections({ ...node("model-1"), key: "model-99" }, graph)).toBe("No connections.");
  });
});

describe("fittedSize", () => {
  const named = (title: string) => ({
    nodes: [{ key: "model-1", kind: "model" as const, id: 1, title, detail: "base model #1", href: "#/models/1", status: "" }],
    edges: [],
  });

  // Issue 18: a fixed 156px box cut "tinyworld-base-seed0" to "tinyworld-base-seec".
  it("widens the boxes so that a model's whole name fits", () => {
    const title = "tinyworld-base-seed0-polite-v2";
    const size = fittedSize(named(title));
    expect(size.nodeWidth).toBeGreaterThan(DEFAULT_SIZE.nodeWidth);
    expect(size.nodeWidth).toBeGreaterThanOrEqual(title.length * 8);
    expect(layoutLineage(named(title), size).nodeWidth).toBe(size.nodeWidth);
  });

  it("keeps the default for short names and a bound for absurd ones", () => {
    expect(fittedSize(named("tiny")).nodeWidth).toBe(DEFAULT_SIZE.nodeWidth);
    expect(fittedSize(named("x".repeat(500))).nodeWidth).toBe(MAX_NODE_WIDTH);
  });
});
