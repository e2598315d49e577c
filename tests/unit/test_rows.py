from __future__ import annotations

import pytest

from academy_app.state.rows import cover_style, duration_label, highlighted, price_label


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


def test_a_search_is_marked_in_titles_whatever_its_case_and_markup_stays_text():
    assert [(p.text, p.match) for p in highlighted("SQL for analysts: sql joins", "sql")] == [
        ("SQL", True), (" for analysts: ", False), ("sql", True), (" joins", False)]
    assert [(p.text, p.match) for p in highlighted("Statistics", "")] == [("Statistics", False)]
    assert [(p.text, p.match) for p in highlighted("Statistics", "  ")] == [("Statistics", False)]
    assert [(p.text, p.match) for p in highlighted("Data Science", "data   sci")] == [
        ("Data Sci", True), ("ence", False)]
    hostile = "<script>alert(1)</script>"
    assert [(p.text, p.match) for p in highlighted(f"Learn {hostile} safely", hostile)] == [
        ("Learn ", False), (hostile, True), (" safely", False)]
    assert [(p.text, p.match) for p in highlighted("a.b", ".")] == [
        ("a", False), (".", True), ("b", False)]
