/** `#/users` (admins): every account with its role, a form to create one, and on each row
 * deactivate / reactivate and set a new password (either revokes the user's tokens and
 * sessions). */

import { useEffect, useState } from "react";
import { createUser, fetchUsers, updateUser } from "../../review/projectAdminApi";
import { dateTime } from "../../review/resource";
import { useLoaded } from "../../review/useLoaded";
import { USER_ROLES, type UserForm, type UserRow, emptyUserForm, userPayload } from "../../review/users";
import { FieldError, LoadNotice } from "../shared/LoadNotice";

function CreateUserForm({ onCreated, onSignedOut }: { onCreated: (username: string) => void; onSignedOut: () => void }) {
  const [form, setForm] = useState<UserForm>(emptyUserForm());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<UserForm>) => setForm((f) => ({ ...f, ...patch }));

  const submit = () => {
    const built = userPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Creating the account…");
    void createUser(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setForm(emptyUserForm());
        setMessage(`Created ${result.value.username} (${result.value.role ?? "no role"}).`);
        return onCreated(result.value.username);
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  const field = (name: keyof UserForm, apiName: string, label: string, type = "text", autoComplete = "off") => (
    <div className="field">
      <label htmlFor={`user-${name}`}>{label}</label>
      <input
        id={`user-${name}`}
        type={type}
        autoComplete={autoComplete}
        value={form[name]}
        aria-invalid={errors[apiName] ? true : undefined}
        aria-describedby={errors[apiName] ? `user-${name}-err` : undefined}
        onChange={(e) => set({ [name]: e.target.value })}
      />
      <FieldError id={`user-${name}-err`} message={errors[apiName]} />
    </div>
  );

  return (
    <form
      className="panel"
      aria-labelledby="create-user-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="create-user-heading">Create an account</h2>
      <div className="form-grid">
        {field("username", "username", "Username")}
        {field("password", "password", "Password", "password", "new-password")}
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select
            id="user-role"
            value={form.role}
            aria-invalid={errors.role ? true : undefined}
            aria-describedby={errors.role ? "user-role-err" : undefined}
            onChange={(e) => set({ role: e.target.value })}
          >
            {USER_ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <FieldError id="user-role-err" message={errors.role} />
        </div>
        {field("email", "email", "Email (optional)", "email")}
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Create account
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}

function UserActions({
  user,
  onChanged,
  onSignedOut,
}: {
  user: UserRow;
  onChanged: (message: string) => void;
  onSignedOut: () => void;
}) {
  const [setting, setSetting] = useState(false);
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const apply = (payload: { is_active?: boolean; password?: string }, done: string) => {
    setBusy(true);
    setError("");
    void updateUser(user.id, payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setSetting(false);
        setPassword("");
        return onChanged(done);
      }
      const fieldMessage = result.kind === "invalid" ? (result.errors.password ?? result.errors.is_active) : undefined;
      setError(fieldMessage ?? result.message);
    });
  };

  const inputId = `password-${user.id}`;
  return (
    <div className="row-actions">
      <button
        type="button"
        className="secondary"
        disabled={busy}
        aria-label={`${user.isActive ? "Deactivate" : "Reactivate"} ${user.username}`}
        onClick={() =>
          apply(
            { is_active: !user.isActive },
            user.isActive
              ? `Deactivated ${user.username}: their tokens and sessions are revoked.`
              : `Reactivated ${user.username}.`,
          )
        }
      >
        {user.isActive ? "Deactivate" : "Reactivate"}
      </button>
      {!setting && (
        <button type="button" className="secondary" aria-label={`Set password for ${user.username}`} onClick={() => setSetting(true)}>
          Set password
        </button>
      )}
      {setting && (
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (password === "") return setError("Type the new password.");
            apply({ password }, `Set a new password for ${user.username}: their tokens and sessions are revoked.`);
          }}
        >
          <label htmlFor={inputId}>New password for {user.username}</label>
          <input
            id={inputId}
            type="password"
            autoComplete="new-password"
            value={password}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${inputId}-err` : undefined}
            onChange={(e) => setPassword(e.target.value)}
          />
          <button type="submit" disabled={busy}>
            Save password
          </button>
          <button type="button" className="secondary" onClick={() => (setSetting(false), setError(""), setPassword(""))}>
            Cancel
          </button>
        </form>
      )}
      <FieldError id={`${inputId}-err`} message={error} />
    </div>
  );
}

export function UsersPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [users, reload] = useLoaded(fetchUsers, "users", onSignedOut);
  const [changed, setChanged] = useState("");
  useEffect(() => {
    document.title = "Users · Flywheel";
  }, []);
  return (
    <section aria-labelledby="users-heading">
      <h1 id="users-heading">Users</h1>
      <CreateUserForm onCreated={reload} onSignedOut={onSignedOut} />
      <h2>Accounts</h2>
      <p role="status" className="form-status" data-testid="users-status">
        {changed}
      </p>
      <LoadNotice state={users} what="the users" />
      {users?.kind === "loaded" && (
        <>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Email</th>
                <th scope="col">Active</th>
                <th scope="col">Joined</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.value.users.map((u) => (
                <tr key={u.id} data-user-id={u.id}>
                  <td>{u.username}</td>
                  <td>{u.role ?? "–"}</td>
                  <td>{u.email || "–"}</td>
                  <td>{u.isActive ? "yes" : "no"}</td>
                  <td>{dateTime(u.dateJoined)}</td>
                  <td>
                    <UserActions
                      user={u}
                      onSignedOut={onSignedOut}
                      onChanged={(message) => {
                        setChanged(message);
                        reload();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {users.value.count > users.value.users.length && (
            <p className="hint">
              Showing the first {users.value.users.length} of {users.value.count} accounts.
            </p>
          )}
        </>
      )}
    </section>
  );
}
