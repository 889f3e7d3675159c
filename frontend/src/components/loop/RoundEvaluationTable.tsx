/** Each round's evaluation: the reward model's held-out accuracy against the length baseline,
 * the policy before → after (trait rate, mean reward), its win-rate against the policy it
 * started from as the round's own reward model judged it (self-judged) beside the judge reward
 * model's (independent: it trained on the held-out split), the length-controlled one and the
 * annotators' blind A/B, how the AI pre-ranking agreed with the humans, and the time per step. */

import { type LoopRound, type RoundDetail, type RoundEvaluation, change, duration, orderedTimings, stepLabel } from "../../review/loop";
import { awaitsHumanEval, humanEvalProgressText, rateWithInterval } from "../../review/loopVerdict";
import { RoundRewardDiagnostics } from "./RoundRewardDiagnostics";
import { fixed, percent } from "../../review/resource";

function rate(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : percent(value);
}

function IndependentWinRate({ e }: { e: RoundEvaluation }) {
  const win = e.independentWinRate;
  if (win) {
    return (
      <>
        {rateWithInterval(win.winRate, win.ciLow, win.ciHigh)}{" "}
        <span className="hint">
          ({win.wins} / {win.losses} / {win.ties})
        </span>
        {win.hardWinRate !== null && (
          <span className="hint small block" data-hard-win-rate>
            calibrated; plain wins {rate(win.hardWinRate)}
          </span>
        )}
        {e.judge?.accuracy != null && (
          <span className="hint small block">
            judge {rate(e.judge.accuracy)} ({rate(e.judge.lengthBaseline)}) on {e.judge.pairs} train pairs
          </span>
        )}
      </>
    );
  }
  if (e.judge && e.judge.modelVersion === null) return <span className="hint">no judge: {e.judge.reason}</span>;
  return <>–</>;
}

/** The annotators' blind A/B win-rate with its interval; the reason where there is no figure;
 * their progress while the round waits for them. */
function HumanWinRate({ round }: { round: LoopRound }) {
  const human = round.evaluation.humanWinRate;
  if (!human) return awaitsHumanEval(round) ? <span className="hint">waiting: {humanEvalProgressText(round.humanEval)}</span> : <>–</>;
  const partial = human.partial && (
    <span className="hint small block" data-partial>
      partial: decided before every A/B set was ranked
    </span>
  );
  if (human.winRate === null) {
    return (
      <>
        <span className="hint">no figure: {human.reason}</span>
        {partial}
      </>
    );
  }
  return (
    <>
      {rateWithInterval(human.winRate, human.ciLow, human.ciHigh)}
      <span className="hint small block">
        {human.comparisons} comparisons in {human.rankings} rankings on {human.prompts} prompts
      </span>
      {partial}
    </>
  );
}

function selectionText(r: LoopRound): string {
  const s = r.selection;
  if (!s) return "–";
  const how = s.method === "uncertainty" ? "least certain" : s.method;
  const margins =
    s.meanMarginChosen !== null && s.meanMarginPool !== null
      ? ` (margin ${fixed(s.meanMarginChosen)} vs ${fixed(s.meanMarginPool)} in the pool)`
      : "";
  return `${s.chosen} of ${s.pool}, ${how}${margins}`;
}

export function RoundEvaluationTable({
  rounds,
  details,
  isAdmin = false,
}: {
  rounds: LoopRound[];
  details: ReadonlyMap<number, RoundDetail>;
  isAdmin?: boolean;
}) {
  const newestFirst = [...rounds].sort((a, b) => b.number - a.number);
  return (
    <div className="table-wrap" role="region" aria-label="Evaluation of each round" tabIndex={0}>
      <table className="data-table evaluation-table">
        <caption className="visually-hidden">Evaluation of each round</caption>
        <thead>
          <tr>
            <th scope="col">Round</th>
            <th scope="col">RM accuracy (length baseline)</th>
            <th scope="col">Trait rate base → new</th>
            <th scope="col">Mean reward base → new</th>
            <th scope="col">Self-judged win-rate vs base (W / L / T)</th>
            <th scope="col">Independent win-rate (95 %, W / L / T)</th>
            <th scope="col">Length-controlled win-rate</th>
            <th scope="col">Annotators' blind A/B win-rate (95 %)</th>
            <th scope="col">AI agreement (τ, top choice)</th>
            <th scope="col">Next prompts</th>
            <th scope="col">Step timings</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((r) => {
            const e = r.evaluation;
            const ai = details.get(r.id)?.aiAgreement ?? null;
            const diagnostics = details.get(r.id)?.rewardDiagnostics ?? null;
            const hasOracle = e.policy?.traitRate !== null && e.policy?.traitRate !== undefined;
            return (
              <tr key={r.id} data-eval-round={r.number}>
                <th scope="row">Round {r.number}</th>
                <td data-col="rm_accuracy">
                  {e.reward ? (
                    <>
                      {rate(e.reward.accuracy)} <span className="hint">({rate(e.reward.lengthBaseline)})</span>
                      <span className="hint small block">{e.reward.pairs} held-out pairs</span>
                      {diagnostics && <RoundRewardDiagnostics d={diagnostics} runId={r.rewardRun} linkRun={isAdmin} />}
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td data-col="trait_rate">
                  {hasOracle ? `${rate(e.basePolicy?.traitRate)} → ${rate(e.policy?.traitRate)}` : "–"}
                  {hasOracle && e.policy?.wellFormedRate != null && (
                    <span className="hint small block">
                      well-formed {rate(e.policy.wellFormedRate)}, on topic {rate(e.policy.relevanceRate)}
                    </span>
                  )}
                </td>
                <td data-col="mean_reward">
                  {e.policy ? change(e.basePolicy?.meanReward, e.policy.meanReward) : "–"}
                  {e.prompts !== null && e.policy && (
                    <span className="hint small block">
                      {e.policy.samples} samples, {e.prompts} prompts
                    </span>
                  )}
                </td>
                <td data-col="win_rate">
                  {e.winRate ? (
                    <>
                      {rate(e.winRate.winRate)}{" "}
                      <span className="hint">
                        ({e.winRate.wins} / {e.winRate.losses} / {e.winRate.ties})
                      </span>
                      {e.winRate.ciLow !== null && e.winRate.ciHigh !== null && (
                        <span className="hint small block">
                          95 % {rate(e.winRate.ciLow)}–{rate(e.winRate.ciHigh)}, by the round's own reward model
                        </span>
                      )}
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td data-col="independent_win_rate">
                  <IndependentWinRate e={e} />
                </td>
                <td data-col="lc_win_rate">
                  {e.lengthControlledWinRate
                    ? rateWithInterval(e.lengthControlledWinRate.winRate, e.lengthControlledWinRate.ciLow, e.lengthControlledWinRate.ciHigh)
                    : "–"}
                </td>
                <td data-col="human_win_rate">
                  <HumanWinRate round={r} />
                </td>
                <td data-col="ai_agreement">
                  {ai ? (
                    <>
                      τ {fixed(ai.meanTau)}, top {rate(ai.topChoiceAgreement)}
                      <span className="hint small block">
                        {ai.rankings} human rankings of {ai.sets} sets
                      </span>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td data-col="selection">{selectionText(r)}</td>
                <td data-col="step_seconds">
                  {Object.keys(r.stepSeconds).length === 0 ? (
                    "–"
                  ) : (
                    <ul className="timings">
                      {orderedTimings(r.stepSeconds).map(([step, s]) => (
                        <li key={step} data-step={step}>
                          {stepLabel(step)} {duration(s)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
