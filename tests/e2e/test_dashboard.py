"""My learning in the browser: suggestions while it is empty, "Start" at 0 %, "Continue: <next
lesson>" after, and a completed course's link to its certificate."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import violations
from tests.e2e.test_student_journey import complete_every_lesson, sign_up

pytestmark = pytest.mark.e2e


def test_an_empty_dashboard_suggests_courses_to_start_with(page: Page):
    sign_up(page, "Sunny Suggested")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_text("You are not enrolled in any course yet")).to_be_visible()
    suggested = page.get_by_role("region", name="Suggested for you")
    expect(suggested.get_by_role("link")).to_have_count(3)
    name = suggested.get_by_role("link").first.get_attribute("aria-label")
    suggested.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_start_then_continue_with_the_next_lessons_title(page: Page):
    sign_up(page, "Stella Starter")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/python-foundations")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("link", name="Continue learning")).to_be_visible()
    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_role("link", name="Start Python Foundations")).to_have_text("Start")
    expect(page.get_by_role("region", name="Suggested for you")).to_have_count(0)

    page.get_by_role("link", name="Start Python Foundations").click()
    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_be_visible()
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    page.get_by_role("link", name="My learning").click()
    go_on = page.get_by_role("link", name="Continue Python Foundations: Your first program")
    expect(go_on).to_have_text("Continue: Your first program")
    assert violations(page) == []
    go_on.click()
    expect(page.get_by_role("heading", name="Your first program", level=1)).to_be_visible()


def test_a_completed_course_links_to_its_certificate(page: Page):
    sign_up(page, "Cora Completer")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/design-systems-101")
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name="Continue learning").click()
    complete_every_lesson(page)
    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_role("link", name="Revisit lessons of Design Systems 101")).to_be_visible()
    # The course's "Congratulations" toasts fade out first: axe reads a fading toast's contrast.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    assert violations(page) == []
    page.get_by_role("link", name="View certificate of Design Systems 101").click()
    expect(page).to_have_url(re.compile(r"/verify/[0-9A-Z-]+/?$"))
    expect(page.get_by_role("status").filter(has_text="This certificate is valid.")).to_be_visible()
    expect(page.get_by_text("Cora Completer").first).to_be_visible()
