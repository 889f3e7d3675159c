/** An algorithm's config in the loop settings, folded: "Reward-model config: 6 settings, 1 changed
 * from the defaults", one input per field when opened (always open while a field is in error); a
 * block's fields only while its switch is on, as in "Start a run". */

import { useState } from "react";
import { type ConfigField, fieldText, shownFields, valueText } from "../../review/runConfig";
import { ConfigInput } from "../runs/ConfigInput";

export function ConfigDetails({
  title,
  name,
  fields,
  edits,
  errors,
  idPrefix,
  onEdit,
}: {
  title: string;
  name: "reward_config" | "policy_config";
  fields: ConfigField[];
  edits: Record<string, string>;
  errors: Record<string, string>;
  idPrefix: string;
  onEdit: (edits: Record<string, string>) => void;
}) {
  const [open, setOpen] = useState(false);
  const hasErrors = Object.keys(errors).some((k) => k.startsWith(`${name}.`));
  const changed = fields.filter((f) => f.name in edits && edits[f.name] !== valueText(f.default)).length;
  return (
    <details className="config-details" open={open || hasErrors} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {title}: {fields.length} settings, {changed} changed from the defaults
      </summary>
      <fieldset className="config-grid" data-config={name}>
        <legend className="visually-hidden">{title}</legend>
        {shownFields(fields, edits).map((f) => (
          <ConfigInput
            key={f.name}
            field={f}
            idPrefix={idPrefix}
            text={fieldText(f, edits)}
            error={errors[`${name}.${f.name}`]}
            onChange={(text) => onEdit({ ...edits, [f.name]: text })}
          />
        ))}
      </fieldset>
    </details>
  );
}
