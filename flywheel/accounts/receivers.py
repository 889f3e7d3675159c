"""Revocation on every path that changes a password or deactivates an account: the REST views,
the Django admin's forms, ``manage.py changepassword``, a shell. A receiver is the one place all
of them pass through (``User.save``); it calls one service."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .services import user_credentials_revoke


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts-revoke")
def revoke_on_credentials_change(sender, instance, created: bool, **kwargs) -> None:
    if created:
        return
    # ``_password`` holds the raw password from ``set_password`` until the save after it
    # (Django clears it for a hash upgrade at sign-in, which changes nothing for the user).
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        user_credentials_revoke(user=instance)
