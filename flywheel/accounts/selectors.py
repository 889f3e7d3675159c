from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken


def token_list(*, user: AbstractBaseUser | None = None) -> QuerySet[ApiToken]:
    """Live tokens, newest first: ``user``'s, or everyone's when ``user`` is None."""
    tokens = ApiToken.objects.filter(expires_at__gt=timezone.now()).select_related("user")
    return tokens if user is None else tokens.filter(user=user)
