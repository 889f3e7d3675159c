/** The admin's setup pages (new project, project settings and imports, users), or a message
 * for a role that may not see them. */

import { canSee } from "../../navigation";
import type { Route } from "../../router";
import type { Me } from "../../session";
import { UsersPage } from "../users/UsersPage";
import { NewProjectPage, ProjectSettingsPage } from "./ProjectSettingsPage";

export const ADMIN_SETUP_ROUTES: readonly Route["name"][] = ["project-new", "project-settings", "users"];

export function AdminRoute({ route, me, onSignedOut }: { route: Route; me: Me; onSignedOut: () => void }) {
  if (!canSee(me.role, "admin")) {
    return (
      <>
        <h1>Not for your role</h1>
        <p role="alert">
          This page is for admins. <a href="#/projects">Back to projects</a>
        </p>
      </>
    );
  }
  switch (route.name) {
    case "project-new":
      return <NewProjectPage onSignedOut={onSignedOut} />;
    case "project-settings":
      return <ProjectSettingsPage key={route.projectId} projectId={route.projectId} onSignedOut={onSignedOut} />;
    case "users":
      return <UsersPage onSignedOut={onSignedOut} />;
    default:
      return null;
  }
}
