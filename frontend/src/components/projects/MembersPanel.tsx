/** A project's members on its settings page (admins): who annotates and who reviews in it, a
 * bulk add by username, a role change and a removal (the sets they held go back to the queue). */

import { useState } from "react";
import { PROJECT_ROLES, type ProjectRole, membersPayload } from "../../review/members";
import { addMembers, changeMemberRole, fetchMembers, removeMember } from "../../review/membersApi";
import { dateTime } from "../../review/resource";
import { useLoaded } from "../../review/useLoaded";
import { FieldError, LoadNotice } from "../shared/LoadNotice";

export function MembersPanel({ projectId, onSignedOut }: { projectId: number; onSignedOut: () => void }) {
  const [members, reload] = useLoaded(() => fetchMembers(projectId), `members-${projectId}`, onSignedOut);
  const [names, setNames] = useState("");
  const [role, setRole] = useState<string>("annotator");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const add = () => {
    const built = membersPayload(names, role);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Adding…");
    void addMembers(projectId, built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setNames("");
        setMessage(`Added ${result.value.map((m) => m.username).join(", ")} as ${built.payload.role}.`);
        return reload();
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.kind === "invalid" ? "Nobody was added." : result.message);
    });
  };

  const change = (userId: number, username: string, next: ProjectRole) => {
    setMessage(`Changing ${username}'s role…`);
    void changeMemberRole(projectId, userId, next).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `${username} is now a ${next} in this project.` : result.message);
      reload();
    });
  };

  const remove = (userId: number, username: string) => {
    setMessage(`Removing ${username}…`);
    void removeMember(projectId, userId).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `Removed ${username}; the sets they held are back in the queue.` : result.message);
      reload();
    });
  };

  return (
    <section className="panel" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <p className="hint">
        Annotators see and take tasks only in projects they are members of; reviewers review only theirs. Admins see every
        project.
      </p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <div className="form-grid">
          <div className="field">
            <label htmlFor="members-users">Usernames (separated by commas or new lines)</label>
            <textarea
              id="members-users"
              rows={3}
              value={names}
              aria-invalid={errors.users ? true : undefined}
              aria-describedby={errors.users ? "members-users-err" : undefined}
              onChange={(e) => setNames(e.target.value)}
            />
            <FieldError id="members-users-err" message={errors.users} />
          </div>
          <div className="field">
            <label htmlFor="members-role">Role in this project</label>
            <select
              id="members-role"
              value={role}
              aria-invalid={errors.role ? true : undefined}
              aria-describedby={errors.role ? "members-role-err" : undefined}
              onChange={(e) => setRole(e.target.value)}
            >
              {PROJECT_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <FieldError id="members-role-err" message={errors.role} />
          </div>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Add members
          </button>
          <p role="status" className="form-status" data-testid="members-status">
            {message}
          </p>
        </div>
      </form>
      <LoadNotice state={members} what="the members" />
      {members?.kind === "loaded" && members.value.members.length === 0 && <p>No members yet: only admins see this project.</p>}
      {members?.kind === "loaded" && members.value.members.length > 0 && (
        <table className="data-table" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Account</th>
              <th scope="col">Role here</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.value.members.map((m) => (
              <tr key={m.user} data-member={m.username}>
                <td>{m.username}</td>
                <td>{m.accountRole ?? "–"}</td>
                <td>
                  <select
                    aria-label={`Role of ${m.username} in this project`}
                    value={m.role}
                    disabled={m.accountRole === "annotator"}
                    onChange={(e) => {
                      const next = PROJECT_ROLES.find((r) => r === e.target.value);
                      if (next) change(m.user, m.username, next);
                    }}
                  >
                    {PROJECT_ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {dateTime(m.addedAt)}
                  {m.addedBy ? ` by ${m.addedBy}` : ""}
                </td>
                <td>
                  <button type="button" className="secondary" onClick={() => remove(m.user, m.username)} aria-label={`Remove ${m.username}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
