/** Who is signed in, with a "Sign out" button; shown in place of the sign-in form. */

import { type Me, signedInText } from "../session";

export interface AccountBarProps {
  me: Me;
  signOut: () => Promise<string | null>;
  onSignedOut: () => void;
}

export interface AccountBarView {
  root: HTMLElement;
  /** Move focus to the "Signed in as" line (after signing in, the form focus was in is gone). */
  focus: () => void;
}

export function AccountBar({ me, signOut, onSignedOut }: AccountBarProps): AccountBarView {
  const root = document.createElement("div");
  root.className = "account-bar";

  const who = document.createElement("p");
  who.id = "signed-in-as";
  who.tabIndex = -1;
  who.textContent = signedInText(me);

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Sign out";

  const error = document.createElement("p");
  error.className = "form-error";
  error.setAttribute("role", "alert");

  root.append(who, button);
  if (me.role === null) {
    const noRole = document.createElement("p");
    noRole.className = "hint";
    noRole.textContent = "Your account has no role yet: ask an admin to give it one.";
    root.append(noRole);
  }
  root.append(error);

  button.addEventListener("click", () => {
    button.disabled = true;
    error.textContent = "";
    void signOut().then((message) => {
      button.disabled = false;
      if (message === null) onSignedOut();
      else error.textContent = message;
    });
  });

  return { root, focus: () => who.focus() };
}
