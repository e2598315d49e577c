"""The Study group page, built from a dozen declarative lines with the admin kit, used as an admin
would: search, filter, create (a mistake first), edit, close, delete with a confirmation, while a
second admin's open list follows along without a reload. And the learner's side of study groups
(the first walkthrough of docs/extending.md)."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest
from playwright.sync_api import Page, expect

from academy_app.infra.identities import TTL_SECONDS as IDENTITY_SECONDS
from tests.e2e.test_accessibility import violations
from tests.e2e.test_payments import LIVE_MS, logged_in
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e


def second_admin(open_page, app_server) -> Page:
    """A learner promoted to admin behind the app's back. A worker keeps who a login is for up to
    15 s (infra/identities.py) and only changes made through the app drop that at once, so the
    tab is admitted to the workspace within those seconds, not at the first click."""
    page = open_page()
    email = sign_up(page, "Second Admin")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE users SET role = 'admin' WHERE email = ?", (email,))
    groups = page.get_by_role("rowheader").first
    deadline = time.monotonic() + IDENTITY_SECONDS + 15
    while True:
        page.goto("/admin/study-groups")
        try:
            expect(groups).to_be_visible(timeout=3_000)
            return page
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def choose(page: Page, combobox, option: str) -> None:
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_study_groups_list_form_delete_and_a_second_admins_list_follows_live(open_page,
                                                                              app_server):
    watcher = second_admin(open_page, app_server)
    watcher.goto("/admin/study-groups")
    expect(watcher.get_by_role("rowheader", name="Python Circle")).to_be_visible()

    admin = logged_in(open_page, "admin@academy.test")
    admin.get_by_role("link", name="Workspace").click()
    admin.get_by_role("navigation", name="Workspace").get_by_role("link",
                                                                  name="Study groups").click()
    expect(admin.get_by_role("heading", name="Study groups", level=1)).to_be_visible()
    expect(admin.get_by_role("rowheader", name="Python Circle")).to_be_visible()

    search = admin.get_by_role("searchbox", name="Search study groups")
    search.fill("WEEKEND")
    expect(admin.get_by_role("row")).to_have_count(2)  # the header and the one match
    expect(admin.get_by_role("rowheader", name="Weekend Pythonistas")).to_be_visible()
    search.fill("")
    expect(admin.get_by_role("rowheader", name="Python Circle")).to_be_visible()
    course_filter = admin.get_by_role("combobox", name="Filter by course")
    choose(admin, course_filter, "Course: SQL for Analysts")
    expect(admin.get_by_role("row")).to_have_count(2)
    expect(admin.get_by_role("rowheader", name="SQL Study Hall")).to_be_visible()
    choose(admin, course_filter, "Course: all")
    expect(admin.get_by_role("rowheader", name="Python Circle")).to_be_visible()

    admin.get_by_role("button", name="New study group").click()
    dialog = admin.get_by_role("dialog", name="New study group")
    dialog.get_by_label("Name").fill("Data Night")
    dialog.get_by_label("Seats").fill("1")
    dialog.get_by_label("Meeting link").fill("http://meet.example/data")
    dialog.get_by_role("button", name="Create study group").click()
    expect(dialog.get_by_role("alert").filter(has_text="Choose the course")).to_be_visible()
    expect(dialog.get_by_role("alert").filter(has_text="Enter 2 or more")).to_be_visible()
    expect(dialog.get_by_role("alert").filter(has_text="starts with https://")).to_be_visible()
    choose(admin, dialog.get_by_role("combobox", name="Course"), "SQL for Analysts")
    dialog.get_by_label("Seats").fill("15")
    dialog.get_by_label("Meeting link").fill("https://meet.example/data")
    dialog.get_by_role("button", name="Create study group").click()
    expect(dialog).to_be_hidden()
    created = admin.get_by_role("row").filter(has_text="Data Night")
    expect(created).to_contain_text("SQL for Analysts")
    expect(created).to_contain_text("15")
    # The other admin's open list shows the new group: no reload, no click.
    expect(watcher.get_by_role("rowheader", name="Data Night")).to_be_visible(timeout=LIVE_MS)

    admin.get_by_role("button", name="Edit Data Night").click()
    dialog = admin.get_by_role("dialog", name="Edit study group")
    expect(dialog.get_by_label("Seats")).to_have_value("15")
    dialog.get_by_label("Name").fill("Data Nights")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    expect(admin.get_by_role("rowheader", name="Data Nights")).to_be_visible()
    expect(watcher.get_by_role("rowheader", name="Data Nights")).to_be_visible(timeout=LIVE_MS)

    admin.get_by_role("button", name="Close Data Nights").click()
    expect(admin.get_by_role("button", name="Reopen Data Nights")).to_be_visible()
    expect(watcher.get_by_role("row").filter(has_text="Data Nights")).to_contain_text(
        "No", timeout=LIVE_MS)

    admin.get_by_role("button", name="Delete Data Nights").click()
    confirm = admin.get_by_role("alertdialog", name="Delete study group")
    expect(confirm).to_contain_text("“Data Nights” will be deleted")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(admin.get_by_role("rowheader", name="Data Nights")).to_be_visible()
    admin.get_by_role("button", name="Delete Data Nights").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(admin.get_by_role("rowheader", name="Data Nights")).to_have_count(0)
    expect(watcher.get_by_role("rowheader", name="Data Nights")).to_have_count(0, timeout=LIVE_MS)

    admin.get_by_role("navigation", name="Workspace").get_by_role("link", name="Audit log").click()
    for action in ("study_group.create", "study_group.update", "study_group.close",
                   "study_group.delete"):
        expect(admin.get_by_role("row").filter(has_text=action).first).to_contain_text("Ada Admin")


def test_two_admins_editing_one_group_keep_each_others_changes_or_are_told(open_page,
                                                                          app_server):
    first, second = logged_in(open_page, "admin@academy.test"), second_admin(open_page, app_server)
    dialogs = []
    for page in (first, second):
        page.goto("/admin/study-groups")
        page.get_by_role("button", name="Edit SQL Study Hall").click()
        dialogs.append(page.get_by_role("dialog", name="Edit study group"))
    dialogs[0].get_by_label("Seats").fill("14")
    dialogs[0].get_by_role("button", name="Save changes").click()
    expect(dialogs[0]).to_be_hidden()
    # The second admin's form still shows what they opened; saving another field keeps 14 seats.
    dialogs[1].get_by_label("Description").fill("Bring a laptop.")
    dialogs[1].get_by_role("button", name="Save changes").click()
    expect(dialogs[1]).to_be_hidden()
    row = second.get_by_role("row").filter(has_text="SQL Study Hall")
    expect(row).to_contain_text("14")
    second.get_by_role("button", name="Edit SQL Study Hall").click()
    expect(dialogs[1].get_by_label("Description")).to_have_value("Bring a laptop.")
    first.get_by_role("button", name="Edit SQL Study Hall").click()
    for dialog, seats in zip(dialogs, ("16", "20"), strict=True):
        dialog.get_by_label("Seats").fill(seats)
        dialog.get_by_role("button", name="Save changes").click()
    expect(second.get_by_text(re.compile(r"Someone else changed Seats"))).to_be_visible()
    expect(row).to_contain_text("16")


def test_an_instructor_sees_and_offers_only_the_courses_they_teach(open_page, app_server):
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "INSERT INTO users (email, full_name, password_hash, role, is_active, email_reminders, "
            "created_at, updated_at) SELECT 'owner-2@example.com', 'Second Owner', password_hash, "
            "'instructor', 1, 1, created_at, updated_at FROM users "
            "WHERE email = 'instructor@academy.test'")
        connection.execute(
            "INSERT INTO courses (slug, title, subtitle, description, level, price_cents, "
            "currency, is_published, instructor_id, cover_image_url, created_at, updated_at) "
            "SELECT 'second-owners-course', 'Second Owner''s Course', '', '', 'beginner', 0, "
            "'USD', 1, id, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users "
            "WHERE email = 'owner-2@example.com'")
    owner = logged_in(open_page, "owner-2@example.com")
    owner.goto("/admin/study-groups")
    expect(owner.get_by_text("No study groups yet")).to_be_visible()
    owner.get_by_role("button", name="New study group").click()
    owner.get_by_role("dialog", name="New study group").get_by_role(
        "combobox", name="Course").click()
    expect(owner.get_by_role("option")).to_have_count(1)
    expect(owner.get_by_role("option")).to_have_text("Second Owner's Course")


def test_a_learner_finds_the_study_groups_of_their_course(page: Page):
    sign_up(page, "Group Learner")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.get_by_role("link", name="Study groups").click()
    expect(page.get_by_text("No study groups yet")).to_be_visible()
    page.goto("/courses/python-foundations")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("link", name="Continue learning")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Study groups").click()
    expect(page.get_by_role("heading", name="Python Circle", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="SQL Study Hall")).to_have_count(0)  # not their course
    assert violations(page) == []
