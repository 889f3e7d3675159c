/** "Showing 50 of 120 runs." and a button that loads the next rows of the list. */

import { moreText, nextLimit, shownText } from "../../review/paging";

export function ShowMore({
  limit,
  shown,
  count,
  step,
  noun,
  onMore,
}: {
  limit: number;
  shown: number;
  count: number;
  step: number;
  noun: string;
  onMore: (limit: number) => void;
}) {
  const text = shownText({ shown, count }, noun);
  const next = nextLimit(limit, { shown, count }, step);
  if (text === null) return null;
  return (
    <div className="pager">
      <p className="hint" role="status">
        {text}
      </p>
      {next !== null && (
        <button type="button" className="secondary" onClick={() => onMore(next)}>
          {moreText(limit, { shown, count }, step, noun)}
        </button>
      )}
    </div>
  );
}
