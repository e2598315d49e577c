"""The pacing page (/admin/courses/[course_id]/pacing), used as an instructor would: a release rule
"7 days after the cohort starts" on a module (a mistake first), two lessons waiting for each other
refused, a prerequisite course added and removed, a new cohort (a mistake first), a
learner placed in it and given an override with a reason, the override revoked after a
confirmation, her due date on the course's quiz extended and that revoked, and the audit log
holding each step."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from academy_app.demo import QUIZ_TITLE
from tests.appserver import RunningApp
from tests.e2e.test_accessibility import violations
from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e

SLUG = "sql-for-analysts"
MODULE = "Combining tables"
# The course's quiz closes at 17:00 (the course's clock) four weeks from the day the test runs.
CLOSES = date.today() + timedelta(days=28)


def sql(app: RunningApp, query: str, *params: object) -> list[tuple]:
    with sqlite3.connect(app.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(query, params).fetchall()


def no_violations_once_toasts_went(page: Page) -> None:
    """axe on the page itself, once the toasts of the last steps are gone: axe finds the app-wide
    toasts' text short of the contrast ratio, which is not this page's doing."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    assert violations(page) == []


def choose(page: Page, name: str, option: str) -> None:
    page.get_by_role("combobox", name=name, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.fixture
def course_id(app_server: RunningApp) -> Iterator[int]:
    """The demo course this test paces; whatever happens, its learners in other tests find it as
    they expect afterwards (no rule, no override, no extra cohort)."""
    [(found,)] = sql(app_server, "SELECT id FROM courses WHERE slug = ?", SLUG)
    quiz = ("SELECT q.id FROM quizzes q JOIN lessons l ON l.id = q.lesson_id JOIN modules m ON "
            "m.id = l.module_id WHERE m.course_id = ?")
    sql(app_server, f"UPDATE quizzes SET closes_at_local = ? WHERE id IN ({quiz})",
        f"{CLOSES:%Y-%m-%d} 17:00:00.000000", found)
    yield found
    sql(app_server, "DELETE FROM deadline_extensions WHERE course_id = ?", found)
    sql(app_server, f"UPDATE quizzes SET closes_at_local = NULL WHERE id IN ({quiz})", found)
    sql(app_server, "DELETE FROM release_rules WHERE course_id = ?", found)
    sql(app_server, "DELETE FROM course_prerequisites WHERE course_id = ?", found)
    sql(app_server, "DELETE FROM access_overrides WHERE course_id = ?", found)
    sql(app_server, "UPDATE enrollments SET cohort_id = NULL WHERE course_id = ?", found)
    sql(app_server, "DELETE FROM cohorts WHERE course_id = ?", found)


def test_an_instructor_paces_a_module_runs_a_cohort_and_opens_it_early_for_a_learner(
        open_page, app_server, course_id):
    learner = open_page()
    sign_up(learner, "Pia Pacing")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto(f"/courses/{SLUG}")
    learner.get_by_role("button", name="Enroll").click()
    expect(learner.get_by_role("link", name="Continue learning")).to_be_visible()

    [(audited,)] = sql(app_server, "SELECT coalesce(max(id), 0) FROM audit_log")
    page = logged_in(open_page, "instructor@academy.test")
    page.goto(f"/admin/courses/{course_id}")
    page.get_by_role("link", name="Pacing").click()
    expect(page).to_have_url(re.compile(rf"/admin/courses/{course_id}/pacing/?$"))
    expect(page.get_by_role("heading", name="Pacing", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=MODULE, level=3)).to_be_visible()
    assert violations(page) == []

    # A rule counted from the cohort's start: a wrong number first, then 7 days.
    page.get_by_role("button", name=f"Release rule of module {MODULE}").click()
    dialog = page.get_by_role("dialog")
    choose(page, "Opens", "Days after the cohort starts")
    dialog.get_by_label("Days").fill("a week")
    dialog.get_by_role("button", name="Save rule").click()
    expect(dialog.get_by_text("Enter a number of days from 0 to 3650")).to_be_visible()
    dialog.get_by_label("Days").fill("7")
    dialog.get_by_role("button", name="Save rule").dblclick()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Opens 7 days after the learner's cohort starts")).to_be_visible()
    assert sql(app_server, "SELECT kind, days FROM release_rules WHERE course_id = ?",
               course_id) == [("after_cohort_start", 7)]

    # Two lessons waiting for each other: refused, with the service's words in the dialog.
    page.get_by_role("button", name="Release rule of lesson Sorting and limiting").click()
    choose(page, "Opens", "In sequence")
    page.get_by_role("dialog").get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Opens once the lesson before it is complete")).to_be_visible()
    page.get_by_role("button", name="Release rule of lesson SELECT and WHERE").click()
    choose(page, "Opens", "After a lesson or quiz")
    choose(page, "Lesson to complete first", "Sorting and limiting")
    page.get_by_role("dialog").get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("dialog").get_by_role("alert")).to_have_text(
        "This rule would make lessons wait for each other forever: “SELECT and WHERE” needs "
        "“Sorting and limiting” needs “SELECT and WHERE”")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # A prerequisite course: none chosen first; added (double clicked: once), then removed.
    page.get_by_role("button", name="Add prerequisite").click()
    expect(page.get_by_text("Choose the course learners need first")).to_be_visible()
    choose(page, "Required course", "Python Foundations")
    page.get_by_role("button", name="Add prerequisite").dblclick()
    remove = page.get_by_role("button", name="Remove prerequisite Python Foundations")
    expect(remove).to_be_visible()
    expect(page.get_by_text("Choose the course learners need first")).to_have_count(0)
    remove.click()
    expect(remove).to_have_count(0)

    # A cohort: without its start first, then with it (double clicked: one cohort).
    page.get_by_role("tab", name="Cohorts").click()
    expect(page.get_by_text("No cohorts yet")).to_be_visible()
    page.get_by_role("button", name="New cohort").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Winter cohort")
    dialog.get_by_label("Seats").fill("20")
    dialog.get_by_role("button", name="Create cohort").click()
    expect(dialog.get_by_text("Choose a date and time")).to_be_visible()
    dialog.get_by_label("Starts").fill("2027-01-11T09:00")
    dialog.get_by_role("button", name="Create cohort").dblclick()
    expect(page.get_by_role("rowheader", name=re.compile("Winter cohort"))).to_be_visible()
    expect(page.get_by_text("Starts Mon 11 Jan 2027, 09:00")).to_be_visible()
    expect(page.get_by_role("cell", name="0 of 20")).to_be_visible()
    assert sql(app_server, "SELECT count(*) FROM cohorts WHERE course_id = ?", course_id) == [(1,)]

    # The learner goes into the cohort, and gets the whole course opened early.
    page.get_by_role("tab", name="Learners").click()
    # The search answers after a pause in typing: nobody first, then her (so the list no longer
    # changes under the next click).
    learner = page.get_by_role("rowheader", name=re.compile("Pia Pacing"))
    page.get_by_role("searchbox", name="Search learners").fill("nobody-by-this-name")
    expect(learner).to_have_count(0)
    page.get_by_role("searchbox", name="Search learners").fill("Pia Pacing")
    expect(learner).to_be_visible()
    choose(page, "Cohort of Pia Pacing", "Winter cohort")
    expect(page.get_by_text("Cohort changed")).to_be_visible()
    no_violations_once_toasts_went(page)
    page.get_by_role("checkbox", name="Select Pia Pacing").click()
    page.get_by_role("button", name="Open for selected learners").click()
    expect(page.get_by_text("Say why: the audit log keeps the reason")).to_be_visible()
    choose(page, "What to open", "The whole course")
    page.get_by_label("Reason").fill("Took this module last term")
    page.get_by_role("button", name="Open for selected learners").dblclick()
    expect(page.get_by_text("Opened early for 1 learner")).to_be_visible()
    page.get_by_role("tab", name="Cohorts").click()
    expect(page.get_by_role("cell", name="1 of 20")).to_be_visible()

    # The override, listed with who and why; revoked after a confirmation (cancelled once).
    page.get_by_role("tab", name="Overrides").click()
    row = page.get_by_role("row").filter(has_text="Pia Pacing")
    expect(row).to_contain_text("The whole course")
    expect(row).to_contain_text("Took this module last term")
    expect(row).to_contain_text("by Iris Instructor")
    expect(row.get_by_text("Live")).to_be_visible()
    no_violations_once_toasts_went(page)
    revoke = page.get_by_role("button", name="Revoke The whole course for Pia Pacing")
    revoke.click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(row.get_by_text("Live")).to_be_visible()
    revoke.click()
    expect(page.get_by_role("alertdialog")).to_contain_text(
        "Revoke “The whole course” for Pia Pacing?")
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No overrides")).to_be_visible()
    page.get_by_role("checkbox", name="Show revoked").click()
    expect(page.get_by_role("row").filter(has_text="Pia Pacing")).to_contain_text(
        re.compile(r"Revoked .* by Iris Instructor"))
    assert sql(app_server, "SELECT count(*), count(revoked_at) FROM access_overrides "
                           "WHERE course_id = ?", course_id) == [(1, 1)]

    # Her due date on the quiz, a week later (double clicked: one extension); then revoked.
    page.get_by_role("tab", name="Learners").click()
    page.get_by_role("checkbox", name="Select Pia Pacing").click()
    choose(page, "Quiz to extend",
           f"{QUIZ_TITLE} (closes {CLOSES:%a} {CLOSES.day} {CLOSES:%b %Y}, 17:00)")
    page.get_by_label("New due date").fill(f"{CLOSES + timedelta(days=7):%Y-%m-%d}T17:00")
    page.get_by_label("Why the extension").fill("Ill the week of the quiz")
    page.get_by_role("button", name="Extend for selected learners").dblclick()
    expect(page.get_by_text("Due date extended for 1 learner")).to_be_visible()
    page.get_by_role("tab", name="Overrides").click()
    extensions = page.get_by_role("region", name="Due date extensions")
    extended = extensions.get_by_role("row").filter(has_text="Pia Pacing")
    expect(extended).to_contain_text("Ill the week of the quiz")
    later = CLOSES + timedelta(days=7)
    expect(extended).to_contain_text(f"{later:%a} {later.day} {later:%b %Y}, 17:00")
    no_violations_once_toasts_went(page)
    page.get_by_role("button", name=f"Revoke the extension of {QUIZ_TITLE} for Pia Pacing").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(extended).to_contain_text(re.compile(r"Revoked .* by Iris Instructor"))
    assert sql(app_server, "SELECT count(*), count(revoked_at) FROM deadline_extensions "
                           "WHERE course_id = ?", course_id) == [(1, 1)]
    actions = [action for (action,) in sql(
        app_server, "SELECT action FROM audit_log WHERE id > ? ORDER BY id", audited)]
    assert actions == ["release_rule.set", "release_rule.set", "course_prerequisite.set",
                       "course_prerequisite.remove", "cohort.create", "enrollment.cohort",
                       "access_override.grant", "access_override.revoke",
                       "deadline_extension.grant", "deadline_extension.revoke"]
