/** "?": every keyboard shortcut of the workspace. */

import { SHORTCUTS } from "../../ranking/keyboard";
import { Modal } from "../shared/Modal";

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">What they do</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.does}>
              <td>
                {s.keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && (k === "…" || s.keys[i - 1] === "…" ? " " : " or ")}
                    {k === "…" ? "…" : <kbd>{k}</kbd>}
                  </span>
                ))}
              </td>
              <td>{s.does}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
