// @vitest-environment jsdom
/** The guidelines editor in jsdom: the preview follows the text as it is typed and is sanitised
 * (a script tag or a javascript: link in the markdown never becomes live markup). */

import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { GuidelinesEditor } from "./GuidelinesEditor";

function Harness() {
  const [value, setValue] = useState("");
  return <GuidelinesEditor value={value} error={undefined} onChange={setValue} />;
}

afterEach(cleanup);

describe("GuidelinesEditor", () => {
  it("previews the markdown live, sanitised", async () => {
    render(<Harness />);
    expect(screen.getByText("Annotators see no guidelines.")).toBeTruthy();
    const box = screen.getByLabelText("Guidelines (markdown)");
    await userEvent.type(box, "Rank **best** first <script>x()</script> [go](javascript:alert(1))");
    const preview = screen.getByRole("region", { name: "Preview" });
    expect(preview.querySelector("strong")?.textContent).toBe("best");
    expect(preview.querySelector("script")).toBeNull();
    expect(preview.querySelector("a[href^='javascript']")).toBeNull();
  });
});
