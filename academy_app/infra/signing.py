"""Signed values for links that act without a login (an unsubscribe link in an email, say).

The key is `ACADEMY_SECRET_KEY`. Production refuses to run without it; development makes one once
and keeps it in `var/secret_key`, so links keep working across restarts of one machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from academy_app.settings import PROJECT_ROOT, get_settings

KEY_FILE = PROJECT_ROOT / "var" / "secret_key"


def _key() -> bytes:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.is_production:
        raise RuntimeError("Set ACADEMY_SECRET_KEY: production signs links with it")
    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return KEY_FILE.read_text().strip().encode()


def sign(purpose: str, value: str) -> str:
    """`value.signature`: only this app can make one, and only for this purpose."""
    return f"{value}.{_signature(purpose, value)}"


def unsign(purpose: str, token: str) -> str | None:
    """The value a token was signed with for this purpose, or None for anything else."""
    value, _, signature = str(token or "")[:200].rpartition(".")
    # Compared as bytes: a crafted token may hold any character, and compare_digest takes str
    # arguments only when they are ASCII.
    if not value or not hmac.compare_digest(signature.encode(), _signature(purpose, value).encode()):
        return None
    return value


def derive(purpose: str, value: str) -> str:
    """A 256-bit secret (URL-safe) that only this app can compute from `value`, for this purpose.

    For a link whose token must not be kept anywhere: the password-reset email stores a random
    value in the email log, the database keeps only a SHA-256 of the token, and the token is made
    from the value again when the email is rendered. The database alone gives no usable link.
    """
    digest = hmac.new(_key(), f"derive:{len(purpose)}:{purpose}:{value}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signature(purpose: str, value: str) -> str:
    # The purpose is length-prefixed, so no purpose and value can pass for another pair.
    digest = hmac.new(_key(), f"{len(purpose)}:{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
