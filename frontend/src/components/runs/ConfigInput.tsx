/** One key of an algorithm's config as an input (checkbox, select, number or text by its type),
 * with its default and help as the description. Used by "Start a run" and the loop settings. */

import { type ConfigField, defaultLabel, valueText } from "../../review/runConfig";
import { FieldError } from "../shared/LoadNotice";

/** One config key: its input by type, the default and help as its description. Its id is
 * `idPrefix` + the field's name (the loop settings form has two configs on one page). */
export function ConfigInput({
  field,
  text,
  error,
  onChange,
  idPrefix = "run-cfg-",
}: {
  field: ConfigField;
  text: string;
  error: string | undefined;
  onChange: (text: string) => void;
  idPrefix?: string;
}) {
  const id = `${idPrefix}${field.name}`;
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const describedBy = error ? `${errId} ${helpId}` : helpId;
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
  } as const;
  const changed = text !== valueText(field.default);
  let input;
  if (field.type === "bool") {
    input = <input type="checkbox" {...common} checked={text === "true"} onChange={(e) => onChange(String(e.target.checked))} />;
  } else if (field.type === "choice") {
    input = (
      <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
        {field.optional && <option value="">none</option>}
        {field.choices.map((c) => (
          <option key={valueText(c)} value={valueText(c)}>
            {valueText(c)}
          </option>
        ))}
      </select>
    );
  } else if (field.type === "int" || field.type === "float") {
    input = (
      <input
        {...common}
        type="number"
        step={field.type === "int" ? 1 : "any"}
        inputMode={field.type === "int" ? "numeric" : "decimal"}
        placeholder={field.optional ? "none" : undefined}
        value={text}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    input = <input {...common} type="text" value={text} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <div className={`field config-field${field.type === "bool" ? " inline-field" : ""}${changed ? " changed" : ""}`} data-config-field={field.name}>
      <label htmlFor={id}>
        <code>{field.name}</code>
      </label>
      {input}
      <FieldError id={errId} message={error} />
      <span id={helpId} className="hint small">
        Default {defaultLabel(field)}
        {field.optional && field.default !== null ? " (empty: none)" : ""}. {field.help}
      </span>
    </div>
  );
}
