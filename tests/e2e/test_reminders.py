"""The unsubscribe link of an email (a reminder here), opened in the browser, and the one-click POST
a mail client sends (RFC 8058)."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from academy_app.services.emails import Topic, unsubscribe_token

pytestmark = pytest.mark.e2e


def reminders_on(app_server, email: str) -> bool:
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        return bool(connection.execute("SELECT email_reminders FROM users WHERE email = ?",
                                       (email,)).fetchone()[0])


def user_id(app_server, email: str) -> int:
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()[0]


def test_stop_reminder_emails_from_the_link_then_turn_them_back_on(page: Page, app_server):
    email = "student2@academy.test"
    page.goto(f"/unsubscribe/{unsubscribe_token(user_id(app_server, email), Topic.REMINDERS)}")
    expect(page.get_by_text("s••••••2@academy.test")).to_be_visible()  # masked: links get forwarded
    expect(page.get_by_text("Study reminders", exact=False)).to_be_visible()
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("status").filter(has_text="No more of these emails")).to_be_visible()
    assert not reminders_on(app_server, email)
    page.get_by_role("button", name="Turn them back on").click()
    expect(page.get_by_role("button", name="Stop these emails")).to_be_visible()
    assert reminders_on(app_server, email)

    page.goto("/unsubscribe/forged.token")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()


def test_a_mail_clients_one_click_post_turns_reminders_off(page: Page, app_server):
    email = "student@academy.test"
    token = unsubscribe_token(user_id(app_server, email), Topic.REMINDERS)
    response = page.request.post(f"/email/unsubscribe/{token}",
                                 form={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert not reminders_on(app_server, email)
    assert page.request.post("/email/unsubscribe/forged.token").status == 404
    page.goto(f"/unsubscribe/{token}")
    page.get_by_role("button", name="Turn them back on").click()
    expect(page.get_by_role("button", name="Stop these emails")).to_be_visible()
