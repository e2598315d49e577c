"""Forgot password, in a real browser: the link comes by email (the app's outbox), a too-short
password is refused next to its field, the new one works, the old one and every login end."""

from __future__ import annotations

import email
import re
import time
from email import policy

import pytest
from playwright.sync_api import expect

from tests.e2e.test_student_journey import log_in, sign_up

pytestmark = pytest.mark.e2e

SIGN_UP_PASSWORD = "a-good-long-password"  # what sign_up() uses
NEW_PASSWORD = "a-fresh-long-passphrase"


def reset_link(app_server, address: str, timeout: float = 15) -> str:
    """The path of the link in the newest password-reset email to `address`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(app_server.outbox.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address and message["Subject"] == "Reset your Academy password":
                text = message.get_body(("plain",)).get_content()
                return re.search(r"https?://[^/\s]+(/password/reset/[\w-]+)", text).group(1)
        time.sleep(0.2)
    pytest.fail(f"no password-reset email to {address} in {app_server.outbox}")


def test_forgot_password_new_password_old_one_refused_other_devices_logged_out(open_page,
                                                                                app_server):
    page, other_device = open_page(), open_page()
    address = sign_up(page, "Rosalind Franklin")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    other_device.goto("/login")
    log_in(other_device, address, SIGN_UP_PASSWORD)
    expect(other_device).to_have_url(re.compile(r"/dashboard/?$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Log out", exact=True).click()

    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text="If an account exists for")).to_contain_text(
        address)

    link = reset_link(app_server, address)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password").fill("too-short")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Use at least 10 characters")).to_be_visible()
    expect(page.get_by_label("New password")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()

    expect(page).to_have_url(re.compile(r"/login/?\?notice=password-changed$"))
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()
    log_in(page, address, SIGN_UP_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect")
    log_in(page, address, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))

    other_device.goto("/dashboard")  # its login ended with the reset
    expect(other_device).to_have_url(re.compile(r"/login\?next=/dashboard"))
    page.goto(link)  # used up
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
