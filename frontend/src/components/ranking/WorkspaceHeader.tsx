/** The workspace's head: the project's name, which set is on screen, the lease and Shortcuts. */

import type { ProjectSummary } from "../../projects";
import type { Task } from "../../task";
import { LeaseTimer } from "./LeaseTimer";

export function WorkspaceHeader({ project, task, onShowHelp }: { project: ProjectSummary | null; task: Task | null; onShowHelp: () => void }) {
  return (
    <div className="workspace-head">
      <div>
        <p className="breadcrumb">
          <a href="#/projects">Projects</a> <span aria-hidden="true">›</span>
        </p>
        <h1>{project ? project.name : "Ranking"}</h1>
        {task && (
          <p className="set-info">
            Set {task.candidateSet} · {task.candidates.length} responses{project?.allowTies ? " · ties allowed" : " · no ties"}
          </p>
        )}
      </div>
      <div className="workspace-tools">
        {task && <LeaseTimer key={task.leaseExpiresAt.getTime()} expiresAt={task.leaseExpiresAt} />}
        <button type="button" className="secondary" onClick={onShowHelp} aria-keyshortcuts="?">
          Shortcuts <kbd aria-hidden="true">?</kbd>
        </button>
      </div>
    </div>
  );
}
