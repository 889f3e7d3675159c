"""API keys: how one is made and the digest kept of it (no database, no DRF: authentication
imports this while DRF's settings load)."""

from __future__ import annotations

import hashlib
import secrets

# New keys read "fw_" + 43 URL-safe characters (32 random bytes): the marker lets secret
# scanners (and people) recognise a leaked Flywheel key.
KEY_MARKER = "fw_"
PREFIX_LENGTH = 10


def key_new() -> str:
    return KEY_MARKER + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """SHA-256 hex of a key: what ``ApiToken.digest`` holds and authentication looks up."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
