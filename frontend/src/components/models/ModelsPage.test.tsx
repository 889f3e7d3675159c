// @vitest-environment jsdom
/**
 * The Models page against a fake server: the model list alone says which versions are adapters
 * (`adapter_base`), so only those show "Merge" and name their base, with no second request for
 * the adapters; a model served by an endpoint says where.
 */

import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ModelsPage } from "./ModelsPage";

const model = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  id, name, kind: "policy", storage_path: `/models/${name}`, parent: null, adapter_base: null, endpoint: {}, children: [],
  produced_by: null, dataset: null, used_by_runs: [], generation_jobs: [], candidates_generated: 0, metadata: {},
  created_at: "2025-01-01T00:00:00Z", ...extra,
});
const MODELS = [
  model(1, "tiny-base", { kind: "sft", children: [2] }),
  model(2, "tiny-lora", { parent: 1, adapter_base: 1 }),
  model(3, "hosted", { storage_path: "", endpoint: { base_url: "http://vllm:8000/v1", model: "qwen", api_key_env: "" } }),
];

function fakeServer() {
  const asked: string[] = [];
  vi.stubGlobal("fetch", (path: string) => {
    asked.push(path);
    const page = (results: unknown[]) => ({ count: results.length, next: null, previous: null, results });
    const body = path.startsWith("/api/v1/models/?") ? page(MODELS) : page([]);
    const headers = new Headers({ "Content-Type": "application/json" });
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers }));
  });
  return asked;
}

beforeEach(() => vi.unstubAllGlobals());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("ModelsPage", () => {
  it("offers Merge on adapter versions only, names their base, and asks for the models once", async () => {
    const asked = fakeServer();
    render(<ModelsPage modelId={undefined} onSignedOut={() => {}} />);
    const row = (id: number) => within(document.getElementById(`model-${id}`)!);

    await screen.findByRole("button", { name: "Merge" }); // only one: the adapter's
    expect(row(2).getByRole("button", { name: "Merge" })).toBeTruthy();
    expect(row(2).getByText(/Adapter of/).textContent).toContain("Adapter of tiny-base.");
    expect(row(2).getByRole("link", { name: "tiny-base" }).getAttribute("href")).toBe("#/models/1");
    expect(row(1).queryByRole("button", { name: "Merge" })).toBeNull();
    expect(row(1).queryByText(/Adapter of/)).toBeNull();
    expect(row(3).queryByRole("button", { name: "Merge" })).toBeNull();
    expect(row(3).getByText(/OpenAI-compatible endpoint/).textContent).toContain("qwen at http://vllm:8000/v1.");

    expect(asked.filter((p) => p.startsWith("/api/v1/models/"))).toEqual(["/api/v1/models/?limit=200&offset=0"]);
    expect(asked.some((p) => p.includes("adapter="))).toBe(false);
  });
});
