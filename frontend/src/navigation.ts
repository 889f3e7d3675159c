/** What the main navigation offers each role: annotators their projects; reviewers also the
 * datasets (read); admins also runs, models, webhooks and the Django admin site; everyone their API tokens. */

import type { Role } from "./session";

export interface NavItem {
  label: string;
  href: string;
  /** An in-app hash route (highlighted when current) or a page Django serves. */
  external: boolean;
}

export function navItems(role: Role | null): NavItem[] {
  const items: NavItem[] = [{ label: "Projects", href: "#/projects", external: false }];
  if (role === "reviewer" || role === "admin") {
    items.push({ label: "Datasets", href: "#/datasets", external: false });
  }
  if (role === "admin") {
    items.push({ label: "Runs", href: "#/runs", external: false });
    items.push({ label: "Models", href: "#/models", external: false });
    items.push({ label: "Users", href: "#/users", external: false });
    items.push({ label: "Webhooks", href: "#/webhooks", external: false });
    items.push({ label: "Admin", href: "/admin/", external: true });
  }
  items.push({ label: "API tokens", href: "#/tokens", external: false });
  items.push({ label: "API docs", href: "/api/v1/docs/", external: true });
  return items;
}

/** Which pages a role may open; the API refuses the rest anyway (and the page says so). */
export function canSee(role: Role | null, page: "review" | "admin"): boolean {
  if (page === "admin") return role === "admin";
  return role === "admin" || role === "reviewer";
}
