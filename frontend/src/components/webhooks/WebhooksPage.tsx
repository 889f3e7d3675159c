/** Webhooks (admins): subscribe a URL to events of one project or all of them (the signing
 * secret shown once, to copy), pause, resume or delete a hook, and read each hook's delivery log,
 * redelivering what failed. */

import { useEffect, useMemo, useState } from "react";
import { dateTime } from "../../review/resource";
import { fetchProjectList } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  EMPTY_WEBHOOK_FORM,
  EVENT_TYPES,
  type NewWebhook,
  type Webhook,
  type WebhookForm,
  backlogText,
  deliveryWhen,
  responseText,
  scopeText,
  toggleEvent,
  webhookPayload,
} from "../../review/webhooks";
import {
  createWebhook,
  deleteWebhook,
  fetchDeliveries,
  fetchWebhooks,
  redeliver,
  setWebhookActive,
} from "../../review/webhooksApi";
import { FieldError, LoadNotice } from "../shared/LoadNotice";

function SecretNotice({ hook, onDone }: { hook: NewWebhook; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="panel" role="region" aria-labelledby="new-secret-heading">
      <h2 id="new-secret-heading">The new hook's signing secret</h2>
      <p>
        <strong>Store it now: it is not shown again.</strong> Each delivery to {hook.url} carries{" "}
        <code>X-Flywheel-Signature: sha256=…</code>, the HMAC-SHA256 of the body under this secret; a lost secret means a
        new hook.
      </p>
      <p>
        <code data-testid="new-webhook-secret">{hook.secret}</code>
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(hook.secret).then(() => setCopied(true));
          }}
        >
          Copy secret
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

function CreateWebhookForm({
  projects,
  onCreated,
  onSignedOut,
}: {
  projects: { id: number; name: string }[];
  onCreated: (hook: NewWebhook) => void;
  onSignedOut: () => void;
}) {
  const [form, setForm] = useState<WebhookForm>(EMPTY_WEBHOOK_FORM);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = () => {
    const built = webhookPayload(form);
    if (!built.ok) {
      setErrors(built.errors);
      setMessage("Fix the marked fields.");
      return;
    }
    setBusy(true);
    setErrors({});
    setMessage("Creating the webhook…");
    void createWebhook(built.payload).then((result) => {
      setBusy(false);
      if (result.kind === "signed-out") return onSignedOut();
      if (result.kind === "loaded") {
        setForm(EMPTY_WEBHOOK_FORM);
        setMessage("");
        return onCreated(result.value);
      }
      if (result.kind === "invalid") setErrors(result.errors);
      setMessage(result.message);
    });
  };

  const described = (field: string, id: string, hint?: string) =>
    [hint, errors[field] ? id : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <form
      className="panel"
      aria-labelledby="create-webhook-heading"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="create-webhook-heading">Add a webhook</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="webhook-url">URL</label>
          <input
            id="webhook-url"
            type="url"
            value={form.url}
            maxLength={2000}
            aria-invalid={errors.url ? true : undefined}
            aria-describedby={described("url", "webhook-err-url", "webhook-url-hint")}
            onChange={(e) => setForm({ ...form, url: e.target.value })}
          />
          <span id="webhook-url-hint" className="hint small">
            Events are POSTed here. Private and loopback addresses are refused unless the server allows them.
          </span>
          <FieldError id="webhook-err-url" message={errors.url} />
        </div>
        <div className="field">
          <label htmlFor="webhook-project">Project</label>
          <select
            id="webhook-project"
            value={form.project}
            aria-invalid={errors.project ? true : undefined}
            aria-describedby={described("project", "webhook-err-project")}
            onChange={(e) => setForm({ ...form, project: e.target.value })}
          >
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={String(p.id)}>
                {p.name}
              </option>
            ))}
          </select>
          <FieldError id="webhook-err-project" message={errors.project} />
        </div>
        <div className="field">
          <label htmlFor="webhook-description">Description</label>
          <input
            id="webhook-description"
            value={form.description}
            maxLength={200}
            aria-invalid={errors.description ? true : undefined}
            aria-describedby={described("description", "webhook-err-description")}
            onChange={(e) => setForm({ ...form, description: e.target.value })}
          />
          <FieldError id="webhook-err-description" message={errors.description} />
        </div>
      </div>
      <fieldset
        className="webhook-events"
        aria-invalid={errors.events ? true : undefined}
        aria-describedby={errors.events ? "webhook-err-events" : undefined}
      >
        <legend>Events</legend>
        {EVENT_TYPES.map((event) => (
          <label key={event.value} className="check">
            <input
              type="checkbox"
              checked={form.events.includes(event.value)}
              onChange={() => setForm({ ...form, events: toggleEvent(form.events, event.value) })}
            />{" "}
            <code>{event.value}</code> <span className="small">{event.label}</span>
          </label>
        ))}
        <FieldError id="webhook-err-events" message={errors.events} />
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Add webhook
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
    </form>
  );
}

