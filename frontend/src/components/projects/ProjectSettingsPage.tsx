/** `#/projects/new` and `#/projects/:id/settings` (admins): create a project, or change one's
 * settings and import its prompts and candidate sets. */

import { useEffect } from "react";
import { createProject, fetchProjectSettings, updateProject } from "../../review/projectAdminApi";
import { emptyProjectForm, formFromSettings } from "../../review/projectSettings";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";
import { ImportPanel } from "./ImportPanel";
import { MembersPanel } from "./MembersPanel";
import { ProjectSettingsForm } from "./ProjectSettingsForm";

export function NewProjectPage({ onSignedOut }: { onSignedOut: () => void }) {
  useEffect(() => {
    document.title = "New project · Flywheel";
  }, []);
  return (
    <section aria-labelledby="new-project-heading">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> ›
      </p>
      <h1 id="new-project-heading">Create a project</h1>
      <ProjectSettingsForm
        initial={emptyProjectForm()}
        creating
        save={createProject}
        onSaved={(project) => {
          window.location.hash = `#/projects/${project.id}/settings`;
        }}
        onSignedOut={onSignedOut}
      />
    </section>
  );
}

export function ProjectSettingsPage({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [project, reload] = useLoaded(() => fetchProjectSettings(projectId), `settings-${projectId}`, onSignedOut);
  const p = project?.kind === "loaded" ? project.value : null;
  useEffect(() => {
    document.title = `${p ? p.name : "Project"} settings · Flywheel`;
  }, [p]);
  return (
    <section aria-labelledby="settings-heading">
      <p className="breadcrumb">
        <a href="#/projects">Projects</a> ›
      </p>
      <h1 id="settings-heading">{p ? p.name : "Project settings"}</h1>
      {!p && <LoadNotice state={project} what="the project" />}
      {p && (
        <>
          <p className="project-facts" data-testid="project-counts">
            K = {p.k} · {p.promptCount} prompts · {p.setCount} candidate sets ·{" "}
            <a href={`#/projects/${p.id}/dashboard`}>Dashboard</a> · <a href={`#/projects/${p.id}/sets`}>Sets</a>
          </p>
          <ImportPanel projectId={p.id} k={p.k} onImported={reload} onSignedOut={onSignedOut} />
          <MembersPanel projectId={p.id} onSignedOut={onSignedOut} />
          <ProjectSettingsForm
            key={p.id}
            initial={formFromSettings(p)}
            creating={false}
            save={(payload) => updateProject(p.id, payload)}
            onSaved={reload}
            onSignedOut={onSignedOut}
          />
        </>
      )}
    </section>
  );
}
