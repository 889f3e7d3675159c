import { describe, expect, it } from "vitest";
import { anyJobActive, emptyGenerationForm, generationPayload, jobProgressText, parseJob } from "./generation";

const row = {
  id: 4, project: 2, model_version: 7, model_name: "tiny-policy", status: "running", k: 3, round: 1,
  sampling: { temperature: 1 }, seed: 11, backend: "hf", prompts: 6, done: 2, sets_created: 2, prompts_skipped: 0,
  error: "", created_at: "2025-01-01T00:00:00Z", finished_at: null,
};

describe("generation jobs", () => {
  it("reads a job row and says how far it got", () => {
    const job = parseJob(row)!;
    expect(job.modelName).toBe("tiny-policy");
    expect(job.setsCreated).toBe(2);
    expect(jobProgressText(job)).toBe("2 of 6 prompts");
    expect(jobProgressText({ ...job, status: "queued", done: 0 })).toBe("0 of 6 prompts · waiting for a worker");
    expect(parseJob({ id: 1 })).toBeNull();
  });

  it("polls while a job is queued or running", () => {
    const job = parseJob(row)!;
    expect(anyJobActive([job])).toBe(true);
    expect(anyJobActive([{ ...job, status: "succeeded" }, { ...job, status: "failed" }])).toBe(false);
    expect(anyJobActive([])).toBe(false);
  });
});

describe("several sets per prompt", () => {
  it("counts progress in sets when a job draws several per prompt", () => {
    const job = parseJob({ id: 4, project: 1, status: "running", prompts: 6, sets_per_prompt: 3, done: 5 })!;
    expect(job.setsPerPrompt).toBe(3);
    expect(jobProgressText(job)).toBe("5 of 18 sets (3 per prompt)");
    expect(parseJob({ id: 5, status: "queued" })!.setsPerPrompt).toBe(1);
  });

  it("sends sets_per_prompt only when it is not the default, and names a bad one", () => {
    const form = { ...emptyGenerationForm(), setsPerPrompt: "3" };
    const built = generationPayload(form);
    expect(built.ok && built.payload.sets_per_prompt).toBe(3);
    const one = generationPayload(emptyGenerationForm());
    expect(one.ok && "sets_per_prompt" in one.payload).toBe(false);
    for (const bad of ["0", "2.5", "many"]) {
      const result = generationPayload({ ...emptyGenerationForm(), setsPerPrompt: bad });
      expect(result.ok ? null : Object.keys(result.errors)).toEqual(["sets_per_prompt"]);
    }
  });
});

describe("generationPayload", () => {
  it("sends the pending prompts with the project's policy and the server's sampling defaults", () => {
    expect(generationPayload(emptyGenerationForm())).toEqual({
      ok: true,
      payload: { prompts: "pending", sampling: {}, seed: 0 },
      first: null,
    });
  });

  it("sends the model, sampling and seed that were filled in", () => {
    const form = { ...emptyGenerationForm(), model: "7", prompts: "all" as const, temperature: "0.7", topP: "0.9", maxNewTokens: "64", seed: "3" };
    expect(generationPayload(form)).toEqual({
      ok: true,
      payload: { model: 7, prompts: "all", sampling: { temperature: 0.7, top_p: 0.9, max_new_tokens: 64 }, seed: 3 },
      first: null,
    });
  });

  it("asks for the first N prompt ids", () => {
    const result = generationPayload({ ...emptyGenerationForm(), prompts: "first", count: "5" });
    expect(result.ok && result.first).toBe(5);
  });

  it("names bad fields with the API's keys", () => {
    const form = { ...emptyGenerationForm(), prompts: "first" as const, count: "0", maxNewTokens: "1.5", temperature: "hot", seed: "-1" };
    expect(generationPayload(form)).toEqual({
      ok: false,
      errors: {
        prompts: "A whole number of prompts, 1 to 10000.",
        "sampling.temperature": "Must be a number.",
        "sampling.max_new_tokens": "Must be a whole number.",
        seed: "A whole number, 0 or more.",
      },
    });
  });
});
