from __future__ import annotations

import pytest

from academy_app.text import MAX_ID, id_in, whole_number


@pytest.mark.parametrize(("text", "number"), [
    ("42", 42), (" 7 ", 7), ("", 0), (None, 0), ("-3", 0), ("²", 0), ("٥٠", 0), ("1e9", 0),
    ("12345678901234567890", 0), ("4.5", 0),
])
def test_whole_numbers_from_untrusted_text(text, number):
    assert whole_number(text) == number


@pytest.mark.parametrize(("text", "number"), [
    ("42", 42), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), 0), ("99999999999999999999", 0),
    ("0", 0), ("-1", 0), ("new", 0), (None, 0),
])
def test_ids_in_urls_are_ids_an_id_column_can_hold_or_none(text, number):
    # The page routes with an id (/admin/courses/[course_id], /learn/[slug]/[lesson_id]) read it so.
    assert id_in(text) == number
