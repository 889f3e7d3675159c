"""Who reaches which project. Admins reach every project; anyone else only the projects they
are members of (``ProjectMembership``), with their role there: an annotator member takes tasks,
a reviewer member reviews. Everything of a project a user is not a member of answers 404, as if
it did not exist (tested per endpoint in tests/security/test_membership.py).

Project-scoped URLs (``projects/<project_id>/…``) are checked once, by the permission classes
(``annotation.permissions``), which use the caller's role *in that project*; objects reached by
their own id (a candidate set, a snapshot, a run, a round) are filtered with ``project_filter``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from .enums import Role
from .models import ProjectMembership
from .roles import user_role


def project_role(user: AbstractBaseUser | AnonymousUser, project_id: int) -> Role | None:
    """The caller's role in the project: admin for admins, their membership's role otherwise,
    None for a non-member (or a user without a role). Read once per request and project."""
    account = user_role(user)
    if account is None or account == Role.ADMIN:
        return account
    cache = user.__dict__.setdefault("_flywheel_project_roles", {})
    if project_id not in cache:
        role = (
            ProjectMembership.objects.filter(user=user, project_id=project_id)
            .values_list("role", flat=True)
            .first()
        )
        cache[project_id] = Role(role) if role else None
    return cache[project_id]


def project_filter(
    user: AbstractBaseUser | AnonymousUser,
    field: str = "project",
    roles: Iterable[Role] = (Role.ANNOTATOR, Role.REVIEWER),
) -> Q:
    """A filter on a queryset whose ``field`` is a project (``project``, ``dataset__project``…):
    every row for admins; for anyone else the rows of projects where they are a member with one
    of ``roles``."""
    if user_role(user) == Role.ADMIN:
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    member_of = ProjectMembership.objects.filter(
        user=user, role__in=[Role(r).value for r in roles]
    ).values("project_id")
    return Q(**{f"{field}__in": member_of})


def reviewable(user: AbstractBaseUser | AnonymousUser, field: str = "project") -> Q:
    """``project_filter`` for what reviewers see: projects where the caller reviews."""
    return project_filter(user, field, roles=(Role.REVIEWER,))
