/** Where a round stands: its steps left to right (snapshot → reward → policy → evaluate →
 * decision → generate → AI pre-ranking → done), each done, running, waiting for a person, failed or
 * still to come. */

import { type StepMark, duration, stepProgressText } from "../../review/loop";

const STATE_TEXT = { done: "done", current: "running", waiting: "waiting for a person", failed: "failed", pending: "to come" } as const;

export function RoundSteps({ marks, round }: { marks: StepMark[]; round: number }) {
  const summary = stepProgressText(marks);
  return (
    <div className="round-progress">
      <ol className="round-steps" aria-label={`Round ${round} steps: ${summary}`}>
        {marks.map((m) => (
          <li key={m.step} className={`round-step step-${m.state}`} data-step={m.step} data-state={m.state}>
            <span className="step-name">{m.label}</span>
            <span className="visually-hidden">
              : {STATE_TEXT[m.state]}
              {m.seconds !== null ? `, ${duration(m.seconds)}` : ""}
            </span>
          </li>
        ))}
      </ol>
      <span className="hint small step-summary" aria-hidden="true">
        {summary}
      </span>
    </div>
  );
}
