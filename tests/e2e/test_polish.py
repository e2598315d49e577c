"""Product polish (issue 18) in a real browser: course cards show all of themselves at desktop and
phone widths, and each person lands where their work is after log-in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_student_journey import log_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LESSONS_LINE = re.compile(r"^\d+ lessons · ")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["/", "/courses"])
def test_course_cards_show_their_bottom_row(page: Page, path: str, viewport: dict[str, int]):
    page.set_viewport_size(viewport)
    page.goto(path)
    # A card is a link named for its course that holds the course's heading.
    cards = page.get_by_role("link").filter(has=page.get_by_role("heading", level=3))
    expect(cards.first).to_be_visible()
    assert cards.count() >= 2
    for index in range(cards.count()):
        card = cards.nth(index)
        card.scroll_into_view_if_needed()
        box = card.bounding_box()
        bottom_row = card.get_by_text(LESSONS_LINE)
        expect(bottom_row).to_be_visible()
        row = bottom_row.bounding_box()
        assert box and row
        name = card.get_attribute("aria-label")
        assert box["y"] <= row["y"] and row["y"] + row["height"] <= box["y"] + box["height"] + 1, (
            f"{name}: its lessons line ends at {row['y'] + row['height']:.0f}px, "
            f"below the card's bottom at {box['y'] + box['height']:.0f}px")
        # Nothing inside the card is cut off by its own box (the card itself, or the Radix
        # card inside the link, which hides overflow for its inset cover); text only for screen
        # readers is clipped to nothing on purpose.
        clipped = card.evaluate("""link => [link, ...link.querySelectorAll('*')]
            .filter(el => !el.classList.contains('visually-hidden')
                          && getComputedStyle(el).overflow !== 'visible'
                          && el.scrollHeight > el.clientHeight + 1)
            .map(el => el.className || el.tagName)""")
        assert clipped == [], f"{name}: content clipped by {clipped}"
    if viewport is DESKTOP:
        # Cards on one grid row line up: the same top and the same height.
        boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
        rows: dict[int, list[dict[str, float]]] = {}
        for b in boxes:
            assert b
            rows.setdefault(round(b["y"]), []).append(b)
        assert any(len(r) > 1 for r in rows.values()), "the desktop grid puts cards side by side"
        for row_boxes in rows.values():
            heights = {round(b["height"]) for b in row_boxes}
            assert len(heights) == 1, f"cards on one row differ in height: {heights}"


@pytest.mark.parametrize(("email", "landing"), [
    ("instructor@academy.test", "/admin/courses"),
    ("admin@academy.test", "/admin/courses"),
    ("student@academy.test", "/dashboard"),
])
def test_log_in_lands_staff_on_their_workspace_and_learners_on_my_learning(
        page: Page, email: str, landing: str):
    page.goto("/login")
    log_in(page, email)
    expect(page).to_have_url(re.compile(re.escape(landing) + r"/?$"))
    # Visiting the log-in page again while logged in sends them to the same place.
    page.goto("/login")
    expect(page).to_have_url(re.compile(re.escape(landing) + r"/?$"))


def test_an_explicit_next_still_wins_for_staff(page: Page):
    page.goto("/login?next=/courses")
    log_in(page, "instructor@academy.test")
    expect(page).to_have_url(re.compile(r"/courses/?$"))
