"""Check an Academy Open Badges credential, with no database (for employers, and for tests).

    python -m academy_app.verify_credential FILE [--offline ISSUER.json [--status LIST.json]]

FILE is the credential's JSON or the badge PNG it is baked into. Online, the issuer document and
the status list are fetched from the URLs the credential names. With --offline nothing is fetched:
ISSUER.json is the issuer document saved from `<site>/credentials/issuer` (it lists every key that
ever signed), and LIST.json, if given, the status list saved from the credential's
`credentialStatus.statusListCredential` (without it, revocation is not checked, and it says so).

Prints "valid: …" and exits 0, or "not valid because …" and exits 1.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
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


def _fetch(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise NotValid(f"it names {url!r}, which cannot be fetched")
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.loads(answer.read(MAX_BYTES))
    except (OSError, ValueError) as exc:
        raise NotValid(f"{url} could not be fetched ({exc})") from exc


def _load(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_bytes()[:MAX_BYTES])
    except (OSError, ValueError) as exc:
        raise NotValid(f"{path} cannot be read as JSON ({exc})") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", help="the credential: its JSON, or the badge PNG it is baked into")
    parser.add_argument("--offline", metavar="ISSUER.json",
                        help="the issuer document, saved: fetch nothing")
    parser.add_argument("--status", metavar="LIST.json", help="the status list, saved (offline)")
    args = parser.parse_args(argv)
    try:
        with open(args.file, "rb") as file:
            credential = read_credential(file.read(MAX_BYTES + 1))
        if args.offline:
            issuer = _load(args.offline)
            status_list = _load(args.status) if args.status else None
        else:
            issuer_field = credential.get("issuer")
            issuer = _fetch(issuer_field.get("id") if isinstance(issuer_field, dict)
                            else str(issuer_field))
            status_list = _fetch(str((credential.get("credentialStatus") or {})
                                     .get("statusListCredential", "")))
        verdict = check(credential, issuer, status_list, datetime.now(UTC))
    except NotValid as reason:
        print(f"not valid because {reason}")
        return 1
    except OSError as exc:
        print(f"not valid because {args.file} cannot be read ({exc.strerror})")
        return 1
    achievement = credential.get("credentialSubject", {}).get("achievement", {})
    print(f"{verdict}: {achievement.get('name', '?')}, issued by {issuer.get('name', '?')} "
          f"({issuer.get('id')}) on {credential.get('validFrom', '?')[:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
