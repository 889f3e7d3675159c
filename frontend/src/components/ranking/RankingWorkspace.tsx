/**
 * The annotator's workspace for one project: takes the next task, shows the prompt and the
 * responses on the board, and submits (or skips) the ranking, then loads the next task without
 * a page reload. The ranking's logic lives in ../../ranking/state.ts, the workspace's in
 * ../../ranking/workspace.ts; useRankingWorkspace wires them to the API and the keyboard.
 */

import { responseNumber, tierOf } from "../../ranking/state";
import { closeCompare, showHelp, taskOf, toggleGuidelines } from "../../ranking/workspace";
import type { Candidate } from "../../task";
import { PromptView } from "../shared/PromptView";
import { ActionBar } from "./ActionBar";
import { AllDonePanel } from "./AllDonePanel";
import { BoardSection } from "./BoardSection";
import { CompareView } from "./CompareView";
import { GuidelinesPanel } from "./GuidelinesPanel";
import { MyReviewsPanel } from "./MyReviewsPanel";
import { NoticeArea } from "./NoticeArea";
import { SentBackNotice } from "./SentBackNotice";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { useRankingWorkspace } from "./useRankingWorkspace";
import { WorkspaceHeader } from "./WorkspaceHeader";

export function RankingWorkspace({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const { state, announcement, update, loadNext, openTask, submit, skip } = useRankingWorkspace(projectId, onSignedOut);
  const { project, phase, ranking, lost } = state;
  const task = taskOf(state);
  const byId = new Map<number, Candidate>((task?.candidates ?? []).map((c) => [c.id, c]));
  const [left, right] = state.compare.map((id) => byId.get(id));

  return (
    <div className="workspace">
      <WorkspaceHeader project={project} task={task} onShowHelp={() => update((s) => showHelp(s, true))} />
      <NoticeArea
        announcement={announcement}
        notice={state.notice}
        lost={lost}
        onNextSet={() => (lost?.next ? openTask(lost.next) : void loadNext(null))}
      />

      {phase.kind === "loading" && <p role="status" className="loading">Getting the next set…</p>}
      {phase.kind === "failed" && (
        <div className="notice notice-error" role="alert">
          <p>Could not get a set to rank: {phase.message}</p>
          <button type="button" onClick={() => void loadNext(null)}>Try again</button>
        </div>
      )}
      {phase.kind === "done" && <AllDonePanel onCheckAgain={() => void loadNext(null)} />}

      {task?.reviewComment && <SentBackNotice comment={task.reviewComment} />}
      {task && ranking && (
        <div className="workspace-body">
          <aside className="workspace-context" aria-label="Prompt and guidelines">
            <PromptView messages={task.prompt} />
            <GuidelinesPanel guidelines={project?.guidelines ?? ""} open={state.guidelinesOpen} onToggle={() => update(toggleGuidelines)} />
          </aside>
          <BoardSection
            ranking={ranking}
            candidates={task.candidates}
            criteria={project?.criteria ?? { flags: [], ratings: [] }}
            expanded={state.expanded}
            compare={state.compare}
            update={update}
          />
        </div>
      )}

      {task && ranking && (
        <ActionBar
          ranking={ranking}
          busy={state.busy}
          lost={lost !== null}
          confirmingUntouched={state.confirm === "submit-untouched"}
          onSkip={() => void skip()}
          onSubmit={() => void submit()}
        />
      )}

      <MyReviewsPanel projectId={projectId} refreshKey={task?.assignment ?? 0} onSignedOut={onSignedOut} />

      {state.showHelp && <ShortcutsDialog onClose={() => update((s) => showHelp(s, false))} />}
      {state.compareOpen && left && right && ranking && (
        <CompareView
          left={left}
          right={right}
          numberOf={(id) => responseNumber(ranking, id)}
          placeOf={(id) => `Tier ${tierOf(ranking, id) + 1} of ${ranking.tiers.length}`}
          onClose={() => update(closeCompare)}
        />
      )}
    </div>
  );
}
