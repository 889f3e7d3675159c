import { describe, expect, it } from "vitest";
import { navItems } from "./navigation";
import { parseRoute, routeHref } from "./router";

describe("parseRoute", () => {
  it("defaults to the projects", () => {
    expect(parseRoute("")).toEqual({ name: "projects" });
    expect(parseRoute("#/")).toEqual({ name: "projects" });
    expect(parseRoute("#/projects")).toEqual({ name: "projects" });
  });

  it("reads the ranking workspace of a project", () => {
    expect(parseRoute("#/projects/12/rank")).toEqual({ name: "rank", projectId: 12 });
    expect(parseRoute("#/projects/12/rank/")).toEqual({ name: "rank", projectId: 12 });
    expect(routeHref({ name: "rank", projectId: 12 })).toBe("#/projects/12/rank");
  });

  it("does not know other addresses", () => {
    expect(parseRoute("#/projects/x/rank").name).toBe("not-found");
    expect(parseRoute("#/admin").name).toBe("not-found");
    expect(parseRoute("#/runs/x").name).toBe("not-found");
    expect(parseRoute("#/projects/3/generate/9").name).toBe("not-found");
  });

  it("reads the reviewer and admin pages, and writes them back", () => {
    const cases: [string, unknown][] = [
      ["#/projects/3/dashboard", { name: "dashboard", projectId: 3 }],
      ["#/projects/3/sets", { name: "sets", projectId: 3 }],
      ["#/projects/3/review", { name: "review", projectId: 3 }],
      ["#/projects/3/generate", { name: "generate", projectId: 3 }],
      ["#/projects/3/loop", { name: "loop", projectId: 3 }],
      ["#/sets/9", { name: "set", setId: 9 }],
      ["#/datasets", { name: "datasets" }],
      ["#/datasets/4", { name: "dataset", datasetId: 4 }],
      ["#/runs", { name: "runs" }],
      ["#/runs/5/", { name: "run", runId: 5 }],
      ["#/models", { name: "models" }],
      ["#/models/6", { name: "models", modelId: 6 }],
      ["#/tokens", { name: "tokens" }],
      ["#/projects/new", { name: "project-new" }],
      ["#/projects/4/settings", { name: "project-settings", projectId: 4 }],
      ["#/users", { name: "users" }],
      ["#/webhooks", { name: "webhooks" }],
    ];
    for (const [hash, route] of cases) {
      expect(parseRoute(hash)).toEqual(route);
      expect(routeHref(parseRoute(hash))).toBe(hash.replace(/\/$/, ""));
    }
  });
});

describe("navItems", () => {
  it("offers the admin site to admins only", () => {
    expect(navItems("annotator").map((i) => i.label)).toEqual(["Projects", "API tokens", "API docs"]);
    expect(navItems("reviewer").map((i) => i.label)).toEqual(["Projects", "Datasets", "API tokens", "API docs"]);
    expect(navItems("admin").map((i) => i.label)).toEqual(["Projects", "Datasets", "Runs", "Models", "Users", "Webhooks", "Admin", "API tokens", "API docs"]);
    expect(navItems(null).map((i) => i.label)).toEqual(["Projects", "API tokens", "API docs"]);
  });
});
