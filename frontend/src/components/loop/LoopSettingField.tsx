/** One loop setting as a labelled input (number, select or checkbox) with its error and hint; the
 * error comes first in the input's description. Ids: `loop-<setting>`, `loop-err-<setting>`. */

import type { ReactNode } from "react";
import type { LoopInput } from "../../review/loopSettings";
import { FieldError } from "../shared/LoadNotice";

const errId = (setting: string) => `loop-err-${setting.replace(/\W/g, "-")}`;

type InputAttributes = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

interface SettingProps {
  setting: LoopInput;
  label: string;
  error: string | undefined;
  hint?: string;
}

function SettingField({ setting, label, error, hint, input }: SettingProps & { input: (attributes: InputAttributes) => ReactNode }) {
  const id = `loop-${setting.replace(/\W/g, "-")}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const describedBy = [error ? errId(setting) : undefined, hintId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field" data-setting={setting}>
      <label htmlFor={id}>{label}</label>
      {input({ id, ...(error ? { "aria-invalid": true as const } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}) })}
      <FieldError id={errId(setting)} message={error} />
      {hint && (
        <span id={hintId} className="hint small">
          {hint}
        </span>
      )}
    </div>
  );
}

export function NumberSetting({
  value,
  step = 1,
  placeholder,
  onChange,
  ...field
}: SettingProps & { value: string; step?: number | "any"; placeholder?: string; onChange: (value: string) => void }) {
  return (
    <SettingField
      {...field}
      input={(attributes) => (
        <input
          {...attributes}
          type="number"
          step={step}
          {...(placeholder ? { placeholder } : {})}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    />
  );
}

export function SelectSetting({
  value,
  choices,
  onChange,
  ...field
}: SettingProps & { value: string; choices: [string, string][]; onChange: (value: string) => void }) {
  return (
    <SettingField
      {...field}
      input={(attributes) => (
        <select {...attributes} value={value} onChange={(e) => onChange(e.target.value)}>
          {choices.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

/** A switch: the checkbox before its label, the hint always in its description. */
export function CheckboxSetting({
  setting,
  label,
  error,
  hint,
  checked,
  onChange,
}: SettingProps & { hint: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <div className="field inline-field" data-setting={setting}>
      <input
        id={`loop-${setting}`}
        type="checkbox"
        checked={checked}
        aria-describedby={`loop-${setting}-hint${error ? ` ${errId(setting)}` : ""}`}
        onChange={(e) => onChange(e.target.checked)}
      />
      <label htmlFor={`loop-${setting}`}>{label}</label>
      <FieldError id={errId(setting)} message={error} />
      <span id={`loop-${setting}-hint`} className="hint small">
        {hint}
      </span>
    </div>
  );
}
