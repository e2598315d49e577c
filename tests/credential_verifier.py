"""An Open Badges 3.0 / eddsa-rdfc-2022 verifier written apart from the app's signer, the way an
employer's would be: it reads only what the app serves (the credential, the issuer document, the
status list) through `fetch`, and uses none of the app's code, only pyld, cryptography and the
published context files the app vendors (data, read from disk here).

It says why a credential is not valid, in the order a verifier checks: the proof and its key, the
signature, the dates, then the status.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

from academy_app.settings import PROJECT_ROOT

CONTEXTS = PROJECT_ROOT / "academy_app" / "infra" / "jsonld_contexts"
# The published URL of each context file (SOURCES.md beside them says where each comes from).
CONTEXT_URLS = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.jsonld",
}
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

Fetch = Callable[[str], dict[str, Any]]


class NotValid(Exception):
    pass


@dataclass(frozen=True)
class Verified:
    revoked: bool
    key: str  # publicKeyMultibase of the key that signed


def verify(credential: dict[str, Any], fetch: Fetch, now: datetime | None = None) -> Verified:
    now = now or datetime.now(UTC)
    key = _check_signature(credential, fetch)
    if _date(credential["validFrom"]) > now:
        raise NotValid("not valid yet")
    if "validUntil" in credential and _date(credential["validUntil"]) < now:
        raise NotValid("expired")
    return Verified(revoked=_revoked(credential, fetch), key=key)


def _check_signature(credential: dict[str, Any], fetch: Fetch) -> str:
    proof = dict(credential.get("proof") or {})
    if (proof.get("type"), proof.get("cryptosuite"), proof.get("proofPurpose")) != (
            "DataIntegrityProof", "eddsa-rdfc-2022", "assertionMethod"):
        raise NotValid("no eddsa-rdfc-2022 assertion proof")
    issuer = credential["issuer"]
    issuer_id = issuer["id"] if isinstance(issuer, dict) else issuer
    method_id = proof["verificationMethod"]
    method = fetch(method_id)  # NotValid("unknown key") when nothing is there
    if (method.get("id"), method.get("type"), method.get("controller")) != (
            method_id, "Multikey", issuer_id):
        raise NotValid("signed by a key that is not the issuer's")
    if method_id not in fetch(issuer_id).get("assertionMethod", []):
        raise NotValid("the issuer does not vouch for this key")
    created = _date(proof["created"])
    signed_until = _date(method["signedUntil"]) if "signedUntil" in method else created
    if not _date(method["signedFrom"]) <= created <= signed_until:
        raise NotValid("signed outside the key's validity")
    public_key = _public_key(method["publicKeyMultibase"])
    proof_value = proof.pop("proofValue")
    unsigned = {name: value for name, value in credential.items() if name != "proof"}
    data = (hashlib.sha256(_canonical({**proof, "@context": credential["@context"]})).digest()
            + hashlib.sha256(_canonical(unsigned)).digest())
    try:
        public_key.verify(_base58(proof_value[1:]), data)
    except (InvalidSignature, ValueError) as exc:
        raise NotValid("signature does not match") from exc
    return method["publicKeyMultibase"]


def _revoked(credential: dict[str, Any], fetch: Fetch) -> bool:
    entry = credential["credentialStatus"]
    if entry["type"] != "BitstringStatusListEntry" or entry["statusPurpose"] != "revocation":
        raise NotValid("unknown status")
    status_list = fetch(entry["statusListCredential"])
    _check_signature(status_list, fetch)
    subject = status_list["credentialSubject"]
    if subject["statusPurpose"] != "revocation":
        raise NotValid("status list of another purpose")
    encoded = subject["encodedList"]
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _canonical(document: dict[str, Any]) -> bytes:
    def load(url: str, _options: Any = None) -> dict[str, Any]:
        if url not in CONTEXT_URLS:
            raise NotValid(f"unknown context {url}")
        return {"contextUrl": None, "documentUrl": url,
                "document": json.loads((CONTEXTS / CONTEXT_URLS[url]).read_text())}

    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": load}).encode()


def _public_key(multibase: str) -> Ed25519PublicKey:
    raw = _base58(multibase[1:])
    if not multibase.startswith("z") or raw[:2] != b"\xed\x01" or len(raw) != 34:
        raise NotValid("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def _base58(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
