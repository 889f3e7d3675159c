"""The users' Django admin, and API tokens (read and revoke only).

Django's stock ``UserAdmin`` lets any account with the "change user" permission tick
``is_superuser`` on itself (issue 18: a staff account made itself superuser, then read every
token). Here only a superuser edits the fields that grant privileges (staff, superuser, groups,
which carry the apps' roles and permissions, and user permissions), and a superuser's account
is read-only, password included, to everyone else. Forms ignore posted values of read-only
fields, so a forged POST changes nothing either.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken

User = get_user_model()
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class UserAdmin(DjangoUserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS + ("last_login", "date_joined")
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # The bulk delete would reach superusers past has_delete_permission(obj).
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("delete_selected", None)
        return actions


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
# DRF's plain-text tokens are no longer read (flywheel.accounts.migrations.0002 hashed them).
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "prefix", "user", "created_at", "expires_at", "last_used_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at")
    exclude = ("digest",)

    def has_add_permission(self, request) -> bool:
        return False  # a key is shown once, to its owner: create tokens in the app

    def has_change_permission(self, request, obj=None) -> bool:
        return False
