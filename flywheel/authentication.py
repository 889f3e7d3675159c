"""Token authentication that also reads the user's role, in one query.

DRF's ``TokenAuthentication`` reads the token with its user, and every role check
(``annotation.permissions``) then read the user's groups: two queries on every API request, and
building them through the ORM cost more CPU than PostgreSQL spent answering them (0.8 ms against
0.2 ms). Here the user and the names of their groups come back in one prepared statement
(``flywheel.sql``), and the names are kept on the user as ``_group_names``, where
``annotation.roles.user_role`` finds them instead of reading the groups again (issue #7:
next-task and submit are the hot path). The project package knows groups, not the apps' roles.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .sql import Statements, columns, fetch_one, instance


@cache
def _user_by_token() -> Statements:
    user = get_user_model()
    groups = user._meta.get_field("groups").remote_field.through._meta.db_table
    select, _ = columns(user, "u")
    return Statements(
        f"SELECT {select}, ARRAY(SELECT g.name FROM auth_group g JOIN {groups} ug "
        "ON ug.group_id = g.id WHERE ug.user_id = u.id) "
        f"FROM {Token._meta.db_table} t JOIN {user._meta.db_table} u ON u.id = t.user_id "
        "WHERE t.key = %(key)s"
    )


class TokenWithRoleAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        row = fetch_one(_user_by_token(), {"key": key})
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = instance(get_user_model(), "u", row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user._group_names = row[-1]  # type: ignore[attr-defined]
        return user, Token(key=key, user=user)
