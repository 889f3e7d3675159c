"""Reads for the webhooks API."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .enums import DeliveryStatus
from .models import Delivery, Webhook


def webhook_list(*, project_id: int | None = None) -> QuerySet[Webhook]:
    """Hooks with how many of their deliveries are pending and failed; ``project_id`` keeps
    that project's hooks and the global ones."""
    hooks = Webhook.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    ).order_by("id")
    if project_id is not None:
        hooks = hooks.filter(Q(project_id=project_id) | Q(project__isnull=True))
    return hooks


def webhook_by_id(*, webhook_id: int) -> Webhook | None:
    return webhook_list().filter(pk=webhook_id).first()


def delivery_list(*, webhook: Webhook, status: str | None = None) -> QuerySet[Delivery]:
    """The hook's delivery log, newest first."""
    deliveries = Delivery.objects.filter(webhook=webhook).select_related("event")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def delivery_by_id(*, delivery_id: int) -> Delivery | None:
    return Delivery.objects.select_related("event").filter(pk=delivery_id).first()
