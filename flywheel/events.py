"""Domain events other apps may listen to, so that the app where something happens knows nothing
about who listens (issue 18: webhooks).

``send_events`` sends the ``domain_events`` signal with a list of ``Event``: a dotted type
("ranking.submitted"), the project it belongs to (None: global) and a JSON-safe ``data`` dict.
Called inside the transaction that made the change, so a receiver's writes commit or roll back
with it. Receivers must be cheap when nobody is subscribed (the ranking submit sends one per
submit) and must not raise: a failure is logged, never passed to the caller."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

domain_events = Signal()


@dataclass(frozen=True)
class Event:
    type: str
    project_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


def send_events(*events: Event) -> None:
    if not domain_events.receivers:
        return
    for receiver, result in domain_events.send_robust(sender=None, events=events):
        if isinstance(result, Exception):
            logger.error("domain_events receiver %s failed: %r", receiver, result)
