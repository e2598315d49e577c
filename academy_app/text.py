"""Reading numbers and dates out of untrusted text (URLs, form fields): never a surprise; a
date-time that does not read says why (ValueError with the message to show)."""

from __future__ import annotations

from datetime import datetime


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


def parse_local(text: str, *, required: bool) -> datetime | None:
    """A date-time typed in the course's zone ("2026-12-09T09:00" from the browser's picker, or
    "2026-12-09 09:00"), naive; None when empty and allowed. Raises ValueError with the message."""
    text = text.strip()
    if not text:
        if required:
            raise ValueError("Choose a date and time")
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError("Enter a date and time like 2026-12-09 09:00") from None
    if moment.tzinfo is not None:
        raise ValueError("Give the time as the course's clock shows it, without a zone")
    if not 2000 <= moment.year <= 2100:
        raise ValueError("Choose a date between 2000 and 2100")
    return moment.replace(second=0, microsecond=0)
