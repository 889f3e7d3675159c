/** The project's model versions ranked by Bradley–Terry rating, judged by the reward model or
 * by humans (a toggle): a table (rank, model, rating, 95 % interval, W / L / T, comparisons) and
 * a dot-and-whisker chart of the same ratings and intervals. */

import {
  type Leaderboard as Board,
  type LeaderboardSource,
  BASE_RATING,
  intervalText,
  leaderboardLayout,
  leaderboardSummary,
  rankEntries,
  ratingText,
} from "../../review/leaderboard";
import type { Loaded } from "../../review/resource";
import { LoadNotice } from "../shared/LoadNotice";

const FRAME = { width: 540, left: 130, right: 48, top: 8, bottom: 30, rowHeight: 30 };
const LABEL_CHARS = 22;
// The labels' font is about 7 px per character at this size: the left margin grows with the
// longest label (up to LABEL_CHARS characters and the rank) so no name is cut at the edge.
const CHAR_PX = 7;

function truncate(name: string, max = LABEL_CHARS): string {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

function LeaderboardChart({ board }: { board: Board }) {
  const longest = Math.max(0, ...board.entries.map((e) => truncate(e.name).length + 4));
  const frame = { ...FRAME, left: Math.max(FRAME.left, 12 + CHAR_PX * longest) };
  const layout = leaderboardLayout(board.entries, frame);
  const summary = leaderboardSummary(board.entries, board.source);
  return (
    <figure className="leaderboard-chart">
      <svg viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label={summary}>
        {layout.ticks.map((t) => (
          <g key={t.value}>
            <line className="grid" x1={t.x} x2={t.x} y1={layout.plot.y0} y2={layout.plot.y1} />
            <text className="tick" x={t.x} y={layout.plot.y1 + 14} textAnchor="middle">
              {t.value}
            </text>
          </g>
        ))}
        <line className="expected base-line" x1={layout.baseX} x2={layout.baseX} y1={layout.plot.y0} y2={layout.plot.y1} />
        <text className="tick" x={layout.plot.x1} y={layout.height - 2} textAnchor="end">
          rating ({BASE_RATING} = mean)
        </text>
        {layout.rows.map((row) => (
          <g key={row.entry.modelVersion} data-model={row.entry.modelVersion} className="leaderboard-row">
            <text className="label" x={frame.left - 8} y={row.y + 4} textAnchor="end">
              {row.entry.rank === null ? "–" : `${row.entry.rank}.`} {truncate(row.entry.name)}
            </text>
            {row.x1 !== null && row.x2 !== null && <line className="whisker" x1={row.x1} x2={row.x2} y1={row.y} y2={row.y} />}
            {row.x1 !== null && <line className="whisker-end" x1={row.x1} x2={row.x1} y1={row.y - 5} y2={row.y + 5} />}
            {row.x2 !== null && <line className="whisker-end" x1={row.x2} x2={row.x2} y1={row.y - 5} y2={row.y + 5} />}
            {row.x !== null ? (
              <circle className="rating-dot" cx={row.x} cy={row.y} r={5}>
                <title>{`${row.entry.name}: ${ratingText(row.entry)} (95% interval ${intervalText(row.entry)})`}</title>
              </circle>
            ) : (
              <text className="tick" x={frame.left} y={row.y + 4}>
                not compared yet
              </text>
            )}
            {row.x !== null && (
              <text className="tick" x={(row.x2 ?? row.x) + 8} y={row.y + 4}>
                {ratingText(row.entry)}
              </text>
            )}
          </g>
        ))}
      </svg>
      <figcaption className="hint small">
        Dot: rating; bar: 95 % bootstrap interval; dashed line: {BASE_RATING}, the mean of the versions compared. 100 points ≈ 64 % odds
        of winning.
      </figcaption>
    </figure>
  );
}

export function LeaderboardSection({
  board,
  source,
  onSource,
  isAdmin,
}: {
  board: Loaded<Board> | null;
  source: LeaderboardSource;
  onSource: (source: LeaderboardSource) => void;
  isAdmin: boolean;
}) {
  const loaded = board?.kind === "loaded" ? board.value : null;
  const entries = loaded ? rankEntries(loaded.entries) : [];
  return (
    <section aria-labelledby="leaderboard-heading" className="leaderboard">
      <h2 id="leaderboard-heading">Leaderboard</h2>
      <fieldset className="source-toggle">
        <legend>Judged by</legend>
        <label className="check">
          <input type="radio" name="leaderboard-source" value="rm" checked={source === "rm"} onChange={() => onSource("rm")} />
          Reward model
        </label>
        <label className="check">
          <input type="radio" name="leaderboard-source" value="human" checked={source === "human"} onChange={() => onSource("human")} />
          Humans
        </label>
      </fieldset>
      <p className="hint">
        {source === "rm"
          ? "Each round's reward model judges its new policy's samples against earlier policies' on the held-out prompts."
          : "From human rankings of sets whose candidates come from different model versions."}
        {loaded && loaded.comparisons > 0 && ` ${loaded.comparisons} comparisons.`}
      </p>
      {!loaded && <LoadNotice state={board} what="the leaderboard" />}
      {loaded && entries.length === 0 && (
        <p>
          No comparisons yet.{" "}
          {source === "human"
            ? "Set the loop to mix the previous policy's candidates into new sets, so annotators compare versions."
            : "Each finished round adds its reward model's judgements."}
        </p>
      )}
      {loaded && entries.length > 0 && (
        <div className="leaderboard-body">
          <div className="table-wrap" role="region" aria-label="Leaderboard table" tabIndex={0}>
            <table className="data-table leaderboard-table">
              <thead>
                <tr>
                  <th scope="col">Rank</th>
                  <th scope="col">Model</th>
                  <th scope="col">Rating</th>
                  <th scope="col">95 % interval</th>
                  <th scope="col">W / L / T</th>
                  <th scope="col">Comparisons</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.modelVersion} data-model={e.modelVersion}>
                    <td data-col="rank">{e.rank ?? "–"}</td>
                    <th scope="row" data-col="name">
                      {isAdmin ? <a href={`#/models/${e.modelVersion}`}>{e.name}</a> : e.name}
                    </th>
                    <td data-col="rating">{ratingText(e)}</td>
                    <td data-col="ci">{intervalText(e)}</td>
                    <td data-col="wlt">
                      {e.wins} / {e.losses} / {e.ties}
                    </td>
                    <td data-col="comparisons">{e.comparisons}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LeaderboardChart board={loaded} />
        </div>
      )}
    </section>
  );
}
