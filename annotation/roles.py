"""Roles are Django groups of the same name (admin, reviewer, annotator); a user has one.
Superusers count as admins. Permissions per role are granted by migration 0002."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .enums import Role

ROLE_PRECEDENCE = (Role.ADMIN, Role.REVIEWER, Role.ANNOTATOR)


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_flywheel_role", False)
    if cached is not False:
        return cached
    role: Role | None
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = {group.name for group in user.groups.all()}  # uses a prefetch when present
        role = next((r for r in ROLE_PRECEDENCE if r.value in names), None)
    user._flywheel_role = role  # type: ignore[union-attr]
    return role
