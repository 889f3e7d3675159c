import "./style.css";
import { type SessionLine, type SessionState, describeSession, sessionStateFrom } from "./session";

async function fetchSession(): Promise<SessionState> {
  try {
    const response = await fetch("/api/v1/me/", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body: unknown = response.ok ? await response.json() : null;
    return sessionStateFrom(response.status, body);
  } catch {
    return { kind: "unavailable", reason: "the server could not be reached" };
  }
}

/** Text goes in through textContent only: usernames are user input. */
function renderSessionLine(element: HTMLElement, line: SessionLine): void {
  element.replaceChildren(document.createTextNode(line.text));
  if (line.link) {
    const anchor = document.createElement("a");
    anchor.href = line.link.href;
    anchor.textContent = line.link.text;
    element.append(" ", anchor);
  }
}

const sessionElement = document.getElementById("session");
if (sessionElement) {
  void fetchSession().then((state) => renderSessionLine(sessionElement, describeSession(state)));
}
