"""The whole student journey in a real browser, finding everything by role and accessible name."""

from __future__ import annotations

import re
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from academy_app.demo import DEMO_PASSWORD, DEMO_USERS
from academy_app.services.permissions import STAFF
from tests.e2e.quiz_answers import START, take_demo_quiz

pytestmark = pytest.mark.e2e


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


ANY_HOME = re.compile(r"/(admin/courses|dashboard)/?$")


def is_demo(email: str) -> bool:
    return any(address == email for address, _, _ in DEMO_USERS)


def landing(email: str) -> re.Pattern[str]:
    """Where a log-in without `next` leads: staff to their workspace, learners to My learning."""
    staff = any(address == email and role in STAFF for address, _, role in DEMO_USERS)
    return re.compile(r"/admin/courses/?$" if staff else r"/dashboard/?$")


def continue_course(page: Page, course_path: str) -> None:
    """From a course page to its next lesson: enroll first if not enrolled yet (a free course)."""
    page.goto(course_path)
    enroll = page.get_by_role("button", name="Enroll")
    continue_learning = page.get_by_role("link", name="Continue learning")
    expect(enroll.or_(continue_learning)).to_be_visible()
    if enroll.is_visible():
        enroll.click()
    continue_learning.click()


def sign_up(page: Page, name: str) -> str:
    email = f"learner-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/signup")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-good-long-password")
    page.get_by_role("button", name="Sign up").click()
    return email


def complete_every_lesson(page: Page) -> None:
    """From the first lesson: mark each complete (pass each quiz) and go on, as a learner would,
    to the end."""
    for _ in range(50):
        mark = page.get_by_role("button", name="Mark as complete")
        quiz = page.get_by_role("button", name=START)
        expect(mark.or_(quiz)).to_be_visible()
        if quiz.is_visible():
            take_demo_quiz(page)
            expect(page.get_by_role("status").filter(has_text=re.compile("^Passed:"))).to_be_visible()
        else:
            mark.click()
            expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
        next_lesson = page.get_by_role("button", name="Next lesson")
        if next_lesson.count() == 0:
            break
        title = page.get_by_role("heading", level=1).inner_text()
        next_lesson.click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text(title)
    # Said by the handler's answer itself (a reload of the page would only show the callout).
    expect(page.get_by_text(re.compile(r"^You completed .+\. Congratulations!$"))).to_be_visible()
    expect(page.get_by_text("You have completed every lesson of this course")).to_be_visible()


def test_sign_up_find_a_free_course_learn_it_all_and_log_out(page: Page):
    sign_up(page, "Grace Hopper")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_text("You are not enrolled in any course yet")).to_be_visible()

    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_role("searchbox", name="Search courses").fill("python")
    expect(page.get_by_text("2 courses", exact=True)).to_be_visible()
    page.get_by_role("searchbox", name="Search courses").fill("python foundations")
    expect(page.get_by_text("1 course", exact=True)).to_be_visible()
    page.get_by_role("link", name="Python Foundations").click()

    expect(page.get_by_role("heading", name="Python Foundations", level=1)).to_be_visible()
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name="Continue learning").click()

    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_be_visible()
    complete_every_lesson(page)
    expect(page.get_by_role("progressbar", name="Course progress")).to_have_attribute(
        "aria-valuenow", "100")

    page.get_by_role("link", name="My learning").click()
    progress = page.get_by_role("progressbar", name="Progress in Python Foundations")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("5 of 5 lessons complete")).to_be_visible()

    with page.expect_navigation():  # logging out reloads the page with a fresh tab state
        page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))


def test_dashboard_sends_a_visitor_to_log_in_and_back(page: Page):
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard"))
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_role("heading", name="My learning")).to_be_visible()


def test_wrong_password_gets_one_generic_message(page: Page):
    page.goto("/login")
    log_in(page, "student@academy.test", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect")
    log_in(page, "nobody@academy.test", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect")


def test_bad_sign_up_shows_each_problem_next_to_its_field(page: Page):
    page.goto("/signup")
    page.get_by_label("Full name").fill("Ann")
    page.get_by_label("Email").fill("student@academy.test")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("An account with this email already exists")).to_be_visible()
    expect(page.get_by_text("Use at least 10 characters")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/signup"))


def test_double_clicked_enroll_creates_one_enrollment(page: Page, app_server):
    email = sign_up(page, "Double Clicker")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/sql-for-analysts")
    page.get_by_role("button", name="Enroll").dblclick()
    expect(page.get_by_role("link", name="Continue learning")).to_be_visible()
    path = app_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM enrollments JOIN users ON users.id = enrollments.user_id "
            "WHERE users.email = ?", (email,)).fetchone()
    assert count == 1


def test_a_lesson_url_without_enrollment_leads_to_the_course_page(page: Page):
    page.goto("/login")
    log_in(page, "student2@academy.test")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/design-systems-101")
    first_lesson_id = 1  # any lesson id: access is refused before the lesson is looked at
    page.goto(f"/learn/design-systems-101/{first_lesson_id}")
    expect(page).to_have_url(re.compile(r"/courses/design-systems-101/?$"))
    expect(page.get_by_text("Enroll in this course to open its lessons")).to_be_visible()


def test_unknown_course_shows_not_found(page: Page):
    page.goto("/courses/no-such-course")
    expect(page.get_by_role("heading", name="Course not found")).to_be_visible()
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
