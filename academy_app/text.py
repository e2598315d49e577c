"""Reading numbers out of untrusted text (URLs, form fields): never an exception, never a surprise."""

from __future__ import annotations


def whole_number(text: object, max_digits: int = 9) -> int:
    """A non-negative int, or 0 for anything else. ``str.isdigit`` alone admits superscripts and
    other scripts' digits, which ``int`` then refuses or reads unexpectedly."""
    text = str(text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else 0


MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number would be a database error


def as_id(value: object) -> int:
    """A crafted event may send anything: only a positive int that fits an id column is an id;
    anything else is 0, which matches no row."""
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 < value <= MAX_ID else 0


def id_in(text: object) -> int:
    """The id a URL segment names, or 0 (no row) for anything else: past INTEGER's range, SQLite
    cannot bind the number and PostgreSQL may refuse it, so it must never reach a query."""
    return as_id(whole_number(text, max_digits=len(str(MAX_ID))))
