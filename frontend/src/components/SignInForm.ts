/**
 * The sign-in form shown to a signed-out visitor: username, password, and an alert region that
 * says why a sign-in was refused. Annotators are not staff, so /admin/login/ is not for them.
 */

import type { Me } from "../session";
import type { SignInResult } from "../signIn";

export interface SignInFormProps {
  signIn: (username: string, password: string) => Promise<SignInResult>;
  onSignedIn: (me: Me) => void;
}

export interface SignInFormView {
  root: HTMLFormElement;
  /** Move focus into the form (after signing out, so keyboard users land somewhere useful). */
  focus: () => void;
}

/** A labelled, required input; `attributes` are plain HTML attributes (type, autocomplete…). */
function field(
  id: string,
  label: string,
  attributes: Record<string, string>,
): [HTMLElement, HTMLInputElement] {
  const wrapper = document.createElement("div");
  wrapper.className = "field";
  const labelElement = document.createElement("label");
  labelElement.htmlFor = id;
  labelElement.textContent = label;
  const input = document.createElement("input");
  input.id = id;
  input.name = id;
  input.required = true;
  for (const [name, value] of Object.entries(attributes)) input.setAttribute(name, value);
  input.setAttribute("aria-describedby", "sign-in-error");
  wrapper.append(labelElement, input);
  return [wrapper, input];
}

export function SignInForm({ signIn, onSignedIn }: SignInFormProps): SignInFormView {
  const form = document.createElement("form");
  form.className = "sign-in";
  form.setAttribute("aria-labelledby", "sign-in-heading");

  const heading = document.createElement("h3");
  heading.id = "sign-in-heading";
  heading.textContent = "Sign in";

  const hint = document.createElement("p");
  hint.className = "hint";
  hint.textContent = "Use the account an admin created for you.";

  const [usernameField, username] = field("username", "Username", {
    type: "text",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const [passwordField, password] = field("password", "Password", {
    type: "password",
    autocomplete: "current-password",
  });

  // Present (empty) from the start: screen readers announce changes to an existing alert.
  const error = document.createElement("p");
  error.id = "sign-in-error";
  error.className = "form-error";
  error.setAttribute("role", "alert");

  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Sign in";

  form.append(heading, hint, usernameField, passwordField, error, submit);

  let busy = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    error.textContent = "";
    submit.disabled = true;
    submit.textContent = "Signing in…";
    form.setAttribute("aria-busy", "true");
    void signIn(username.value, password.value).then((result) => {
      busy = false;
      submit.disabled = false;
      submit.textContent = "Sign in";
      form.removeAttribute("aria-busy");
      if (result.kind === "signed-in") {
        onSignedIn(result.me);
        return;
      }
      error.textContent = result.message;
      for (const input of [username, password]) input.setAttribute("aria-invalid", "true");
      password.value = "";
      password.focus();
    });
  });

  return { root: form, focus: () => username.focus() };
}
