"""Webhooks (issue 18): subscriptions to domain events, the events recorded for them and one
delivery per (event, subscription), the delivery log."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from .enums import DeliveryStatus, EventType


def new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A subscription: POST the events of ``events`` about ``project`` (every project when
    null) to ``url``, signed with ``secret``."""

    project = models.ForeignKey(
        "annotation.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Only this project's events; null: every project's, and global events.",
    )
    url = models.URLField(max_length=2000, help_text="http(s) URL the events are POSTed to.")
    events = models.JSONField(default=list, help_text="Event types subscribed to.")
    secret = models.CharField(
        max_length=64,
        default=new_secret,
        help_text="Key of the X-Flywheel-Signature HMAC; shown once, when the hook is created.",
    )
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """Something that happened, as sent: the payload's ``id``, ``type``, ``created_at``,
    ``project`` and ``data``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    project = models.ForeignKey(
        "annotation.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    """One event to one webhook: its state, attempts and the last answer (the delivery log)."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status of the last attempt (null: no answer)."
    )
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending delivery is tried next."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "webhook"], name="one_delivery_per_hook"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.PENDING) | Q(next_attempt_at__isnull=False),
                name="pending_delivery_has_next_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook}"
