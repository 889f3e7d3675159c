// @vitest-environment jsdom
/** The blind human A/B setting in the evaluation fieldset: a labelled number input with its
 * hint, an edit reported as the form's `humanEvalPrompts`, the server's error beside it. */

import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { type LoopForm, type LoopSettings, loopForm, parseLoopSettings } from "../../review/loopSettings";
import { EvaluationFieldset } from "./LoopSettingsFieldsets";

const FORM = loopForm(
  parseLoopSettings({ project: 1, auto: false, policy_kind: "dpo", human_eval_prompts: 0, eval_prompts: [] }) as LoopSettings,
);

afterEach(cleanup);

describe("the blind human A/B setting", () => {
  it("edits the prompts per round, 0 meaning off", () => {
    const edits: Partial<LoopForm>[] = [];
    render(<EvaluationFieldset form={FORM} errors={{}} onChange={(patch) => edits.push(patch)} evalPromptCount={0} />);
    const input = screen.getByLabelText("Blind human A/B prompts per round") as HTMLInputElement;
    expect(input.value).toBe("0");
    expect(input.getAttribute("aria-invalid")).toBeNull();
    expect(document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent).toMatch(/^0: off\./);
    fireEvent.change(input, { target: { value: "12" } });
    expect(edits).toEqual([{ humanEvalPrompts: "12" }]);
  });

  it("shows the server's error next to the field, first in its description", () => {
    const error = "Ensure this value is less than or equal to 1000.";
    render(<EvaluationFieldset form={FORM} errors={{ human_eval_prompts: error }} onChange={() => undefined} evalPromptCount={0} />);
    const input = screen.getByLabelText("Blind human A/B prompts per round");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const first = (input.getAttribute("aria-describedby") ?? "").split(" ")[0] ?? "";
    expect(document.getElementById(first)?.textContent).toBe(error);
    expect(input.closest("[data-setting='human_eval_prompts']")?.textContent).toContain(error);
  });
});
