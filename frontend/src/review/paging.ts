/** "Show more" over a limit/offset list: the page asks for the first `limit` rows and raises
 * the limit by a step, so a refresh (runs and jobs poll) re-reads everything shown. Pure. */

export interface Shown {
  /** Rows on the page. */
  shown: number;
  /** Rows the API has in all. */
  count: number;
}

/** "Showing 50 of 120 runs."; null when every row is shown. */
export function shownText({ shown, count }: Shown, noun: string): string | null {
  return shown < count ? `Showing ${shown} of ${count} ${noun}.` : null;
}

/** The next limit, or null when nothing is left to load. */
export function nextLimit(limit: number, { count }: Shown, step: number): number | null {
  return limit >= count ? null : limit + step;
}

/** What "Show more" says: how many it adds (at most `step`). */
export function moreText(limit: number, { count }: Shown, step: number, noun: string): string {
  return `Show ${Math.min(step, Math.max(0, count - limit))} more ${noun}`;
}
