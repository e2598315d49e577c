"""The Ed25519 key this deployment signs its Open Badges credentials with, in Multikey form.

Production reads it from `ACADEMY_CREDENTIAL_ISSUER_KEY` (a `secretKeyMultibase`, `z3u2…`) and
refuses to start without it, like the secret key. Development makes one on first use and keeps it
in the private media folder (`var/media/secret/credential-issuer-key`), so the credentials it signs
keep verifying across restarts of one machine.

Keys are written the way the Multikey format of W3C Controlled Identifiers writes them: base58btc
multibase (`z`) of a multicodec header and the raw 32 bytes, `0xed 0x01` for a public key (hence
`z6Mk…`) and `0x80 0x26` for a secret one (hence `z3u2…`).

`python -m academy_app.infra.issuer_keys` prints a new secret key, for a production secret store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from academy_app.settings import get_settings

PUBLIC_HEADER = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
SECRET_HEADER = b"\x80\x26"  # multicodec ed25519-priv
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
KEY_SETTING = "ACADEMY_CREDENTIAL_ISSUER_KEY"


class IssuerKeyError(ValueError):
    """The configured key cannot be read: said at the first signature, with the setting named."""


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
    except (InvalidSignature, IssuerKeyError):
        return False
    return True


def public_multibase(key: Ed25519PublicKey) -> str:
    return "z" + base58_encode(PUBLIC_HEADER + key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def encode_secret(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return "z" + base58_encode(SECRET_HEADER + raw)


def decode_secret(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode(text, SECRET_HEADER, "secret"))


def decode_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_decode(text, PUBLIC_HEADER, "public"))


def _decode(text: str, header: bytes, kind: str) -> bytes:
    text = str(text or "").strip()
    raw = base58_decode(text[1:]) if text.startswith("z") else None
    if raw is None or len(raw) != len(header) + 32 or not raw.startswith(header):
        raise IssuerKeyError(f"Not an Ed25519 {kind} key in Multikey form (z… base58btc, "
                             f"{'z3u2' if kind == 'secret' else 'z6Mk'}…)")
    return raw[len(header):]


def base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = BASE58_ALPHABET[rest] + digits
    zeros = len(data) - len(data.lstrip(b"\0"))  # each leading zero byte is a leading "1"
    return "1" * zeros + digits


def base58_decode(text: str) -> bytes | None:
    number = 0
    for char in text:
        value = BASE58_ALPHABET.find(char)
        if value < 0:
            return None
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


if __name__ == "__main__":
    print(encode_secret(Ed25519PrivateKey.generate()))
