"""Where a webhook may send: an http(s) URL whose host resolves only to public addresses.

Loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254),
multicast, reserved and unspecified addresses are refused, so a webhook cannot be used to reach
the deployment's own network (server-side request forgery), unless
``FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE`` is set (tests, a receiver on the same host). Every address the
host resolves to is checked, at creation and again before each delivery (a name can be pointed
elsewhere later). The request itself resolves the name once more: a DNS server that answers
differently within those milliseconds is not defended against."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

SCHEMES = ("http", "https")


class RefusedDestination(Exception):
    """The URL may not be sent to; the message says why."""


def _refused_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for name in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    return None if address.is_global else "non-public"


def check_destination(url: str) -> None:
    """Raise ``RefusedDestination`` unless ``url`` may be POSTed to."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise RefusedDestination("The URL's scheme must be http or https.")
    if not parts.hostname:
        raise RefusedDestination("The URL has no host.")
    if parts.username or parts.password:
        raise RefusedDestination("The URL may not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedDestination("The URL's port is not a valid port.") from exc
    if settings.FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise RefusedDestination(f"The host {parts.hostname!r} does not resolve.") from exc
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = _refused_reason(address)
        if reason is not None:
            raise RefusedDestination(
                f"The host {parts.hostname!r} resolves to {address}, a {reason} address; "
                "delivery to it is refused (FLYWHEEL_WEBHOOKS_ALLOW_PRIVATE allows it)."
            )
