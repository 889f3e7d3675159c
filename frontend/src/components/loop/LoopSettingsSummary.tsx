/** The loop settings as a reviewer reads them: each setting as a label and a value. */

import { type LoopSettings, settingsSummary } from "../../review/loopSettings";
import type { RunKindInfo } from "../../review/runConfig";

export function LoopSettingsSummary({ settings, kinds }: { settings: LoopSettings; kinds: RunKindInfo[] }) {
  return (
    <dl className="settings-summary">
      {settingsSummary(settings, kinds).map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
