"""Token authentication that also reads the user's role, in one round trip.

DRF's ``TokenAuthentication`` reads the token with its user, and every role check
(``annotation.permissions``) then read the user's groups: two queries on every API request, and
building them through the ORM cost more CPU than PostgreSQL spent answering them (0.8 ms against
0.2 ms). Here the user and the names of their groups come back in one prepared statement
(``flywheel.sql``), and the names are kept on the user as ``_group_names``, where
``annotation.roles.user_role`` finds them instead of reading the groups again (issue #7:
next-task and submit are the hot path). The project package knows groups, not the apps' roles.

Tokens are kept hashed (``flywheel.accounts``, issue 18): the key's SHA-256 is looked up through
its unique index. The same round trip stamps the token's ``last_used_at``, at most once a
minute: an UPDATE that finds the token through that index and, within the minute, writes
nothing. A token past its ``expires_at`` is refused as an unknown one is.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .accounts.keys import key_digest
from .accounts.models import ApiToken
from .sql import Statements, columns, fetch_one, instance

# ``last_used_at`` is written at most this often per token, so a busy token costs no write per
# request (it is shown to the minute).
LAST_USED_RESOLUTION = "60 seconds"


@cache
def _user_by_token() -> Statements:
    user = get_user_model()
    tokens = ApiToken._meta.db_table
    groups = user._meta.get_field("groups").remote_field.through._meta.db_table
    select, _ = columns(user, "u")
    return Statements(
        f"UPDATE {tokens} SET last_used_at = now() WHERE digest = %(digest)s "
        "AND expires_at > now() AND (last_used_at IS NULL "
        f"OR last_used_at < now() - interval '{LAST_USED_RESOLUTION}')",
        f"SELECT {select}, t.id, ARRAY(SELECT g.name FROM auth_group g JOIN {groups} ug "
        "ON ug.group_id = g.id WHERE ug.user_id = u.id) "
        f"FROM {tokens} t JOIN {user._meta.db_table} u ON u.id = t.user_id "
        "WHERE t.digest = %(digest)s AND t.expires_at > now()",
    )


class TokenWithRoleAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        row = fetch_one(_user_by_token(), {"digest": key_digest(key)})
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        user = instance(get_user_model(), "u", row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user._group_names = row[-1]  # type: ignore[attr-defined]
        return user, ApiToken(pk=row[-2], user=user)
