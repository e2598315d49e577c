from __future__ import annotations

import pytest

from academy_app.state.rows import cover_style, duration_label, price_label


def test_prices_and_durations_read_naturally():
    assert [price_label(0, "USD"), price_label(4900, "USD"), price_label(4990, "EUR")] == [
        "Free", "$49", "€49.90"]
    assert [duration_label(7), duration_label(75)] == ["7 min", "1 h 15 min"]


def test_a_cover_image_is_layered_over_the_gradient():
    assert cover_style("sql", "https://img.example/sql.png").startswith(
        'center / cover no-repeat url("https://img.example/sql.png"), linear-gradient(')


@pytest.mark.parametrize("hostile", ['x"); background: red', "a b", "javascript:alert(1)}"])
def test_a_cover_that_could_escape_the_css_value_is_ignored(hostile):
    assert cover_style("sql", hostile).startswith("linear-gradient(")