function DeliveryLog({ hook, onSignedOut }: { hook: Webhook; onSignedOut: () => void }) {
  const [filter, setFilter] = useState<DeliveryStatus | "">("");
  const [deliveries, reload] = useLoaded(() => fetchDeliveries(hook.id, filter), `${hook.id}:${filter}`, onSignedOut);
  const [message, setMessage] = useState("");

  const again = (id: number) => {
    setMessage(`Redelivering delivery ${id}…`);
    void redeliver(id).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `Delivery ${id} queued again.` : result.message);
      reload();
    });
  };

  return (
    <section id="webhook-log" className="panel webhook-log" aria-labelledby="webhook-log-heading" data-log-webhook={hook.id}>
      <h2 id="webhook-log-heading">Deliveries to {hook.url}</h2>
      <div className="actions">
        <label htmlFor="delivery-filter">Status</label>
        <select id="delivery-filter" value={filter} onChange={(e) => setFilter(e.target.value as DeliveryStatus | "")}>
          <option value="">All</option>
          {DELIVERY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <button type="button" onClick={reload}>
          Refresh
        </button>
        <p role="status" className="form-status">
          {message}
        </p>
      </div>
      <LoadNotice state={deliveries} what="the deliveries" />
      {deliveries?.kind === "loaded" &&
        (deliveries.value.length === 0 ? (
          <p>No deliveries{filter === "" ? "" : ` ${filter}`} yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table">
              <caption className="visually-hidden">Newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Response</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">When</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deliveries.value.map((d) => (
                  <tr key={d.id} data-delivery-id={d.id}>
                    <td>
                      <code>{d.eventType}</code>
                      <br />
                      <span className="small">{d.eventId}</span>
                    </td>
                    <td data-col="status">
                      <span className={`delivery-status delivery-${d.status}`}>{d.status}</span>
                      {d.status === "pending" && d.nextAttemptAt ? (
                        <span className="small"> (next try {dateTime(d.nextAttemptAt)})</span>
                      ) : null}
                    </td>
                    <td data-col="response">{responseText(d)}</td>
                    <td data-col="attempts">{d.attempts}</td>
                    <td data-col="error" className="webhook-error">
                      {d.lastError || "–"}
                    </td>
                    <td>{dateTime(deliveryWhen(d))}</td>
                    <td>
                      <button type="button" onClick={() => again(d.id)} aria-label={`Redeliver delivery ${d.id}`}>
                        Redeliver
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

export function WebhooksPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [hooks, reload] = useLoaded(fetchWebhooks, "webhooks", onSignedOut);
  const [projects] = useLoaded(fetchProjectList, "projects", onSignedOut);
  const [created, setCreated] = useState<NewWebhook | null>(null);
  const [shown, setShown] = useState<number | null>(null);
  const [message, setMessage] = useState("");
  useEffect(() => {
    document.title = "Webhooks · Flywheel";
  }, []);

  const projectList = useMemo(
    () => (projects?.kind === "loaded" ? projects.value.results.map((p) => ({ id: p.id, name: p.name })) : []),
    [projects],
  );
  const projectNames = useMemo(() => new Map(projectList.map((p) => [p.id, p.name])), [projectList]);
  const shownHook = hooks?.kind === "loaded" ? (hooks.value.find((h) => h.id === shown) ?? null) : null;

  const toggle = (hook: Webhook) => {
    void setWebhookActive(hook.id, !hook.active).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `${hook.active ? "Paused" : "Resumed"} ${hook.url}.` : result.message);
      reload();
    });
  };

  const remove = (hook: Webhook) => {
    if (!window.confirm(`Delete the webhook to ${hook.url}? Its delivery log goes with it.`)) return;
    void deleteWebhook(hook.id).then((result) => {
      if (result.kind === "signed-out") return onSignedOut();
      setMessage(result.kind === "loaded" ? `Deleted the webhook to ${hook.url}.` : result.message);
      if (shown === hook.id) setShown(null);
      if (created?.id === hook.id) setCreated(null);
      reload();
    });
  };

  return (
    <section aria-labelledby="webhooks-heading">
      <h1 id="webhooks-heading">Webhooks</h1>
      <p>
        Flywheel POSTs a signed JSON event to each active hook subscribed to it. Failed deliveries are retried with
        backoff, then given up; redeliver one from its log.
      </p>
      {created ? (
        <SecretNotice hook={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateWebhookForm
          projects={projectList}
          onSignedOut={onSignedOut}
          onCreated={(hook) => {
            setCreated(hook);
            setShown(hook.id);
            reload();
          }}
        />
      )}
      <h2>Hooks</h2>
      <p role="status">{message}</p>
      <LoadNotice state={hooks} what="the webhooks" />
      {hooks?.kind === "loaded" &&
        (hooks.value.length === 0 ? (
          <p>No webhooks.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Project</th>
                  <th scope="col">Events</th>
                  <th scope="col">Active</th>
                  <th scope="col">Waiting / failed</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {hooks.value.map((h) => (
                  <tr key={h.id} data-webhook-id={h.id}>
                    <td>
                      <code className="webhook-url">{h.url}</code>
                      {h.description ? <div className="small">{h.description}</div> : null}
                    </td>
                    <td data-col="project">{scopeText(h, projectNames)}</td>
                    <td data-col="events">
                      <ul className="plain-list">
                        {h.events.map((e) => (
                          <li key={e}>
                            <code>{e}</code>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td data-col="active">{h.active ? "yes" : "paused"}</td>
                    <td data-col="backlog">{backlogText(h) || "–"}</td>
                    <td>
                      <div className="row-actions">
                        <button
                          type="button"
                          aria-expanded={shown === h.id}
                          aria-controls={shown === h.id ? "webhook-log" : undefined}
                          onClick={() => setShown(shown === h.id ? null : h.id)}
                          aria-label={`${shown === h.id ? "Hide" : "Show"} deliveries to ${h.url}`}
                        >
                          {shown === h.id ? "Hide deliveries" : "Deliveries"}
                        </button>
                        <button type="button" onClick={() => toggle(h)} aria-label={`${h.active ? "Pause" : "Resume"} ${h.url}`}>
                          {h.active ? "Pause" : "Resume"}
                        </button>
                        <button type="button" onClick={() => remove(h)} aria-label={`Delete ${h.url}`}>
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {shownHook && <DeliveryLog key={shownHook.id} hook={shownHook} onSignedOut={onSignedOut} />}
    </section>
  );
}
