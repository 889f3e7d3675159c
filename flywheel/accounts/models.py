from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class ApiToken(models.Model):
    """An API token. Only the SHA-256 digest of its key is kept: the key is shown once, when the
    token is created, and a database dump signs no one in. A key carries 256 random bits, so an
    unsalted fast hash is enough (nothing to brute-force) and the lookup stays one indexed read.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, chosen by its owner.")
    prefix = models.CharField(
        max_length=12,
        help_text="The key's first characters, to tell tokens apart; too short to sign in with.",
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="Refused from this time on.")
    last_used_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it last authenticated a request, to the minute (null: never).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_token_user")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="accounts_token_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
