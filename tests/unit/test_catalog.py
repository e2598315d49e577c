from __future__ import annotations

import pytest

from academy_app.models import CourseLevel
from academy_app.services import catalog
from academy_app.services.catalog import CatalogQuery, CatalogSort, PriceFilter
from academy_app.services.errors import NotFound
from tests.factories import make_category, make_course, make_user


@pytest.fixture
def shelf(db, instructor):
    data = make_category(db, "Data")
    design = make_category(db, "Design")
    return {
        "sql": make_course(db, instructor, title="SQL for Analysts", slug="sql", category=data,
                           subtitle="Joins and GROUP BY"),
        "stats": make_course(db, instructor, title="Statistics", slug="stats", category=data,
                             price_cents=2900, level=CourseLevel.INTERMEDIATE,
                             description="Hypothesis tests and 100% confidence"),
        "ux": make_course(db, instructor, title="Accessible Interfaces", slug="ux", category=design,
                          price_cents=3900, level=CourseLevel.ADVANCED),
        "draft": make_course(db, instructor, title="SQL Drafts", slug="draft", published=False),
    }


def titles(page: catalog.CatalogPage) -> list[str]:
    return [card.title for card in page.items]


def test_catalog_lists_published_courses_only(db, shelf):
    page = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.TITLE))
    assert titles(page) == ["Accessible Interfaces", "SQL for Analysts", "Statistics"]
    assert page.total == 3


def test_search_matches_title_subtitle_and_description_ignoring_case(db, shelf):
    assert titles(catalog.search_courses(db, CatalogQuery(text="sql"))) == ["SQL for Analysts"]
    assert titles(catalog.search_courses(db, CatalogQuery(text="group by"))) == ["SQL for Analysts"]
    assert titles(catalog.search_courses(db, CatalogQuery(text="HYPOTHESIS"))) == ["Statistics"]


def test_search_treats_like_wildcards_as_plain_text(db, shelf):
    assert titles(catalog.search_courses(db, CatalogQuery(text="100%"))) == ["Statistics"]
    assert catalog.search_courses(db, CatalogQuery(text="%")).total == 1
    assert catalog.search_courses(db, CatalogQuery(text="_")).total == 0


def test_filters_by_category_level_and_price(db, shelf):
    def found(**kwargs) -> list[str]:
        return sorted(titles(catalog.search_courses(db, CatalogQuery(**kwargs))))

    assert found(category="data") == ["SQL for Analysts", "Statistics"]
    assert found(level=CourseLevel.ADVANCED) == ["Accessible Interfaces"]
    assert found(price=PriceFilter.FREE) == ["SQL for Analysts"]
    assert found(price=PriceFilter.PAID) == ["Accessible Interfaces", "Statistics"]
    assert found(category="data", price=PriceFilter.PAID) == ["Statistics"]


def test_sorts_by_price(db, shelf):
    low = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.PRICE_LOW))
    high = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.PRICE_HIGH))
    assert titles(low) == ["SQL for Analysts", "Statistics", "Accessible Interfaces"]
    assert titles(high) == list(reversed(titles(low)))


def test_paginates_and_clamps_a_page_past_the_end(db, shelf):
    first = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.TITLE, per_page=2))
    second = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.TITLE, per_page=2, page=2))
    beyond = catalog.search_courses(db, CatalogQuery(sort=CatalogSort.TITLE, per_page=2, page=99))
    assert (first.pages, len(first.items), len(second.items)) == (2, 2, 1)
    assert titles(beyond) == titles(second)


def test_cards_carry_lesson_counts_and_instructor(db, shelf):
    card = next(c for c in catalog.search_courses(db, CatalogQuery()).items if c.slug == "sql")
    assert (card.lesson_count, card.instructor, card.category) == (4, "Iris Instructor", "Data")


def test_query_parsing_tolerates_hostile_input():
    query = CatalogQuery.parse(text="x" * 500, level="hacker", price="0; DROP", sort="?",
                               page="-3", per_page=10_000)
    assert len(query.text) == catalog.MAX_SEARCH_LENGTH
    assert (query.level, query.price, query.sort, query.page) == (
        None, PriceFilter.ALL, CatalogSort.POPULAR, 1)
    assert query.per_page == catalog.MAX_PER_PAGE


def test_a_search_with_nul_characters_finds_what_the_rest_of_it_names(db, shelf):
    """PostgreSQL refuses NUL in a query: a crafted search must not turn into a server error."""
    page = catalog.search_courses(db, CatalogQuery.parse(text="s\x00ql", category="da\x00ta"))
    assert [card.slug for card in page.items] == ["sql"]


def test_outline_lists_modules_and_lessons_in_position_order(db, shelf):
    outline = catalog.course_outline(db, "sql", viewer=None)
    assert [m.title for m in outline.modules] == ["Module 1", "Module 2"]
    assert [lesson.title for lesson in outline.lessons] == [
        "Lesson 1.1", "Lesson 1.2", "Lesson 2.1", "Lesson 2.2"]


def test_draft_course_is_hidden_from_learners_but_not_from_its_instructor(db, shelf, instructor):
    student = make_user(db)
    with pytest.raises(NotFound):
        catalog.course_outline(db, "draft", viewer=student)
    with pytest.raises(NotFound):
        catalog.course_outline(db, "draft", viewer=None)
    assert catalog.course_outline(db, "draft", viewer=instructor).course.title == "SQL Drafts"


def test_unknown_slug_is_not_found(db):
    with pytest.raises(NotFound):
        catalog.course_outline(db, "no-such-course", viewer=None)


def test_each_filter_value_counts_the_courses_it_would_show_with_the_other_filters_on(db, shelf):
    counts = catalog.filter_counts(db, CatalogQuery())
    assert counts.categories == {"data": 2, "design": 1}
    assert counts.levels == {"beginner": 1, "intermediate": 1, "advanced": 1}
    assert counts.prices == {"all": 3, "free": 1, "paid": 2}
    assert counts.all_categories == 3
    # With "Data" chosen, the levels and prices count within Data; the categories ignore their
    # own filter (choosing "Design" instead would show 1), and the draft never counts.
    counts = catalog.filter_counts(db, CatalogQuery.parse(category="data", price="paid"))
    assert counts.categories == {"data": 1, "design": 1}
    assert counts.levels == {"intermediate": 1}
    assert counts.prices == {"all": 2, "free": 1, "paid": 1}
    counts = catalog.filter_counts(db, CatalogQuery.parse(text="sql"))
    assert (counts.categories, counts.prices) == ({"data": 1}, {"all": 1, "free": 1})


def test_courses_in_no_category_count_in_all_categories_only(db, shelf, instructor):
    make_course(db, instructor, title="Loose", slug="loose")
    counts = catalog.filter_counts(db, CatalogQuery())
    assert counts.categories == {"data": 2, "design": 1} and counts.all_categories == 4
    assert counts.levels["beginner"] == 2
