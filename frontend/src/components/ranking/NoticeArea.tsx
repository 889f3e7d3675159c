/** The polite live region the keyboard's results are read out in, and the visible notice
 * (an alert when it is an error), with "Go to the next set" once a set was lost. */

import type { Lost, Notice } from "../../ranking/workspace";

export function NoticeArea({
  announcement,
  notice,
  lost,
  onNextSet,
}: {
  announcement: string;
  notice: Notice | null;
  lost: Lost | null;
  onNextSet: () => void;
}) {
  return (
    <>
      <div className="live visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <div className="notice-area" aria-live="polite">
        {notice && (
          <div className={`notice notice-${notice.tone}`} role={notice.tone === "error" ? "alert" : undefined}>
            <p>{notice.text}</p>
            {lost && (
              <button type="button" onClick={onNextSet}>
                Go to the next set
              </button>
            )}
          </div>
        )}
      </div>
    </>
  );
}
