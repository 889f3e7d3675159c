/**
 * The app shell: checks the session, shows the sign-in page to a signed-out visitor, and for a
 * signed-in user the header (role-aware navigation, account) and the page the hash route names.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { fetchSession, signIn, signOut } from "./api";
import { AppHeader } from "./components/shared/AppHeader";
import { ProjectsPage } from "./components/projects/ProjectsPage";
import { ADMIN_SETUP_ROUTES, AdminRoute } from "./components/projects/AdminRoute";
import { RankingWorkspace } from "./components/ranking/RankingWorkspace";
import { SignInForm } from "./components/signIn/SignInForm";
import { DatasetCard } from "./components/datasets/DatasetCard";
import { DatasetsPage } from "./components/datasets/DatasetsPage";
import { GenerationPage } from "./components/generation/GenerationPage";
import { LoopPage } from "./components/loop/LoopPage";
import { ApiTokensPage } from "./components/account/ApiTokensPage";
import { ModelsPage } from "./components/models/ModelsPage";
import { ProjectDashboard } from "./components/dashboard/ProjectDashboard";
import { RunDetailPage } from "./components/runs/RunDetailPage";
import { RunsPage } from "./components/runs/RunsPage";
import { SetReview } from "./components/sets/SetReview";
import { SetsPage } from "./components/sets/SetsPage";
import { ReviewQueuePage } from "./components/review/ReviewQueuePage";
import { WebhooksPage } from "./components/webhooks/WebhooksPage";
import { canSee } from "./navigation";
import { type Route, parseRoute } from "./router";
import type { Me } from "./session";

/** The page a reviewer/admin route shows, or a message for a role that may not see it. */
function ReviewPage({ route, me, onSignedOut }: { route: Route; me: Me; onSignedOut: () => void }) {
  const adminOnly = route.name === "runs" || route.name === "run" || route.name === "models" || route.name === "webhooks";
  if (!canSee(me.role, adminOnly ? "admin" : "review")) {
    return (
      <>
        <h1>Not for your role</h1>
        <p role="alert">
          This page is for {adminOnly ? "admins" : "reviewers and admins"}. <a href="#/projects">Back to projects</a>
        </p>
      </>
    );
  }
  switch (route.name) {
    case "dashboard":
      return <ProjectDashboard key={route.projectId} projectId={route.projectId} onSignedOut={onSignedOut} />;
    case "sets":
      return <SetsPage key={route.projectId} projectId={route.projectId} onSignedOut={onSignedOut} />;
    case "review":
      return <ReviewQueuePage key={route.projectId} projectId={route.projectId} onSignedOut={onSignedOut} />;
    case "generate":
      return <GenerationPage key={route.projectId} projectId={route.projectId} me={me} onSignedOut={onSignedOut} />;
    case "loop":
      return <LoopPage key={route.projectId} projectId={route.projectId} me={me} onSignedOut={onSignedOut} />;
    case "set":
      return <SetReview key={route.setId} setId={route.setId} onSignedOut={onSignedOut} />;
    case "datasets":
      return <DatasetsPage me={me} onSignedOut={onSignedOut} />;
    case "dataset":
      return <DatasetCard key={route.datasetId} datasetId={route.datasetId} me={me} onSignedOut={onSignedOut} />;
    case "runs":
      return <RunsPage onSignedOut={onSignedOut} />;
    case "run":
      return <RunDetailPage key={route.runId} runId={route.runId} onSignedOut={onSignedOut} />;
    case "models":
      return <ModelsPage modelId={route.modelId} onSignedOut={onSignedOut} />;
    case "webhooks":
      return <WebhooksPage onSignedOut={onSignedOut} />;
    default:
      return null;
  }
}

const REVIEW_ROUTES: readonly Route["name"][] = ["dashboard", "sets", "review", "generate", "loop", "set", "datasets", "dataset", "runs", "run", "models", "webhooks"];

type AppSession =
  | { kind: "checking" }
  | { kind: "signed-in"; me: Me; focusAccount: boolean }
  | { kind: "signed-out"; focusForm: boolean }
  | { kind: "unavailable"; reason: string };

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function App() {
  const [session, setSession] = useState<AppSession>({ kind: "checking" });
  const route = useHashRoute();
  const checked = useRef(false);

  useEffect(() => {
    if (checked.current) return;
    checked.current = true;
    void fetchSession().then((state) => {
      if (state.kind === "signed-in") setSession({ kind: "signed-in", me: state.me, focusAccount: false });
      else if (state.kind === "signed-out") setSession({ kind: "signed-out", focusForm: false });
      else setSession({ kind: "unavailable", reason: state.reason });
    });
  }, []);

  const onSignedOut = useCallback(() => setSession({ kind: "signed-out", focusForm: true }), []);

  useEffect(() => {
    if (session.kind !== "signed-in") document.title = "Flywheel";
  }, [session.kind]);

  switch (session.kind) {
    case "checking":
      return (
        <main className="page narrow">
          <p role="status">Checking whether you are signed in…</p>
        </main>
      );
    case "unavailable":
      return (
        <main className="page narrow">
          <h1>Flywheel</h1>
          <p role="alert">Could not check your session: {session.reason}.</p>
        </main>
      );
    case "signed-out":
      return (
        <main className="page narrow">
          <h1>Flywheel</h1>
          <p className="tagline">
            Rank the responses of language models, turn the rankings into preference data, and
            train the next model on it.
          </p>
          <SignInForm
            signIn={signIn}
            autoFocus={session.focusForm}
            onSignedIn={(me) => setSession({ kind: "signed-in", me, focusAccount: true })}
          />
          <nav aria-label="Tools" className="tools">
            <a href="/api/v1/docs/">API docs</a>
          </nav>
        </main>
      );
    case "signed-in":
      return (
        <>
          <a className="skip-link" href="#main" onClick={(e) => {
            e.preventDefault();
            document.getElementById("main")?.focus();
          }}>
            Skip to content
          </a>
          <AppHeader
            me={session.me}
            route={route}
            focusAccount={session.focusAccount}
            signOut={signOut}
            onSignedOut={onSignedOut}
          />
          <main id="main" tabIndex={-1} className={route.name === "rank" || route.name === "models" || route.name === "loop" ? "page wide" : "page"}>
            {route.name === "projects" && (
              <ProjectsPage me={session.me} onSignedOut={onSignedOut} />
            )}
            {route.name === "rank" &&
              (session.me.role === "annotator" || session.me.role === "reviewer" ? (
                <RankingWorkspace key={route.projectId} projectId={route.projectId} onSignedOut={onSignedOut} />
              ) : (
                <>
                  <h1>Ranking</h1>
                  <p role="alert">Only a project's annotators rank its sets. <a href="#/projects">Back to projects</a></p>
                </>
              ))}
            {route.name === "tokens" && <ApiTokensPage onSignedOut={onSignedOut} />}
            {ADMIN_SETUP_ROUTES.includes(route.name) && <AdminRoute route={route} me={session.me} onSignedOut={onSignedOut} />}
            {REVIEW_ROUTES.includes(route.name) && (
              <ReviewPage route={route} me={session.me} onSignedOut={onSignedOut} />
            )}
            {route.name === "not-found" && (
              <>
                <h1>Not found</h1>
                <p>
                  Nothing lives at this address. <a href="#/projects">Go to the projects</a>.
                </p>
              </>
            )}
          </main>
        </>
      );
  }
}
