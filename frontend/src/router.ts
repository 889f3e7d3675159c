/**
 * Hash routes, so Django serves only `/`: `#/projects` (the default), `#/projects/:id/rank`
 * (annotators), the admin's setup pages `#/projects/new`, `#/projects/:id/settings` and `#/users`,
 * and the reviewer/admin pages: `#/projects/:id/dashboard`, `#/projects/:id/sets`, `#/projects/:id/review`,
 * `#/projects/:id/generate`, `#/projects/:id/loop`, `#/sets/:id`, `#/datasets`, `#/datasets/:id`, `#/runs`, `#/runs/:id`,
 * `#/models` and `#/models/:id` (the lineage with that model picked out), and `#/tokens` (the
 * signed-in user's API tokens, every role), and `#/webhooks` (admins).
 */

export type Route =
  | { name: "projects" }
  | { name: "project-new" }
  | { name: "project-settings"; projectId: number }
  | { name: "users" }
  | { name: "rank"; projectId: number }
  | { name: "dashboard"; projectId: number }
  | { name: "sets"; projectId: number }
  | { name: "review"; projectId: number }
  | { name: "generate"; projectId: number }
  | { name: "loop"; projectId: number }
  | { name: "set"; setId: number }
  | { name: "datasets" }
  | { name: "dataset"; datasetId: number }
  | { name: "runs" }
  | { name: "run"; runId: number }
  | { name: "models"; modelId?: number }
  | { name: "tokens" }
  | { name: "webhooks" }
  | { name: "not-found"; hash: string };

const ID = "(\\d{1,12})";

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "");
  if (path === "" || path === "/projects") return { name: "projects" };
  if (path === "/projects/new") return { name: "project-new" };
  if (path === "/users") return { name: "users" };
  const settings = new RegExp(`^/projects/${ID}/settings$`).exec(path);
  if (settings) return { name: "project-settings", projectId: Number(settings[1]) };
  if (path === "/datasets") return { name: "datasets" };
  if (path === "/runs") return { name: "runs" };
  if (path === "/models") return { name: "models" };
  if (path === "/tokens") return { name: "tokens" };
  if (path === "/webhooks") return { name: "webhooks" };
  const project = new RegExp(`^/projects/${ID}/(rank|dashboard|sets|review|generate|loop)$`).exec(path);
  if (project) {
    const projectId = Number(project[1]);
    const page = project[2] as "rank" | "dashboard" | "sets" | "review" | "generate" | "loop";
    return { name: page, projectId };
  }
  const one = new RegExp(`^/(sets|datasets|runs|models)/${ID}$`).exec(path);
  if (one) {
    const id = Number(one[2]);
    if (one[1] === "sets") return { name: "set", setId: id };
    if (one[1] === "datasets") return { name: "dataset", datasetId: id };
    if (one[1] === "models") return { name: "models", modelId: id };
    return { name: "run", runId: id };
  }
  return { name: "not-found", hash };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case "project-new":
      return "#/projects/new";
    case "project-settings":
      return `#/projects/${route.projectId}/settings`;
    case "users":
      return "#/users";
    case "projects":
    case "datasets":
    case "runs":
    case "tokens":
    case "webhooks":
      return `#/${route.name}`;
    case "models":
      return route.modelId === undefined ? "#/models" : `#/models/${route.modelId}`;
    case "rank":
    case "dashboard":
    case "sets":
    case "review":
    case "generate":
    case "loop":
      return `#/projects/${route.projectId}/${route.name}`;
    case "set":
      return `#/sets/${route.setId}`;
    case "dataset":
      return `#/datasets/${route.datasetId}`;
    case "run":
      return `#/runs/${route.runId}`;
    case "not-found":
      return route.hash;
  }
}

/** The main-navigation entry a route belongs under (highlighted as the current page). */
export function navSection(route: Route): string {
  switch (route.name) {
    case "project-new":
    case "project-settings":
    case "rank":
    case "dashboard":
    case "sets":
    case "review":
    case "set":
    case "generate":
    case "loop":
      return "#/projects";
    case "models":
      return "#/models";
    case "dataset":
      return "#/datasets";
    case "run":
      return "#/runs";
    default:
      return routeHref(route);
  }
}
