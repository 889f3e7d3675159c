/** Whether annotators see the reward model's suggested order: a checkbox for admins (shown as
 * asked at once, put back if the server refuses), a sentence for reviewers. */

import { useState } from "react";
import type { ProjectSummary } from "../../projects";
import { setShowAiSuggestion } from "../../review/reviewApi";

type Notice = { tone: "info" | "error"; text: string } | null;

export function SuggestionToggle({
  project,
  isAdmin,
  onChanged,
  onSignedOut,
}: {
  project: ProjectSummary;
  isAdmin: boolean;
  onChanged: (project: ProjectSummary) => void;
  onSignedOut: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Notice>(null);
  // Shown as asked at once; put back if the server refuses.
  const [asked, setAsked] = useState<boolean | null>(null);
  if (!isAdmin) {
    return (
      <p data-setting="show_ai_suggestion">
        Annotators {project.showAiSuggestion ? "see" : "do not see"} the reward model's suggested order.
      </p>
    );
  }
  return (
    <div className="panel suggestion-toggle">
      <div className="field inline-field" data-setting="show_ai_suggestion">
        <input
          id="show-ai-suggestion"
          type="checkbox"
          checked={asked ?? project.showAiSuggestion}
          disabled={busy}
          aria-describedby="show-ai-suggestion-hint"
          onChange={async (e) => {
            const show = e.target.checked;
            setAsked(show);
            setBusy(true);
            const result = await setShowAiSuggestion(project.id, show);
            setBusy(false);
            setAsked(null);
            if (result.kind === "signed-out") return onSignedOut();
            if (result.kind === "loaded") {
              onChanged(result.value);
              setMessage({ tone: "info", text: show ? "Annotators now see the suggestion." : "Annotators no longer see the suggestion." });
            } else setMessage({ tone: "error", text: `Not changed: ${result.message}` });
          }}
        />
        <label htmlFor="show-ai-suggestion">Show annotators the reward model's suggested order</label>
        <span id="show-ai-suggestion-hint" className="hint small">
          Off by default: a suggestion anchors people. Needs “AI pre-ranking” on, so new sets have one. Submissions record whether it was applied.
        </span>
      </div>
      <p role="status" className={message?.tone === "error" ? "form-error" : "form-status"}>
        {message?.text ?? ""}
      </p>
    </div>
  );
}
