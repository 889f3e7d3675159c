/** The bar across the top: brand, role-aware navigation, who is signed in, "Sign out". */

import { useEffect, useRef, useState } from "react";
import { navItems } from "../../navigation";
import { type Route, navSection } from "../../router";
import { type Me, signedInText } from "../../session";

export interface AppHeaderProps {
  me: Me;
  route: Route;
  focusAccount: boolean;
  signOut: () => Promise<string | null>;
  onSignedOut: () => void;
}

export function AppHeader({ me, route, focusAccount, signOut, onSignedOut }: AppHeaderProps) {
  const who = useRef<HTMLParagraphElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    if (focusAccount) who.current?.focus();
  }, [focusAccount]);

  const current = navSection(route);
  return (
    <header className="app-header">
      <a className="brand" href="#/projects">
        Flywheel
      </a>
      <nav aria-label="Main" className="main-nav">
        <ul>
          {navItems(me.role).map((item) => (
            <li key={item.href}>
              <a
                href={item.href}
                aria-current={!item.external && item.href === current ? "page" : undefined}
              >
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="account-bar">
        <p id="signed-in-as" tabIndex={-1} ref={who}>
          {signedInText(me)}
        </p>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError("");
            void signOut().then((message) => {
              setBusy(false);
              if (message === null) onSignedOut();
              else setError(message);
            });
          }}
        >
          Sign out
        </button>
        <p className="form-error" role="alert">
          {error}
        </p>
      </div>
      {me.role === null && (
        <p className="hint no-role">Your account has no role yet: ask an admin to give it one.</p>
      )}
    </header>
  );
}
