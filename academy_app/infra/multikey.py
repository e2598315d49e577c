"""Ed25519 keys in the Multikey form of W3C Controlled Identifiers: base58btc multibase (`z`) of a
multicodec header and the raw 32 bytes, `0xed 0x01` for a public key (hence `z6Mk…`) and
`0x80 0x26` for a secret one (hence `z3u2…`). Pure encoding, no settings: the settings check a
configured key with it at start."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

PUBLIC_HEADER = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
SECRET_HEADER = b"\x80\x26"  # multicodec ed25519-priv
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class MultikeyError(ValueError):
    """Not an Ed25519 key in Multikey form."""


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
        raise MultikeyError(f"Not an Ed25519 {kind} key in Multikey form (z… base58btc, "
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
