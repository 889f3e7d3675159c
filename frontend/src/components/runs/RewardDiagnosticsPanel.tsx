/** "Reward model diagnostics" on a reward run's page: held-out accuracy beside the length
 * baseline and the annotators' ceiling, train vs held-out, calibration (ECE and the reliability
 * table) and accuracy per prompt metadata group. Metadata keys and values are untrusted text,
 * rendered as text. */

import { fixed, percent } from "../../review/resource";
import { type RewardDiagnostics, type GroupKey, verdict } from "../../review/rewardDiagnostics";

/** A train accuracy this far above held-out is memorising (InstructGPT's RMs: 72 % vs 70 %). */
export const MEMORISING_GAP = 0.1;

function Stat({ id, label, value, note }: { id: string; label: string; value: string; note?: string | undefined }) {
  return (
    <div className="stat" data-stat={id}>
      <dt>{label}</dt>
      <dd>{value}</dd>
      {note && <dd className="hint small">{note}</dd>}
    </div>
  );
}

function GroupTable({ groupKey }: { groupKey: GroupKey }) {
  const label = `Held-out accuracy per ${groupKey.key}`;
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table className="data-table diagnostics-groups" data-group-key={groupKey.key}>
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">{groupKey.key}</th>
            <th scope="col">Pairs</th>
            <th scope="col">Accuracy</th>
            <th scope="col">Length baseline</th>
          </tr>
        </thead>
        <tbody>
          {groupKey.groups.map((g) => (
            <tr key={g.value}>
              <th scope="row">{g.value}</th>
              <td>{g.pairs}</td>
              <td>{percent(g.accuracy)}</td>
              <td>{percent(g.lengthBaseline)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RewardDiagnosticsPanel({ diagnostics: d }: { diagnostics: RewardDiagnostics }) {
  const ceiling = d.ceiling;
  const memorising = d.gap !== null && d.gap > MEMORISING_GAP;
  return (
    <section className="panel reward-diagnostics" aria-labelledby="reward-diagnostics-heading">
      <h2 id="reward-diagnostics-heading">Reward model diagnostics</h2>
      <p className="diagnostics-verdict">{verdict(d)}</p>
      <dl className="stats">
        <Stat id="heldout" label="Held-out accuracy" value={percent(d.heldout?.accuracy)} note={d.heldout ? `${d.heldout.pairs} pairs` : undefined} />
        <Stat id="length" label="Length baseline" value={percent(d.heldout?.lengthBaseline)} note={`longer ${d.lengthUnit === "characters" ? "in characters" : d.lengthUnit} wins`} />
        <Stat
          id="ceiling"
          label="Annotator ceiling"
          value={percent(ceiling?.accuracy)}
          note={ceiling && ceiling.accuracy !== null ? `agreement ${percent(ceiling.agreement)} on ${ceiling.sets} sets` : undefined}
        />
        <Stat id="train" label="Train accuracy" value={percent(d.train?.accuracy)} note={d.train ? `${d.train.pairs} of ${d.train.ofPairs} pairs` : undefined} />
        <Stat id="gap" label="Train − held-out" value={d.gap === null ? "–" : `${d.gap >= 0 ? "+" : ""}${Math.round(d.gap * 100)} pts`} />
        <Stat id="ece" label="Calibration error (ECE)" value={fixed(d.calibration?.ece, 3)} />
      </dl>
      {ceiling && ceiling.accuracy === null && <p className="hint ceiling-reason">No ceiling: {ceiling.reason || "no annotator agreement measured."}</p>}
      {ceiling && ceiling.goldAccuracy !== null && (
        <p className="hint">
          The annotators score {percent(ceiling.goldAccuracy)} on gold sets ({ceiling.goldRankings} rankings).
        </p>
      )}
      {memorising && <p className="hint memorising">Train accuracy is well above held-out: the model memorises its train pairs.</p>}

      {d.calibration && (
        <div className="table-wrap" role="region" aria-label="Reliability of P(chosen ≻ rejected)" tabIndex={0}>
          <table className="data-table reliability-table">
            <caption>
              Reliability: confidence vs accuracy · Brier {fixed(d.calibration.brier, 3)} · log loss {fixed(d.calibration.logLoss, 3)}
            </caption>
            <thead>
              <tr>
                <th scope="col">Confidence bin</th>
                <th scope="col">Pairs</th>
                <th scope="col">Mean confidence</th>
                <th scope="col">Accuracy</th>
              </tr>
            </thead>
            <tbody>
              {d.calibration.bins.map((b) => (
                <tr key={b.lower}>
                  <th scope="row">
                    {fixed(b.lower)}–{fixed(b.upper)}
                  </th>
                  <td>{b.count}</td>
                  <td>{percent(b.confidence)}</td>
                  <td>{percent(b.accuracy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {d.groups.map((k) => (
        <GroupTable key={k.key} groupKey={k} />
      ))}
      {d.groups.length === 0 && <p className="hint">No prompt metadata key splits the held-out pairs into 2 to 50 groups.</p>}
      {d.groupsSkipped.length > 0 && (
        <p className="hint groups-skipped">
          Not grouped by: {d.groupsSkipped.map((k) => `${k.key} (${k.reason})`).join(", ")}.
        </p>
      )}
    </section>
  );
}
