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
  });
});

describe("navItems", () => {
  it("offers the admin site to admins only", () => {
    expect(navItems("annotator").map((i) => i.label)).toEqual(["Projects", "API docs"]);
    expect(navItems("admin").map((i) => i.label)).toEqual(["Projects", "Admin", "API docs"]);
    expect(navItems(null).map((i) => i.label)).toEqual(["Projects", "API docs"]);
  });
});
