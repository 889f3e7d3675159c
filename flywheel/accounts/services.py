"""Writes on API tokens and the revocation of a user's credentials."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from flywheel.errors import ApplicationError

from .keys import PREFIX_LENGTH, key_digest, key_new
from .models import ApiToken

logger = logging.getLogger(__name__)

SIGN_IN_TOKEN_NAME = "password sign-in"


@transaction.atomic
def token_create(
    *, user: AbstractBaseUser, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its key, the only time the key exists outside the caller.
    ``expires_in_days`` defaults to ``FLYWHEEL_API_TOKEN_DAYS`` and may not pass
    ``FLYWHEEL_API_TOKEN_MAX_DAYS``; a user holds at most ``FLYWHEEL_API_TOKENS_PER_USER``."""
    days = settings.FLYWHEEL_API_TOKEN_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.FLYWHEEL_API_TOKEN_MAX_DAYS:
        raise ApplicationError(
            f"Must be between 1 and {settings.FLYWHEEL_API_TOKEN_MAX_DAYS} days.",
            field="expires_in_days",
        )
    name = name.strip()
    if not name:
        raise ApplicationError("Give the token a name.", field="name")
    now = timezone.now()
    mine = ApiToken.objects.filter(user=user)
    mine.filter(expires_at__lte=now).delete()
    if mine.count() >= settings.FLYWHEEL_API_TOKENS_PER_USER:
        raise ApplicationError(
            f"You hold {settings.FLYWHEEL_API_TOKENS_PER_USER} tokens, the most allowed: "
            "revoke one first.",
            code="conflict",
            status=409,
        )
    key = key_new()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, key


@transaction.atomic
def token_sign_in(*, user: AbstractBaseUser) -> str:
    """The key of a new token for a password sign-in (``POST /auth/token/``), which expires after
    ``FLYWHEEL_SIGN_IN_TOKEN_DAYS``. Scripts sign in on every run, so the oldest sign-in tokens
    beyond ``FLYWHEEL_SIGN_IN_TOKENS_KEPT`` are revoked rather than refusing the sign-in."""
    kept = settings.FLYWHEEL_SIGN_IN_TOKENS_KEPT - 1
    sign_ins = ApiToken.objects.filter(user=user, name=SIGN_IN_TOKEN_NAME)
    stale = list(sign_ins.order_by("-created_at", "-id").values_list("pk", flat=True)[kept:])
    ApiToken.objects.filter(pk__in=stale).delete()
    _, key = token_create(
        user=user, name=SIGN_IN_TOKEN_NAME, expires_in_days=settings.FLYWHEEL_SIGN_IN_TOKEN_DAYS
    )
    return key


def token_revoke(*, token: ApiToken) -> None:
    token.delete()
    logger.info("API token %s of user %s revoked", token.prefix, token.user_id)


@transaction.atomic
def user_credentials_revoke(*, user: AbstractBaseUser) -> None:
    """Delete every API token and every session of ``user``: their password changed or their
    account was deactivated. Django refuses a session whose password hash is stale, and one of
    an inactive user, by itself; deleting them as well keeps them dead when the account is
    reactivated. Sessions are found by reading the live ones (the session table has no user
    column); this runs on a password change, not on a request's path."""
    tokens, _ = ApiToken.objects.filter(user=user).delete()
    stale = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=stale).delete()
    logger.info(
        "Credentials of user %s revoked: %d tokens, %d sessions", user.pk, tokens, len(stale)
    )
