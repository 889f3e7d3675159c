// @vitest-environment jsdom
/** The loop's adapter switch in jsdom: off shows no block fields; on shows them with the API's
 * defaults and help; an edit is reported with its run-config name; an error sits at its field. */

import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { adapterFields } from "../../review/loopAdapter";
import { parseRunKinds } from "../../review/runConfig";
import { AdapterFieldset } from "./AdapterFieldset";

const FIELDS = adapterFields(
  parseRunKinds([
    {
      kind: "dpo",
      label: "DPO",
      config_fields: [
        {
          name: "adapter",
          type: "block",
          default: null,
          optional: true,
          help: "Train a PEFT adapter.",
          fields: [
            { name: "r", type: "int", optional: false, default: 16, help: "LoRA rank.", choices: null },
            { name: "quantization", type: "choice", optional: false, default: "none", choices: ["none", "4bit"], help: "QLoRA." },
          ],
        },
      ],
    },
  ])!,
);

let last: Record<string, string> = {};

function Harness({ errors = {}, initial = {} }: { errors?: Record<string, string>; initial?: Record<string, string> }) {
  const [edits, setEdits] = useState(initial);
  return (
    <form>
      <AdapterFieldset
        fields={FIELDS}
        edits={edits}
        errors={errors}
        onEdit={(next) => {
          last = next;
          setEdits(next);
        }}
      />
    </form>
  );
}

afterEach(cleanup);

describe("AdapterFieldset", () => {
  it("shows the block's fields, with the API's defaults and help, only while the switch is on", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const toggle = screen.getByLabelText("Adapters (LoRA)");
    expect(toggle).toHaveProperty("checked", false);
    expect(screen.queryByLabelText("adapter.r")).toBeNull();

    await user.click(toggle);
    expect(last).toEqual({ adapter: "true" });
    const rank = screen.getByLabelText("adapter.r");
    expect(rank).toHaveProperty("value", "16");
    expect(rank.getAttribute("aria-describedby")).toBe("loop-adapter.r-help");
    expect(document.getElementById("loop-adapter.r-help")?.textContent).toBe("Default 16. LoRA rank.");
    expect(screen.getByLabelText("adapter.quantization")).toHaveProperty("value", "none");

    await user.clear(rank);
    await user.type(rank, "8");
    expect(last).toEqual({ adapter: "true", "adapter.r": "8" });

    await user.click(toggle);
    expect(screen.queryByLabelText("adapter.r")).toBeNull();
    expect(last["adapter"]).toBe("false");
  });

  it("puts the API's error next to its field", () => {
    render(<Harness initial={{ adapter: "true", "adapter.r": "0" }} errors={{ "adapter.r": "Must be between 1 and 1024." }} />);
    const rank = screen.getByLabelText("adapter.r");
    expect(rank.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById("loop-adapter.r-err")?.textContent).toBe("Must be between 1 and 1024.");
  });

  it("is not shown when the run kinds have no adapter block", () => {
    const { container } = render(<AdapterFieldset fields={[]} edits={{}} errors={{}} onEdit={() => {}} />);
    expect(container.innerHTML).toBe("");
  });
});
