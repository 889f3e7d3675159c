from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from flywheel.accounts.services import token_sign_in
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
    user.set_password(_validated_password(password, user))
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def _validated_password(password: str, user: AbstractUser, field: str = "password") -> str:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("Invalid input.", errors={field: list(exc.messages)}) from exc
    return password


def token_for(*, user: AbstractUser) -> str:
    """The key of a new "password sign-in" token of ``user`` (see ``token_sign_in``)."""
    return token_sign_in(user=user)


@transaction.atomic
def user_password_change(*, user: AbstractUser, old_password: str, new_password: str) -> None:
    """The user's own change: the old password is checked, the new one validated. Saving it
    revokes every token and session of the user (``flywheel.accounts.receivers``)."""
    if not user.check_password(old_password):
        raise ApplicationError("The current password is not right.", field="old_password")
    user.set_password(_validated_password(new_password, user, field="new_password"))
    user.save(update_fields=["password"])


@transaction.atomic
def user_update(
    *,
    user: AbstractUser,
    by: AbstractUser,
    is_active: bool | None = None,
    password: str | None = None,
) -> AbstractUser:
    """An admin's change to an account: deactivate or reactivate it, or set a new password.
    Deactivating or a new password revokes every token and session of the user
    (``flywheel.accounts.receivers``); reactivating brings none back. Only a superuser changes
    a superuser, and nobody deactivates themselves (the last admin would lock everyone out)."""
    if user.is_superuser and not by.is_superuser:
        raise ApplicationError(
            "Only a superuser may change a superuser.", status=403, code="permission_denied"
        )
    if is_active is False and user.pk == by.pk:
        raise ApplicationError("You cannot deactivate your own account.", field="is_active")
    fields = []
    if password is not None:
        user.set_password(_validated_password(password, user))
        fields.append("password")
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        fields.append("is_active")
    if fields:
        user.save(update_fields=fields)
    return user
