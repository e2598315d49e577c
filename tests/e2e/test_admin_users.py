"""Admin pages: deactivating an account logs that person out everywhere and is audited; a failed
email can be sent again from the jobs page."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import landing, log_in, sign_up

pytestmark = pytest.mark.e2e


def test_deactivated_learner_is_logged_out_everywhere_and_the_admin_action_is_audited(open_page):
    learner_tabs = [open_page(), open_page()]
    email = sign_up(learner_tabs[0], "Soon Deactivated")
    expect(learner_tabs[0]).to_have_url(re.compile(r"/dashboard/?$"))
    learner_tabs[1].goto("/login")
    log_in(learner_tabs[1], email, "a-good-long-password")
    expect(learner_tabs[1]).to_have_url(re.compile(r"/dashboard/?$"))

    admin = logged_in(open_page, "admin@academy.test")
    admin.goto("/admin/users")
    admin.get_by_role("searchbox", name="Search users").fill("Soon Deactivated")
    expect(admin.get_by_role("row")).to_have_count(2)  # header + the one match
    admin.get_by_role("button", name="Deactivate Soon Deactivated").click()
    expect(admin.get_by_text("Deactivated", exact=True)).to_be_visible()

    for tab in learner_tabs:  # the next click in any open tab finds the session gone
        tab.get_by_role("link", name="Courses", exact=True).click()
        expect(tab.get_by_role("link", name="Log in")).to_be_visible()
        expect(tab.get_by_role("link", name="My learning")).to_have_count(0)
        tab.goto("/dashboard")
        expect(tab).to_have_url(re.compile(r"/login\?next="))
    learner_tabs[0].goto("/login")
    log_in(learner_tabs[0], email, "a-good-long-password")
    expect(learner_tabs[0].get_by_role("alert")).to_have_text("Email or password is incorrect")

    admin.get_by_role("navigation", name="Workspace").get_by_role("link", name="Audit log").click()
    expect(admin.get_by_role("row").filter(has_text="user.deactivate")).to_contain_text("Ada Admin")


def test_instructors_do_not_see_or_open_the_admin_pages(open_page):
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses")
    workspace = instructor.get_by_role("navigation", name="Workspace")
    expect(workspace.get_by_role("link", name="Courses")).to_be_visible()
    expect(workspace.get_by_role("link", name="Users")).to_have_count(0)
    instructor.goto("/admin/users")
    expect(instructor.get_by_text("Only admins can open this page")).to_be_visible()


def test_an_admin_sees_a_failed_email_and_sends_it_again(page: Page, app_server):
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "INSERT INTO email_log (kind, dedupe_key, to_address, subject, context, status, "
            "attempts, last_error, created_at) VALUES ('course.update', 'e2e:retry', "
            "'grace@example.com', 'Live session on Friday', '{\"name\": \"Grace\"}', 'failed', 6, "
            "'SMTPConnectError: the server did not answer', CURRENT_TIMESTAMP)")
    page.goto("/login")
    log_in(page, "admin@academy.test")
    expect(page).to_have_url(landing("admin@academy.test"))
    page.goto("/admin/jobs")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Live session on Friday")
    expect(row).to_contain_text("the server did not answer")
    row.get_by_role("button", name="Retry email to grace@example.com").click()
    expect(page.get_by_text("Queued again")).to_be_visible()
    for _ in range(20):  # the app (no broker) sends it on its background thread: look again
        if row.get_by_text("sent", exact=True).is_visible():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(row.get_by_text("sent", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Retry email to grace@example.com")).to_have_count(0)
