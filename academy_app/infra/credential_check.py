"""Checking an Open Badges credential as a verifier does, given the issuer document and the status
list (however they were obtained: the command fetches or reads them, the /verify page asks the
database): every reason it is not valid, said in plain words."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime
from typing import Any

from academy_app.infra.badge_png import SIGNATURE, baked_credential
from academy_app.infra.data_integrity import proof_matches
from academy_app.infra.jsonld import UndefinedTerm, UnknownContext

MAX_BYTES = 5_000_000  # a credential is a few kB; a badge image with one, tens


class NotValid(Exception):
    pass


def read_credential(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BYTES:
        raise NotValid(f"the file is over {MAX_BYTES // 1_000_000} MB: too large to be a credential")
    if data.startswith(SIGNATURE):
        text = baked_credential(data)
        if text is None:
            raise NotValid("the image has no Open Badges credential baked into it")
    else:
        text = data.decode("utf-8", "replace")
    try:
        credential = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotValid(f"it is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(credential, dict) or "OpenBadgeCredential" not in credential.get("type", []):
        raise NotValid("it is not an Open Badges credential")
    return credential


def check(credential: dict[str, Any], issuer: dict[str, Any],
          status_list: dict[str, Any] | None, now: datetime) -> str:
    """What a verifier says of the credential, given the issuer document (and the status list)."""
    _check_proof(credential, issuer)
    valid_from = _date(credential, "validFrom")
    if valid_from is None or valid_from > now:
        raise NotValid("it is not valid yet" if valid_from else "it has no validFrom date")
    valid_until = _date(credential, "validUntil")
    if valid_until is not None and valid_until < now:
        raise NotValid(f"it expired on {valid_until:%Y-%m-%d}")
    entry = credential.get("credentialStatus") or {}
    if status_list is None:
        return "valid (revocation not checked: no status list given)"
    if status_list.get("id") != entry.get("statusListCredential"):
        raise NotValid("the status list given is not the one the credential names")
    _check_proof(status_list, issuer)
    if _bit(status_list, int(entry.get("statusListIndex", -1))):
        raise NotValid("it was revoked by its issuer")
    return "valid"


def _check_proof(document: dict[str, Any], issuer: dict[str, Any]) -> None:
    issuer_field = document.get("issuer")
    issuer_id = issuer_field.get("id") if isinstance(issuer_field, dict) else issuer_field
    if issuer_id != issuer.get("id"):
        raise NotValid(f"it was issued by {issuer_id!r}, not by the issuer given ({issuer.get('id')!r})")
    proof = document.get("proof") or {}
    method_id = proof.get("verificationMethod")
    methods = {method.get("id"): method for method in issuer.get("verificationMethod", [])}
    method = methods.get(method_id)
    if method is None or method_id not in issuer.get("assertionMethod", []):
        raise NotValid("it is signed with a key the issuer does not list")
    created = _date(proof, "created")
    if created is None or not (_date(method, "signedFrom") or created) <= created <= (
            _date(method, "signedUntil") or created):
        raise NotValid("its proof is dated outside the time its key signed")
    try:
        matches = proof_matches(document, method["publicKeyMultibase"])
    except (UnknownContext, UndefinedTerm) as exc:
        raise NotValid(str(exc)) from exc
    if not matches:
        raise NotValid("its signature does not match what it says (it was changed after signing)")


def _bit(status_list: dict[str, Any], index: int) -> bool:
    encoded = str((status_list.get("credentialSubject") or {}).get("encodedList", ""))
    try:
        bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    except (ValueError, OSError) as exc:
        raise NotValid("its status list cannot be read") from exc
    if not encoded.startswith("u") or not 0 <= index < len(bits) * 8:
        raise NotValid("its status list cannot be read")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _date(node: dict[str, Any], name: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(node[name]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
