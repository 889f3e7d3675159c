/** What the main navigation offers each role. Reviewer and admin dashboards will join here. */

import type { Role } from "./session";

export interface NavItem {
  label: string;
  href: string;
  /** An in-app hash route (highlighted when current) or a page Django serves. */
  external: boolean;
}

export function navItems(role: Role | null): NavItem[] {
  const items: NavItem[] = [{ label: "Projects", href: "#/projects", external: false }];
  if (role === "admin") items.push({ label: "Admin", href: "/admin/", external: true });
  items.push({ label: "API docs", href: "/api/v1/docs/", external: true });
  return items;
}
