from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from flywheel.errors import ApplicationError

from ..enums import Role


@transaction.atomic
def user_create(*, username: str, password: str, role: Role | str, email: str = "") -> AbstractUser:
    """Create a user with one role. The password goes through Django's validators."""
    User = get_user_model()
    if role not in Role.values:
        raise ApplicationError(f"Must be one of {', '.join(Role.values)}.", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            "A user with that username already exists.", field="username", code="conflict"
        )
    user = User(username=username, email=email, is_staff=(role == Role.ADMIN))
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("Invalid input.", errors={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def token_for(*, user: AbstractUser) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def token_revoke(*, user: AbstractUser) -> None:
    Token.objects.filter(user=user).delete()
