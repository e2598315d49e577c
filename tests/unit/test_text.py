from __future__ import annotations

import pytest

from academy_app.text import whole_number


@pytest.mark.parametrize(("text", "number"), [
    ("42", 42), (" 7 ", 7), ("", 0), (None, 0), ("-3", 0), ("²", 0), ("٥٠", 0), ("1e9", 0),
    ("12345678901234567890", 0), ("4.5", 0),
])
def test_whole_numbers_from_untrusted_text(text, number):
    assert whole_number(text) == number
