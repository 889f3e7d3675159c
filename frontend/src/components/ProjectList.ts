/** The projects the signed-in user can see: name, K and progress, one line each. */

import { type ProjectListState, moreProjectsText, projectFacts } from "../projects";

function paragraph(text: string, className?: string): HTMLParagraphElement {
  const p = document.createElement("p");
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

/** For "loaded" and "failed"; a "signed-out" state is the caller's to handle. */
export function ProjectList(state: Exclude<ProjectListState, { kind: "signed-out" }>): HTMLElement {
  const root = document.createElement("div");
  if (state.kind === "failed") {
    const failure = paragraph(`Could not load the projects: ${state.message}`, "form-error");
    failure.setAttribute("role", "alert");
    root.append(failure);
    return root;
  }
  const { page } = state;
  if (page.projects.length === 0) {
    root.append(paragraph("No projects yet."));
    return root;
  }
  const list = document.createElement("ul");
  list.className = "project-list";
  for (const project of page.projects) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "project-name";
    name.textContent = project.name;
    const facts = document.createElement("span");
    facts.className = "project-facts";
    facts.textContent = projectFacts(project).join(" · ");
    item.append(name, " ", facts);
    list.append(item);
  }
  root.append(list);
  const more = moreProjectsText(page);
  if (more) root.append(paragraph(more, "hint"));
  return root;
}
