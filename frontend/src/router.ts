/**
 * Hash routes, so Django serves only `/`: `#/projects` (the default) and
 * `#/projects/:id/rank`. Reviewer and admin pages will add routes here.
 */

export type Route =
  | { name: "projects" }
  | { name: "rank"; projectId: number }
  | { name: "not-found"; hash: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "");
  if (path === "" || path === "/projects") return { name: "projects" };
  const rank = /^\/projects\/(\d{1,12})\/rank$/.exec(path);
  if (rank) return { name: "rank", projectId: Number(rank[1]) };
  return { name: "not-found", hash };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case "projects":
      return "#/projects";
    case "rank":
      return `#/projects/${route.projectId}/rank`;
    case "not-found":
      return route.hash;
  }
}
