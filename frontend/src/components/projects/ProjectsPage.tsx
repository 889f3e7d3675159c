/** The projects the signed-in user can see (admins: all; others: those they are members of),
 * with progress; where the user annotates they can start ranking, where they review they get
 * the project's pages. */

import { useEffect, useState } from "react";
import { fetchProjects } from "../../api";
import { type ProjectListState, moreProjectsText, projectFacts } from "../../projects";
import type { Me } from "../../session";

export function ProjectsPage({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const [state, setState] = useState<ProjectListState | null>(null);

  useEffect(() => {
    document.title = "Projects · Flywheel";
    let live = true;
    void fetchProjects().then((next) => {
      if (!live) return;
      if (next.kind === "signed-out") onSignedOut();
      else setState(next);
    });
    return () => {
      live = false;
    };
  }, [onSignedOut]);

  return (
    <section aria-labelledby="projects-heading">
      <h1 id="projects-heading">Projects</h1>
      {me.role === "admin" && (
        <p>
          <a className="button-link" href="#/projects/new">
            New project
          </a>
        </p>
      )}
      {state === null && <p role="status">Loading projects…</p>}
      {state?.kind === "failed" && (
        <p className="form-error" role="alert">
          Could not load the projects: {state.message}
        </p>
      )}
      {state?.kind === "loaded" && state.page.projects.length === 0 && <p>No projects yet.</p>}
      {state?.kind === "loaded" && state.page.projects.length > 0 && (
        <>
          <ul className="project-list">
            {state.page.projects.map((project) => (
              <li key={project.id}>
                <div className="project-summary">
                  <span className="project-name">{project.name}</span>{" "}
                  <span className="project-facts">{projectFacts(project).join(" · ")}</span>
                </div>
                {project.myRole === "annotator" && (
                  <a
                    className="button-link"
                    href={`#/projects/${project.id}/rank`}
                    aria-label={`Start ranking: ${project.name}`}
                  >
                    Start ranking
                  </a>
                )}
                {project.myRole !== "annotator" && (
                  <span className="project-links">
                    <a className="button-link" href={`#/projects/${project.id}/dashboard`} aria-label={`Dashboard: ${project.name}`}>
                      Dashboard
                    </a>
                    <a href={`#/projects/${project.id}/sets`} aria-label={`Sets: ${project.name}`}>
                      Sets
                    </a>
                    <a href={`#/projects/${project.id}/review`} aria-label={`Review queue: ${project.name}`}>
                      Review
                    </a>
                    <a href={`#/projects/${project.id}/generate`} aria-label={`Generation: ${project.name}`}>
                      Generation
                    </a>
                    <a href={`#/projects/${project.id}/loop`} aria-label={`Loop: ${project.name}`}>
                      Loop
                    </a>
                    {me.role === "admin" && (
                      <a href={`#/projects/${project.id}/settings`} aria-label={`Settings and import: ${project.name}`}>
                        Settings
                      </a>
                    )}
                  </span>
                )}
              </li>
            ))}
          </ul>
          {moreProjectsText(state.page) && <p className="hint">{moreProjectsText(state.page)}</p>}
        </>
      )}
    </section>
  );
}
