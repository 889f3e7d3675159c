"""Webhooks: subscriptions (create, change, delete), recording events and delivering them.

An event and its deliveries are written in the transaction that made the change (a snapshot, a
round's end; the ranking submit, whose write is a statement of its own, right after it; a
training run's end, once its state committed), and the delivery task is sent when that commits.
A broker outage leaves the rows pending, and the periodic sweep (``deliveries_sweep``, like the
job engine's recovery sweep) sends them once it is back, so no event is lost with the broker.

Each attempt POSTs the signed payload. A failed attempt (no answer, or not 2xx) is retried after
``FLYWHEEL_WEBHOOK_RETRY_SECONDS × 2^(attempts − 1)`` seconds until
``FLYWHEEL_WEBHOOK_MAX_ATTEMPTS`` attempts were made; then the delivery is failed, and an admin
may redeliver it. A refused destination fails at once. Receivers may see an event twice (a
worker lost after the POST, a redelivery): the payload's ``id`` identifies it.

Which (project, event type) pairs anyone subscribes to is cached (Redis, one key per database),
so the ranking submit pays one cache read, and no database round trip, when nobody listens."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import httpx
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from annotation.models import Project
from flywheel.errors import ApplicationError
from flywheel.events import Event

from .destinations import RefusedDestination, check_destination
from .enums import DeliveryStatus, EventType
from .models import Delivery, Webhook, WebhookEvent

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver"  # sent by name: tasks import this module
MAX_ERROR_CHARS = 2000
USER_AGENT = "Flywheel-Webhooks/1"


# --- Subscriptions -------------------------------------------------------------------------


def _check(*, url: str | None, events: Any) -> None:
    errors: dict[str, list[str]] = {}
    if events is not None:
        if not isinstance(events, list) or not events:
            errors["events"] = ["Must be a non-empty list of event types."]
        else:
            unknown = sorted({str(e) for e in events} - set(EventType.values))
            if unknown:
                errors["events"] = [
                    f"Unknown event type(s): {', '.join(unknown)}. "
                    f"Known: {', '.join(EventType.values)}."
                ]
    if url is not None:
        try:
            check_destination(url)
        except RefusedDestination as exc:
            errors["url"] = [str(exc)]
    if errors:
        raise ApplicationError("Invalid input.", errors=errors)


def webhook_create(
    *,
    url: str,
    events: list[str],
    project: Project | None = None,
    description: str = "",
    active: bool = True,
    created_by: AbstractUser | None = None,
) -> Webhook:
    """A new subscription with a secret generated here (shown once, in the create answer)."""
    _check(url=url, events=events)
    webhook = Webhook.objects.create(
        url=url,
        events=sorted(set(events)),
        project=project,
        description=description,
        active=active,
        created_by=created_by,
    )
    subscriptions_changed()
    return webhook


def webhook_update(*, webhook: Webhook, changes: dict[str, Any]) -> Webhook:
    """Change ``url``, ``events``, ``description`` or ``active``."""
    _check(url=changes.get("url"), events=changes.get("events"))
    for name in ("url", "description", "active"):
        if name in changes:
            setattr(webhook, name, changes[name])
    if "events" in changes:
        webhook.events = sorted(set(changes["events"]))
    webhook.save()
    subscriptions_changed()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete the subscription with its delivery log."""
    webhook.delete()
    subscriptions_changed()


def _cache_key() -> str:
    return f"webhooks:subscribed:{connection.settings_dict['NAME']}"


def _forget() -> None:
    try:
        cache.delete(_cache_key())
    except Exception:  # noqa: BLE001 — an unreachable cache holds nothing to forget
        logger.warning("Could not clear the webhook subscription cache", exc_info=True)


def subscriptions_changed() -> None:
    """Forget the cached subscriptions now (this transaction rebuilds them) and again at commit
    (another process may have rebuilt them in between, without this change)."""
    _forget()
    transaction.on_commit(_forget)


def subscribed_pairs() -> frozenset[str]:
    """``"<project id>:<type>"`` and ``"*:<type>"`` (global hooks) of every active hook."""
    key = _cache_key()
    try:
        pairs = cache.get(key)
    except Exception:  # noqa: BLE001 — Redis down: ask the database
        logger.warning("Webhook subscription cache unreachable", exc_info=True)
        pairs = None
    if pairs is None:
        pairs = sorted(
            f"{project_id or '*'}:{event}"
            for project_id, events in Webhook.objects.filter(active=True).values_list(
                "project_id", "events"
            )
            for event in events
        )
        try:
            cache.set(key, pairs, timeout=None)  # cleared on every change
        except Exception:  # noqa: BLE001
            logger.warning("Could not cache the webhook subscriptions", exc_info=True)
    return frozenset(pairs)


