"""The address a request came from, for sign-in rate limiting (django-axes'
``AXES_CLIENT_IP_CALLABLE``).

Behind a reverse proxy every request arrives from the proxy's address, so a lockout keyed on
(username, address) would let anyone lock a username out for everyone by failing to sign in as
it. ``FLYWHEEL_TRUSTED_PROXIES`` says how many proxies stand in front of Flywheel; each appends
the address it received the request from to ``X-Forwarded-For``, so the client is the entry that
many places from the right. Entries further left were written by the client and are ignored
(trusting them would let an attacker send a new address with each guess). With no trusted proxy
(the default) the header is ignored and the address is ``REMOTE_ADDR``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.FLYWHEEL_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if len(forwarded) < proxies:  # not the chain the setting describes: do not guess
        return remote
    return forwarded[-proxies]
