"""DRF permission classes by role. Every API view names one of these explicitly.

On a project-scoped URL (one with ``project_id``) the role checked is the caller's role in that
project (``annotation.access.project_role``), and a caller who is not a member gets 404 (the
project is not shown to exist); elsewhere it is the account's role."""

from django.http import Http404
from rest_framework.permissions import BasePermission

from .access import project_role
from .enums import Role
from .roles import user_role


class _HasRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        role = user_role(request.user)
        project_id = getattr(view, "kwargs", {}).get("project_id")
        if project_id is not None and role not in (None, Role.ADMIN):
            role = project_role(request.user, project_id)
            if role is None:
                raise Http404("No such project.")
        return role in self.roles


class IsAdmin(_HasRole):
    roles = frozenset({Role.ADMIN})
    message = "Only admins may do this."


class IsReviewerOrAdmin(_HasRole):
    roles = frozenset({Role.ADMIN, Role.REVIEWER})
    message = "Only reviewers and admins may do this."


class IsAnnotator(_HasRole):
    roles = frozenset({Role.ANNOTATOR})
    message = "Only annotators take and submit ranking tasks."


class HasAnyRole(_HasRole):
    roles = frozenset(Role)
    message = "Your account has no role; ask an admin to assign one."
