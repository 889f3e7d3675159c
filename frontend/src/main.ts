/**
 * The home page: a sign-in form for a signed-out visitor; for a signed-in user, who they are,
 * a sign-out button and the projects with their progress. Everything from the API goes into the
 * page as text (textContent, DOM nodes), never as HTML: names and usernames are user input.
 */

import "./style.css";
import { fetchProjects, fetchSession, signIn, signOut } from "./api";
import { AccountBar } from "./components/AccountBar";
import { ProjectList } from "./components/ProjectList";
import { SignInForm } from "./components/SignInForm";
import type { Me } from "./session";

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element;
}

const session = byId("session");
const projects = byId("projects");
const projectList = byId("project-list");
const adminLink = byId("admin-link");

function statusLine(text: string): HTMLParagraphElement {
  const line = document.createElement("p");
  line.setAttribute("role", "status");
  line.textContent = text;
  return line;
}

// Bumped at each change of view, so an answer that arrives after the user moved on is dropped.
let view = 0;

function showSignedOut({ focus }: { focus: boolean }): void {
  view += 1;
  adminLink.hidden = true;
  projects.hidden = true;
  projectList.replaceChildren();
  const form = SignInForm({ signIn, onSignedIn: (me) => showSignedIn(me, { focus: true }) });
  session.replaceChildren(form.root);
  if (focus) form.focus();
}

function showSignedIn(me: Me, { focus }: { focus: boolean }): void {
  const current = (view += 1);
  adminLink.hidden = me.role !== "admin";
  const bar = AccountBar({ me, signOut, onSignedOut: () => showSignedOut({ focus: true }) });
  session.replaceChildren(bar.root);
  if (focus) bar.focus();
  projects.hidden = false;
  projectList.replaceChildren(statusLine("Loading projects…"));
  void fetchProjects().then((state) => {
    if (current !== view) return;
    if (state.kind === "signed-out") showSignedOut({ focus: false });
    else projectList.replaceChildren(ProjectList(state));
  });
}

void fetchSession().then((state) => {
  switch (state.kind) {
    case "signed-in":
      showSignedIn(state.me, { focus: false });
      break;
    case "signed-out":
      showSignedOut({ focus: false });
      break;
    case "unavailable":
      session.replaceChildren(statusLine(`Could not check your session: ${state.reason}.`));
      break;
  }
});
