"""DRF permission classes by role. Every API view names one of these explicitly."""

from rest_framework.permissions import BasePermission

from .enums import Role
from .roles import user_role


class _HasRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        return user_role(request.user) in self.roles


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
