"""The login in a real browser: a crafted `next` link never takes a learner off the site, and the
login cookie is out of every script's reach, and out of what Reflex keeps of a tab."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from academy_app.infra.session_cookie import SESSION_COOKIE
from tests.appserver import RunningApp
from tests.e2e.test_student_journey import log_in

pytestmark = pytest.mark.e2e

# As a phishing mail would write them: each decodes to a path a browser resolves to evil.example.
CRAFTED_NEXT = ["/%09/evil.example/x", "/%0a/evil.example/x", "/%0d/evil.example/x",
                "/%5Cevil.example/x", "/%5C%5Cevil.example/x", "/%09%5C/evil.example/x"]


def stays_on_site(page: Page, app_server: RunningApp) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    assert urlsplit(page.url).netloc == urlsplit(app_server.url).netloc, page.url


def block_evil(page: Page) -> list[str]:
    """Record (and stop) any request that leaves for evil.example."""
    left: list[str] = []

    def refuse(route: Route) -> None:
        left.append(route.request.url)
        route.abort()

    page.context.route(re.compile(r"https?://evil\.example.*"), refuse)
    return left


@pytest.mark.parametrize("crafted", CRAFTED_NEXT)
def test_a_crafted_next_link_keeps_the_learner_on_the_site(page: Page, app_server, crafted):
    left = block_evil(page)
    page.goto(f"/login?next={crafted}")
    log_in(page, "student@academy.test")
    stays_on_site(page, app_server)
    # Logged in for real, on the site.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert not left


def test_a_logged_in_visitor_following_a_crafted_link_stays_on_the_site(page: Page, app_server):
    left = block_evil(page)
    page.goto("/login")
    log_in(page, "student@academy.test")
    stays_on_site(page, app_server)
    for crafted in CRAFTED_NEXT:
        page.goto(f"/login?next={crafted}")  # the redirect of an already-logged-in visitor
        stays_on_site(page, app_server)
    assert not left


def test_the_login_cookie_is_out_of_scripts_reach(page: Page, app_server: RunningApp):
    page.goto("/login?next=/courses")
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/courses/?$"))  # back to where the login was asked
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    [cookie] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    token = cookie["value"]
    seen_by_scripts = page.evaluate(
        "() => [document.cookie, JSON.stringify({...localStorage}), "
        "JSON.stringify({...sessionStorage})].join('\\n')")
    assert SESSION_COOKIE not in seen_by_scripts and token not in seen_by_scripts
    assert token not in page.content()

    # Nor does the state Reflex keeps of each tab hold it (on disk, written after a short wait).
    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_text("Sam Student").first).to_be_visible()
    states = app_server.states
    deadline = time.monotonic() + 15
    while not any(b"Sam Student" in path.read_bytes() for path in states.glob("*.pkl")):
        assert time.monotonic() < deadline, "Reflex wrote no state for the tab"
        time.sleep(0.5)
    assert not [path.name for path in states.glob("*.pkl") if token.encode() in path.read_bytes()]


def test_log_out_clears_the_cookie_and_a_new_tab_stays_logged_out(page: Page):
    page.goto("/login")
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.get_by_role("button", name="Log out").click()
    # The page reloads on the home page once /auth/session has answered (and cleared the cookie).
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    other = page.context.new_page()
    other.goto("/dashboard")
    expect(other).to_have_url(re.compile(r"/login\?next=/dashboard"))


def test_a_hand_over_that_fails_lands_on_the_log_in_page_with_the_reason(page: Page):
    """The ticket expired (or the connection dropped) before /auth/session answered."""
    page.route("**/auth/session", lambda route: route.fulfill(status=410, body="expired"))
    page.goto("/login")
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/login/?\?notice=login-interrupted$"))
    expect(page.get_by_text("Your log-in did not finish")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # nobody is logged in
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
