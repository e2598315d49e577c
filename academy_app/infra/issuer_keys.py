"""The Ed25519 key this deployment signs its Open Badges credentials with, in Multikey form.

Production reads it from `ACADEMY_CREDENTIAL_ISSUER_KEY` (a `secretKeyMultibase`, `z3u2…`) and
refuses to start without it, like the secret key. Development makes one on first use and keeps it
in the private media folder (`var/media/secret/credential-issuer-key`), so the credentials it signs
keep verifying across restarts of one machine.

Keys are written in Multikey form (infra/multikey.py).

`python -m academy_app.infra.issuer_keys` prints a new secret key, for a production secret store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from academy_app.infra.multikey import (
    MultikeyError,
    decode_public,
    decode_secret,
    encode_secret,
    public_multibase,
)
from academy_app.settings import get_settings

KEY_SETTING = "ACADEMY_CREDENTIAL_ISSUER_KEY"


class IssuerKeyError(ValueError):
    """Production has no key to sign with."""


@dataclass(frozen=True)
class IssuerKey:
    private: Ed25519PrivateKey

    @property
    def public_multibase(self) -> str:
        return public_multibase(self.private.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def key_file() -> Path:
    return get_settings().media_root / "secret" / "credential-issuer-key"


def current_key() -> IssuerKey:
    """The key new credentials are signed with."""
    settings = get_settings()
    if settings.credential_issuer_key:
        return IssuerKey(decode_secret(settings.credential_issuer_key))
    if settings.is_production:
        raise IssuerKeyError(f"Set {KEY_SETTING}: production signs credentials with it")
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes making the first key at once, one writes, both read it
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(encode_secret(Ed25519PrivateKey.generate()))
    return IssuerKey(decode_secret(path.read_text().strip()))


def verify(public_key_multibase: str, signature: bytes, data: bytes) -> bool:
    try:
        decode_public(public_key_multibase).verify(signature, data)
    except (InvalidSignature, MultikeyError):
        return False
    return True


if __name__ == "__main__":
    print(encode_secret(Ed25519PrivateKey.generate()))
