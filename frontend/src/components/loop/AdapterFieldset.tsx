/** The loop's adapter setting: a switch (off: every round fine-tunes all weights) and, while it is
 * on, the LoRA block's fields as the run kinds list them (defaults and help from the API), each
 * with its error (`adapter.r`) beside it. Ids: `loop-adapter`, `loop-adapter.r`, … */

import { ADAPTER, adapterIsOn } from "../../review/loopAdapter";
import { type ConfigField, fieldText, shownFields } from "../../review/runConfig";
import { ConfigInput } from "../runs/ConfigInput";
import { CheckboxSetting } from "./LoopSettingField";

export function AdapterFieldset({
  fields,
  edits,
  errors,
  onEdit,
}: {
  /** The block's switch and fields (review/loopAdapter.ts adapterFields); none: not shown. */
  fields: ConfigField[];
  edits: Record<string, string>;
  errors: Record<string, string>;
  onEdit: (edits: Record<string, string>) => void;
}) {
  if (fields.length === 0) return null;
  return (
    <fieldset className="form-grid" data-config={ADAPTER}>
      <legend>Adapters</legend>
      <CheckboxSetting
        setting={ADAPTER}
        label="Adapters (LoRA)"
        hint="Off: full fine-tuning. On: each round's reward and policy runs train a LoRA adapter on the frozen previous policy."
        error={errors[ADAPTER]}
        checked={adapterIsOn(fields, edits)}
        onChange={(on) => onEdit({ ...edits, [ADAPTER]: String(on) })}
      />
      {shownFields(fields, edits)
        .filter((f) => !f.toggle)
        .map((f) => (
          <ConfigInput
            key={f.name}
            field={f}
            idPrefix="loop-"
            text={fieldText(f, edits)}
            error={errors[f.name]}
            onChange={(text) => onEdit({ ...edits, [f.name]: text })}
          />
        ))}
    </fieldset>
  );
}
