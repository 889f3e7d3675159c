"""DRF's ``authtoken`` keys (one per user, in plain text, never expiring) become hashed
``ApiToken`` rows named "legacy token", so the scripts that hold them keep working, and the
plain-text rows are deleted. A legacy token expires a year after this migration (the longest
lifetime a new token may have, FLYWHEEL_API_TOKEN_MAX_DAYS's default); revoke it from the
Tokens page and create a named one."""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

LEGACY_LIFETIME = timedelta(days=365)


def hash_legacy_tokens(apps, schema_editor) -> None:
    Legacy = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + LEGACY_LIFETIME
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=legacy.user_id,
            name="legacy token",
            prefix=legacy.key[:8],
            digest=hashlib.sha256(legacy.key.encode()).hexdigest(),
            created_at=legacy.created,
            expires_at=expires_at,
        )
        for legacy in Legacy.objects.iterator()
    )
    Legacy.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    # Irreversible: the plain-text keys are gone.
    operations = [migrations.RunPython(hash_legacy_tokens)]
