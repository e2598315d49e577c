"""The list of common passwords a new password is checked against (NIST SP 800-63B, 3.1.1.2).

`common-passwords.txt.gz` beside this file: 20,000 common passwords as Django ships them, lower-cased
(origin and licence in `common-passwords-LICENSE.txt`). Read once per process, on first use.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

LIST_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"


@lru_cache
def _passwords() -> frozenset[str]:
    with gzip.open(LIST_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """In the list, ignoring case and surrounding spaces."""
    return password.strip().lower() in _passwords()