# --- Recording events ----------------------------------------------------------------------


def events_record(*, events: Sequence[Event]) -> list[Delivery]:
    """The events that a hook subscribes to, each with a pending delivery per hook; their
    delivery is sent when the caller's transaction commits. Nothing is written, and nothing but
    the cache is read, when nobody subscribes."""
    pairs = subscribed_pairs()
    wanted = [
        e for e in events if f"*:{e.type}" in pairs or f"{e.project_id or '*'}:{e.type}" in pairs
    ]
    if not wanted:
        return []
    projects = {e.project_id for e in wanted if e.project_id is not None}
    with transaction.atomic():
        hooks = list(
            Webhook.objects.filter(active=True).filter(
                Q(project__isnull=True) | Q(project_id__in=projects)
            )
        )
        now = timezone.now()
        deliveries: list[Delivery] = []
        for wanted_event in wanted:
            targets = [
                hook
                for hook in hooks
                if wanted_event.type in hook.events
                and hook.project_id in (None, wanted_event.project_id)
            ]
            if not targets:
                continue
            event = WebhookEvent.objects.create(
                type=wanted_event.type, project_id=wanted_event.project_id, data=wanted_event.data
            )
            deliveries += Delivery.objects.bulk_create(
                Delivery(event=event, webhook=hook, next_attempt_at=now) for hook in targets
            )
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: dispatch_deliveries(ids))
    return deliveries


def dispatch_deliveries(delivery_ids: Iterable[int]) -> None:
    """Queue a delivery task for each; on a broker error stop (each failed publish costs
    0.6 s) and leave the rest pending for the sweep."""
    for delivery_id in delivery_ids:
        try:
            current_app.send_task(DELIVER_TASK, (delivery_id,), ignore_result=True)
        except Exception:  # noqa: BLE001
            logger.exception("Could not queue webhook delivery %s; the sweep will", delivery_id)
            return


# --- Delivering ----------------------------------------------------------------------------


def event_payload(event: WebhookEvent) -> bytes:
    """The request body: the same bytes on every attempt."""
    body = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "project": event.project_id,
        "data": event.data,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def payload_signature(*, secret: str, body: bytes) -> str:
    """``X-Flywheel-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(delivery: Delivery) -> tuple[int | None, str]:
    """POST the event; ``(status code or None, error or "")``."""
    body = event_payload(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Flywheel-Event": delivery.event.type,
        "X-Flywheel-Event-Id": str(delivery.event.pk),
        "X-Flywheel-Delivery": str(delivery.pk),
        "X-Flywheel-Signature": payload_signature(secret=delivery.webhook.secret, body=body),
    }
    try:
        response = httpx.post(
            delivery.webhook.url,
            content=body,
            headers=headers,
            timeout=settings.FLYWHEEL_WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (exponential backoff)."""
    return settings.FLYWHEEL_WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1)


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Make the delivery's next attempt if it is pending and due. Returns the seconds until the
    attempt after it when this one failed and attempts remain, else None.

    The delivery's row stays locked during the request, so two tasks for one delivery (the
    sweep's and a retry) never send it at once: the second skips it."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "webhook")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        now = timezone.now()
        # A retry may run a little before its time (clocks, the broker's ETA): 1 s of slack.
        if delivery is None or delivery.next_attempt_at > now + timedelta(seconds=1):
            return None
        try:
            check_destination(delivery.webhook.url)
        except RefusedDestination as exc:
            code, error, final = None, str(exc), True
        else:
            code, error = _post(delivery)
            final = False
        delivery.attempts += 1
        delivery.response_code = code
        delivery.last_error = error
        delivery.last_attempt_at = timezone.now()
        delay = None
        if not error:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = delivery.last_attempt_at
            delivery.next_attempt_at = None
        elif final or delivery.attempts >= settings.FLYWHEEL_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delay = retry_delay(delivery.attempts)
            delivery.next_attempt_at = delivery.last_attempt_at + timedelta(seconds=delay)
        delivery.save()
    if error:
        logger.warning("webhook delivery %s attempt %s: %s", delivery_id, delivery.attempts, error)
    return delay


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the delivery again now, with a fresh set of attempts, whatever its state."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.delivered_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
        transaction.on_commit(lambda: dispatch_deliveries([locked.pk]))
    return locked


def deliveries_sweep(*, overdue_seconds: float) -> int:
    """Queue every pending delivery due for more than ``overdue_seconds`` (its task was lost:
    the broker was down, or a worker died). Returns how many were queued."""
    due = timezone.now() - timedelta(seconds=overdue_seconds)
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=due)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:1000]
    )
    dispatch_deliveries(ids)
    return len(ids)
