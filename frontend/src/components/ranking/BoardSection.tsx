/**
 * "Rank the responses, best first": the hint, the reward model's suggestion, the board with a
 * ResponseCard per response, and the SubmitPanel below it.
 */

import { isLong } from "../../markdown";
import type { Criteria } from "../../projects";
import { type CandidateId, type RankingState, responseNumber, select, setRating, showsSuggestion, suggestionText, toggleFlag } from "../../ranking/state";
import {
  applySuggestedOrder,
  dropResponse,
  editRanking,
  moveResponse,
  toggleCompare,
  toggleExpand,
} from "../../ranking/workspace";
import type { Candidate } from "../../task";
import { RankingBoard } from "./RankingBoard";
import { ResponseCard } from "./ResponseCard";
import { SubmitPanel } from "./SubmitPanel";
import { SuggestionLine } from "./SuggestionLine";
import type { Update } from "./useRankingWorkspace";

function BoardHint({ ranking, k }: { ranking: RankingState; k: number }) {
  return (
    <p className="hint board-hint" id="board-hint">
      {ranking.touched ? "" : "Untouched: the responses are in the order shown. "}
      Press <kbd>1</kbd>–<kbd>{Math.min(9, k)}</kbd> to select, <kbd>↑</kbd>/<kbd>↓</kbd> to move
      {ranking.allowTies ? <>, <kbd>t</kbd> to tie with the tier above, <kbd>u</kbd> to untie</> : null}; or drag a
      response by its title{ranking.allowTies ? " (onto a tier to tie)" : ""}.
    </p>
  );
}

export function BoardSection({
  ranking,
  candidates,
  criteria,
  expanded,
  compare,
  update,
}: {
  ranking: RankingState;
  candidates: Candidate[];
  criteria: Criteria;
  expanded: ReadonlySet<CandidateId>;
  compare: CandidateId[];
  update: Update;
}) {
  const byId = new Map(candidates.map((c) => [c.id, c]));

  const renderCard = (id: CandidateId, tierIndex: number) => {
    const candidate = byId.get(id);
    if (!candidate) return null;
    const tier = ranking.tiers[tierIndex] ?? [];
    return (
      <ResponseCard
        candidate={candidate}
        number={responseNumber(ranking, id)}
        place={`Tier ${tierIndex + 1} of ${ranking.tiers.length}${tier.length > 1 ? " · tied" : ""}`}
        tierIndex={tierIndex}
        tierCount={ranking.tiers.length}
        tied={tier.length > 1}
        selected={ranking.selected === id}
        long={isLong(candidate.text)}
        expanded={expanded.has(id)}
        comparing={compare.includes(id)}
        allowTies={ranking.allowTies}
        criteria={criteria}
        flags={ranking.flags[String(id)] ?? []}
        ratings={ranking.ratings[String(id)] ?? {}}
        onSelect={() => update((s) => editRanking(s, (r) => select(r, id)))}
        onMove={(move) => update((s) => moveResponse(s, id, move))}
        onToggleExpand={() => update((s) => toggleExpand(s, id))}
        onToggleCompare={() => update((s) => toggleCompare(s, id))}
        onFlag={(flag) => update((s) => editRanking(s, (r) => toggleFlag(r, id, flag)))}
        onRating={(dimension, value) => update((s) => editRanking(s, (r) => setRating(r, id, dimension, value)))}
      />
    );
  };

  return (
    <section className="workspace-ranking" aria-labelledby="board-heading" data-untouched={!ranking.touched || undefined}>
      <h2 id="board-heading" tabIndex={-1}>
        Rank the responses, best first
      </h2>
      <BoardHint ranking={ranking} k={candidates.length} />
      {ranking.suggestion && (
        <SuggestionLine
          text={suggestionText(ranking)}
          applied={ranking.appliedSuggestion}
          showing={showsSuggestion(ranking)}
          onApply={() => update(applySuggestedOrder)}
        />
      )}
      <RankingBoard
        state={ranking}
        renderCard={renderCard}
        onDrop={(id, target) => update((s) => dropResponse(s, id, target))}
        onDragStart={(id) => update((s) => editRanking(s, (r) => select(r, id)))}
      />
      <SubmitPanel ranking={ranking} update={update} />
    </section>
  );
}
