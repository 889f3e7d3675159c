/**
 * The sign-in form shown to a signed-out visitor: username, password, and an alert region that
 * says why a sign-in was refused. Annotators are not staff, so /admin/login/ is not for them.
 */

import { type FormEvent, useEffect, useRef, useState } from "react";
import type { Me } from "../../session";
import type { SignInResult } from "../../signIn";

export interface SignInFormProps {
  signIn: (username: string, password: string) => Promise<SignInResult>;
  onSignedIn: (me: Me) => void;
  autoFocus: boolean;
}

export function SignInForm({ signIn, onSignedIn, autoFocus }: SignInFormProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [invalid, setInvalid] = useState(false);
  const username = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (autoFocus) username.current?.focus();
  }, [autoFocus]);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError("");
    void signIn(username.current?.value ?? "", password.current?.value ?? "").then((result) => {
      setBusy(false);
      if (result.kind === "signed-in") {
        onSignedIn(result.me);
        return;
      }
      setError(result.message);
      setInvalid(true);
      if (password.current) {
        password.current.value = "";
        password.current.focus();
      }
    });
  }

  return (
    <form className="sign-in" aria-labelledby="sign-in-heading" aria-busy={busy || undefined} onSubmit={onSubmit}>
      <h2 id="sign-in-heading">Sign in</h2>
      <p className="hint">Use the account an admin created for you.</p>
      <div className="field">
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          ref={username}
          type="text"
          required
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          aria-invalid={invalid || undefined}
          aria-describedby="sign-in-error"
        />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          ref={password}
          type="password"
          required
          autoComplete="current-password"
          aria-invalid={invalid || undefined}
          aria-describedby="sign-in-error"
        />
      </div>
      <p id="sign-in-error" className="form-error" role="alert">
        {error}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
