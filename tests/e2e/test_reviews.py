"""Ratings and reviews in the browser: a learner past the threshold rates a course with the keyboard
and reviews it, the average shows on the course page and its card, the instructor replies; the
catalog sorts by rating and keeps the sort in its address."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import violations
from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e

COURSE = "/courses/design-systems-101"  # the demo has one review of it: 4 stars
TEXT = "Tokens and components, explained with examples I could use the next day."


def mark_lesson_complete(page: Page) -> None:
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()


def reviews_of(app_server, email: str) -> list[tuple[int, str]]:
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(
            "SELECT rating, reply FROM course_reviews JOIN users ON users.id = user_id "
            "WHERE users.email = ?", (email,)).fetchall()


def test_a_learner_rates_with_the_keyboard_and_the_instructor_replies(open_page, app_server):
    learner = open_page()
    email = sign_up(learner, "Rita Reviewer")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto(COURSE)
    reviews = learner.get_by_role("region", name="Reviews")
    expect(reviews.get_by_text("Enroll in this course to review it")).to_be_visible()
    learner.get_by_role("button", name="Enroll").click()
    learner.get_by_role("link", name="Continue learning").click()
    mark_lesson_complete(learner)  # one lesson of four: 25 %, under the 30 % reviews need

    learner.goto(COURSE)
    expect(reviews.get_by_text("once you have completed 30% of it")).to_be_visible()
    expect(reviews.get_by_role("button", name="Write a review")).to_have_count(0)
    learner.get_by_role("link", name="Continue learning").click()
    mark_lesson_complete(learner)  # 50 %

    learner.goto(COURSE)
    reviews.get_by_role("button", name="Write a review").click()
    reviews.get_by_role("button", name="Post review").click()
    expect(reviews.get_by_role("alert").filter(has_text="Choose a rating")).to_be_visible()
    expect(reviews.get_by_role("alert").filter(has_text="at least 10 characters")).to_be_visible()
    expect(reviews.get_by_label("Your review")).to_have_attribute("aria-invalid", "true")
    assert violations(learner) == []  # the open form with its errors, for axe

    # Keyboard only: the stars are a radio group; Space chooses, arrows move and choose.
    reviews.get_by_role("radio", name="1 star").focus()
    learner.keyboard.press("Space")
    expect(reviews.get_by_role("radio", name="1 star")).to_be_checked()
    for _ in range(3):
        # Held a moment, as a finger does: Radix chooses the item an arrow focuses only while the
        # key is still down (it focuses on the next tick).
        learner.keyboard.press("ArrowRight", delay=80)
    expect(reviews.get_by_role("radio", name="4 stars")).to_be_checked()
    reviews.get_by_label("Your review").fill(TEXT)
    reviews.get_by_role("button", name="Post review").dblclick()

    mine = reviews.get_by_role("article", name="Review by Rita Reviewer")
    expect(mine.get_by_text(TEXT)).to_be_visible()
    expect(mine.get_by_text("Rated 4 stars out of 5")).to_be_attached()
    expect(learner.get_by_text("Rated 4.0 out of 5 in 2 reviews").first).to_be_attached()
    assert reviews_of(app_server, email) == [(4, "")]  # a double click is one review

    reviews.get_by_role("button", name="Edit your review").click()
    reviews.get_by_role("radio", name="5 stars").click()
    reviews.get_by_role("button", name="Save review").click()
    expect(mine.get_by_text(re.compile(r"\(edited\)$"))).to_be_visible()
    expect(learner.get_by_text("Rated 4.5 out of 5 in 2 reviews").first).to_be_attached()
    assert reviews_of(app_server, email) == [(5, "")]

    learner.goto("/courses?q=design+systems")
    card = learner.get_by_role("link", name="Design Systems 101")
    expect(card.get_by_text("4.5", exact=True)).to_be_visible()
    expect(card.get_by_text("(2)", exact=True)).to_be_visible()

    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto(COURSE)
    staff_view = instructor.get_by_role("region", name="Reviews")
    expect(staff_view.get_by_role("button", name="Write a review")).to_have_count(0)
    staff_view.get_by_role("button", name="Reply to Rita Reviewer").click()
    staff_view.get_by_role("button", name="Post reply to Rita Reviewer").click()
    expect(staff_view.get_by_role("alert").filter(has_text="Write a reply first")).to_be_visible()
    assert violations(instructor) == []
    staff_view.get_by_label("Your reply").fill("Thank you, Rita! A module on documentation is next.")
    staff_view.get_by_role("button", name="Post reply to Rita Reviewer").click()
    expect(staff_view.get_by_role("button", name="Edit reply to Rita Reviewer")).to_be_visible()

    learner.goto(COURSE)
    expect(mine.get_by_text("A module on documentation is next.")).to_be_visible()
    expect(mine.get_by_text("Iris Instructor")).to_be_visible()


def test_the_catalog_sorts_by_rating_and_keeps_it_on_reload(page: Page):
    page.goto("/courses")
    page.get_by_role("combobox", name="Sort by").click()
    page.get_by_role("option", name="Highest rated").click()
    expect(page).to_have_url(re.compile(r"/courses\?sort=rating$"))
    first = page.get_by_role("main").get_by_role("link").filter(has=page.get_by_role("heading"))
    expect(first.first).to_have_accessible_name("Web Apps in Pure Python")  # the demo's one 5.0
    page.reload()
    expect(page.get_by_role("combobox", name="Sort by")).to_have_text("Highest rated")
    expect(first.first).to_have_accessible_name("Web Apps in Pure Python")
