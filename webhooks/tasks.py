"""Celery adapters for webhooks: each takes ids and calls one service; ``deliver`` owns the
retry policy (exponential backoff, bounded attempts: ``services.delivery_attempt``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .services import deliveries_sweep, delivery_attempt


@shared_task(
    name="webhooks.tasks.deliver", bind=True, acks_late=True, ignore_result=True, max_retries=None
)
def deliver(self, delivery_id: int) -> None:
    """One attempt; a failed one is tried again after its backoff (the row holds the count)."""
    delay = delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="webhooks.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Periodic: queue the pending deliveries whose task was lost (broker outage, dead worker)."""
    return deliveries_sweep(overdue_seconds=settings.FLYWHEEL_WEBHOOK_SWEEP_OVERDUE_SECONDS)
