/** The signed-in user's API tokens: create one (its key shown once, to copy), see each one's
 * expiry and last use, revoke any. Scripts and the Python client send a key as
 * `Authorization: Token <key>`. */

import { useEffect, useState } from "react";
import { lastUsedText, type NewApiToken, type TokenForm, tokenPayload } from "../../account/tokens";
import { createToken, fetchTokens, revokeToken } from "../../account/tokensApi";
import { dateTime } from "../../review/resource";
import { useLoaded } from "../../review/useLoaded";
import { FieldError, LoadNotice } from "../shared/LoadNotice";

function NewKeyNotice({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="panel" role="region" aria-labelledby="new-key-heading">
      <h2 id="new-key-heading">Your new token “{token.name}”</h2>
      <p>Copy the key now: it is not shown again. Anyone who has it acts as you until it expires ({dateTime(token.expiresAt)}).</p>
      <p>
        <code data-testid="new-token-key">{token.key}</code>
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(token.key).then(() => setCopied(true));
          }}
        >
          Copy key
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
        <p role="status" className="form-status">
          {copied ? "Copied." : ""}
        </p>
      </div>
    </div>
  );
}

function CreateTokenForm({ onCreated, onSignedOut }: { onCreated: (t: NewApiToken) => void; onSignedOut: () => void }) {
  const [form, setForm] = useState<TokenForm>({ name: "", days: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = () => {
    const built = tokenPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Creating the token…");
    void createToken(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setForm({ name: "", days: "" });
        setMessage("");
        return onCreated(result.value);
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  return (
    <form
      className="panel"
      aria-labelledby="create-token-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="create-token-heading">Create a token</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            value={form.name}
            maxLength={100}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? "token-err-name" : undefined}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
          <span className="hint small">What it is for, e.g. “nightly export”.</span>
          <FieldError id="token-err-name" message={errors.name} />
        </div>
        <div className="field">
          <label htmlFor="token-days">Expires after (days)</label>
          <input
            id="token-days"
            inputMode="numeric"
            value={form.days}
            aria-invalid={errors.expires_in_days ? true : undefined}
            aria-describedby={errors.expires_in_days ? "token-err-days" : undefined}
            onChange={(e) => setForm({ ...form, days: e.target.value })}
          />
          <span className="hint small">Leave empty for the server's default; the server sets a maximum.</span>
          <FieldError id="token-err-days" message={errors.expires_in_days} />
        </div>
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Create token
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}

export function ApiTokensPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [tokens, reload] = useLoaded(fetchTokens, "tokens", onSignedOut);
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [message, setMessage] = useState("");
  useEffect(() => {
    document.title = "API tokens · Flywheel";
  }, []);

  const revoke = (id: number, name: string) => {
    if (!window.confirm(`Revoke the token “${name}”? Scripts using it stop working.`)) return;
    void revokeToken(id).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `Revoked “${name}”.` : result.message);
      if (created?.id === id) setCreated(null);
      reload();
    });
  };

  return (
    <section aria-labelledby="tokens-heading">
      <h1 id="tokens-heading">API tokens</h1>
      <p>
        Scripts and the Python client sign in with a token: send it as <code>Authorization: Token &lt;key&gt;</code>. Changing
        your password revokes all of them.
      </p>
      {created ? (
        <NewKeyNotice token={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateTokenForm
          onSignedOut={onSignedOut}
          onCreated={(token) => {
            setCreated(token);
            reload();
          }}
        />
      )}
      <h2>Your tokens</h2>
      <p role="status">{message}</p>
      <LoadNotice state={tokens} what="your tokens" />
      {tokens?.kind === "loaded" &&
        (tokens.value.length === 0 ? (
          <p>No tokens.</p>
        ) : (
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key starts</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.value.map((t) => (
                <tr key={t.id} data-token-id={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{dateTime(t.createdAt)}</td>
                  <td>{dateTime(t.expiresAt)}</td>
                  <td>{lastUsedText(t, dateTime)}</td>
                  <td>
                    <button type="button" onClick={() => revoke(t.id, t.name)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}
