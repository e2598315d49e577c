"""Live updates in the browser: no reloads, every open tab of the learner follows along."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from academy_app.demo import COURSES
from tests.e2e.test_payments import LIVE_MS, logged_in
from tests.e2e.test_student_journey import log_in, sign_up

pytestmark = pytest.mark.e2e

# One lesson of Python Foundations done: its lessons, and the quiz that ends it (demo.py).
PYTHON_LESSONS = 1 + sum(len(lessons) for _, lessons in next(
    course for course in COURSES if course.slug == "python-foundations").modules)
ONE_LESSON = f"{100 // PYTHON_LESSONS}%"


def test_two_tabs_of_one_learner_stay_in_step_on_progress(page: Page):
    sign_up(page, "Tabby Two")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/python-foundations")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("link", name="Continue learning")).to_be_visible()

    dashboard = page.context.new_page()  # a second tab: same browser, same login
    dashboard.goto("/dashboard")
    expect(dashboard.get_by_role("progressbar", name="Progress in Python Foundations")).to_be_visible()
    expect(dashboard.get_by_text("0%", exact=True)).to_be_visible()

    course_tab = page.context.new_page()
    course_tab.goto("/courses/python-foundations")
    expect(course_tab.get_by_text("0% complete")).to_be_visible()
    page.get_by_role("link", name="Continue learning").click()
    expect(page).to_have_url(re.compile(r"/learn/python-foundations/\d+/?$"))
    lesson_tab = page.context.new_page()  # the same lesson, with its syllabus, in another tab
    lesson_tab.goto(page.url)
    expect(lesson_tab.get_by_role("button", name="Mark as complete")).to_be_visible()

    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    expect(dashboard.get_by_text(ONE_LESSON, exact=True)).to_be_visible(timeout=LIVE_MS)
    expect(course_tab.get_by_text(f"{ONE_LESSON} complete")).to_be_visible(timeout=LIVE_MS)
    expect(lesson_tab.get_by_role("button", name="Mark as not complete")).to_be_visible(
        timeout=LIVE_MS)
    expect(lesson_tab.get_by_role("navigation", name="Syllabus").get_by_role(
        "img", name="Completed", exact=True)).to_have_count(1, timeout=LIVE_MS)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()


def test_a_broadcast_reaches_an_online_learner_and_waits_for_an_offline_one(
        open_page: Callable[[], Page]):
    online = open_page()
    sign_up(online, "Online Olga")
    expect(online).to_have_url(re.compile(r"/dashboard/?$"))
    offline = open_page()
    otto = sign_up(offline, "Offline Otto")
    expect(offline).to_have_url(re.compile(r"/dashboard/?$"))
    for learner in (online, offline):
        learner.goto("/courses/python-foundations")
        learner.get_by_role("button", name="Enroll").click()
        expect(learner.get_by_role("link", name="Continue learning")).to_be_visible()
    offline.context.close()  # Otto closes his browser
    online.goto("/dashboard")
    expect(online.get_by_role("button", name="Notifications, 1 unread")).to_be_visible()

    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses")
    instructor.get_by_role("link", name="Python Foundations").click()
    instructor.get_by_role("button", name="Broadcast update").click()
    expect(instructor.get_by_text("Give the update a title")).to_be_visible()
    instructor.get_by_label("Update title").fill("Live session on Friday")
    instructor.get_by_label("Message").fill("Bring your questions about functions.")
    instructor.get_by_role("button", name="Broadcast update").click()
    expect(instructor.get_by_text(re.compile(r"Update sent to \d+ learners"))).to_be_visible()

    expect(online.get_by_text("Python Foundations: Live session on Friday")).to_be_visible(
        timeout=LIVE_MS)
    expect(online.get_by_role("button", name="Notifications, 2 unread")).to_be_visible()

    back = open_page()  # Otto's next visit
    back.goto("/login")
    log_in(back, otto, "a-good-long-password")
    back.get_by_role("button", name="Notifications, 2 unread").click()
    expect(back.get_by_role("dialog", name="Notifications")).to_contain_text(
        "Python Foundations: Live session on Friday")
