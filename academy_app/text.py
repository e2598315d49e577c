"""Reading numbers out of untrusted text (URLs, form fields): never an exception, never a surprise."""

from __future__ import annotations


def whole_number(text: object, max_digits: int = 9) -> int:
    """A non-negative int, or 0 for anything else. ``str.isdigit`` alone admits superscripts and
    other scripts' digits, which ``int`` then refuses or reads unexpectedly."""
    text = str(text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else 0
