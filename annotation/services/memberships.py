"""Project membership: who works in a project, with which role (``annotation.access``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Least, Lower
from django.utils import timezone

from flywheel.errors import ApplicationError

from ..enums import AssignmentState, ProjectRole, Role
from ..models import Assignment, Project, ProjectMembership
from ..roles import user_role

MAX_MEMBERS_PER_CALL = 1000
# A project role is at most the account's role: an annotator account never reviews.
_ROLES_OF_ACCOUNT = {
    Role.REVIEWER: {ProjectRole.REVIEWER, ProjectRole.ANNOTATOR},
    Role.ANNOTATOR: {ProjectRole.ANNOTATOR},
}


def _users_named(names: Sequence[int | str]) -> list[AbstractUser]:
    """The users named by id or username (case-insensitive), in the order given; 400 naming
    every one that does not exist."""
    User = get_user_model()
    ids = {n for n in names if isinstance(n, int)}
    usernames = {n.lower() for n in names if isinstance(n, str)}
    found = (
        User.objects.annotate(lowered=Lower("username"))
        .filter(Q(pk__in=ids) | Q(lowered__in=usernames))
        .prefetch_related("groups")
    )
    by_id = {u.pk: u for u in found}
    by_name = {u.username.lower(): u for u in found}
    users, missing = [], []
    for name in names:
        user = by_id.get(name) if isinstance(name, int) else by_name.get(name.lower())
        if user is None:
            missing.append(str(name))
        elif user not in users:
            users.append(user)
    if missing:
        raise ApplicationError(
            "Invalid input.", errors={"users": [f"No such user: {', '.join(missing)}."]}
        )
    return users


def _check_role_fits(user: AbstractUser, role: ProjectRole) -> str | None:
    account = user_role(user)
    if account == Role.ADMIN:
        return f"{user.username} is an admin: admins see every project without a membership."
    if account is None:
        return f"{user.username} has no role yet; give the account one first."
    if not user.is_active:
        return f"{user.username} is deactivated."
    if role not in _ROLES_OF_ACCOUNT[account]:
        return (
            f"{user.username}'s account is an {account.value}: "
            "they can only be a project's annotator."
        )
    return None


@transaction.atomic
def members_add(
    *,
    project: Project,
    users: Sequence[int | str],
    role: ProjectRole | str,
    by: AbstractUser | None,
) -> list[ProjectMembership]:
    """Make ``users`` (ids or usernames) members of the project with ``role``; a user who is a
    member already gets the role. All or nothing: one unknown user, admin or role that does
    not fit the account (400, naming each) adds no one."""
    role = ProjectRole(role)
    if not users:
        raise ApplicationError("Invalid input.", errors={"users": ["Name at least one user."]})
    if len(users) > MAX_MEMBERS_PER_CALL:
        raise ApplicationError(
            "Invalid input.",
            errors={"users": [f"At most {MAX_MEMBERS_PER_CALL} users in one call."]},
        )
    found = _users_named(users)
    refused = [reason for user in found if (reason := _check_role_fits(user, role))]
    if refused:
        raise ApplicationError("Invalid input.", errors={"users": refused})
    existing = {
        m.user_id: m
        for m in ProjectMembership.objects.select_for_update().filter(
            project=project, user__in=found
        )
    }
    changed = [m for m in existing.values() if m.role != role]
    for membership in changed:
        if membership.role == ProjectRole.ANNOTATOR:
            _release_leases(project=project, user_id=membership.user_id)
        membership.role = role
        membership.save(update_fields=["role"])
    ProjectMembership.objects.bulk_create(
        [
            ProjectMembership(project=project, user=user, role=role, added_by=by)
            for user in found
            if user.pk not in existing
        ],
        ignore_conflicts=True,  # a concurrent add of the same user: one row, either role
    )
    return list(
        ProjectMembership.objects.filter(project=project, user__in=found).select_related("user")
    )


@transaction.atomic
def member_update(*, membership: ProjectMembership, role: ProjectRole | str) -> ProjectMembership:
    """Change a member's role; an annotator who becomes a reviewer gives back their leases."""
    role = ProjectRole(role)
    if (reason := _check_role_fits(membership.user, role)) is not None:
        raise ApplicationError(reason, field="role")
    if membership.role == ProjectRole.ANNOTATOR and role != ProjectRole.ANNOTATOR:
        _release_leases(project=membership.project, user_id=membership.user_id)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: ProjectMembership) -> None:
    """Remove a member. The sets they held leases on go back to the queue at once; their
    submitted rankings stay (they were made while a member)."""
    _release_leases(project=membership.project, user_id=membership.user_id)
    membership.delete()


def _release_leases(*, project: Project, user_id: int) -> int:
    return Assignment.objects.filter(
        candidate_set__project=project, annotator_id=user_id, state=AssignmentState.LEASED
    ).update(
        state=AssignmentState.EXPIRED,
        lease_expires_at=Least(F("lease_expires_at"), Value(timezone.now())),
    )
