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
import json
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from academy_app.infra.credential_check import MAX_BYTES, NotValid, check, read_credential


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
