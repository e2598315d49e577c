"""Redis, holding Reflex's state (and the cache, rate limits and live updates), stops while a learner
is on a lesson: the page says it is reconnecting instead of failing silently, nothing saved is lost,
the log carries one error line rather than a traceback per event, and all is well once Redis is back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.appserver import RedisServer, RunningApp, running_app
from tests.e2e.test_student_journey import DEMO_PASSWORD, continue_course, log_in

pytestmark = pytest.mark.e2e
OUTAGE_LINE = "State store unreachable"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_app(tmp_path_factory: pytest.TempPathFactory,
                 redis_server: RedisServer) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("redis-app"), redis_url=redis_server.url) as app:
        yield app


def open_a_lesson(page: Page) -> None:
    page.goto("/login")
    log_in(page, "student@academy.test", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    continue_course(page, "/courses/design-systems-101")


def test_a_redis_outage_shows_reconnecting_loses_nothing_and_recovers(
        learner_page: Page, redis_server: RedisServer, fault_app: RunningApp) -> None:
    page = learner_page
    open_a_lesson(page)
    page.get_by_role("button", name="Mark as complete").click()
    undo = page.get_by_role("button", name="Mark as not complete")
    expect(undo).to_be_visible()  # saved in the database
    lesson_url = page.url
    log_before = fault_app.log.read_text()

    redis_server.stop()
    for _ in range(4):  # every click is an event that cannot reach its state
        undo.click()
        page.wait_for_timeout(300)
    expect(page.get_by_text("Reconnecting…").first).to_be_visible()
    expect(page.get_by_text("Nothing you saved is lost").first).to_be_visible()
    during = fault_app.log.read_text()[len(log_before):]
    assert during.count(OUTAGE_LINE) == 1, during[-3000:]
    assert "Traceback" not in during, during[-3000:]

    redis_server.start()  # empty: no persistence, so every tab's state is gone
    page.goto(lesson_url)
    # Still logged in (the login lives in the database, the browser holds its cookie), and the
    # lesson completed before the outage is still complete.
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    page.get_by_role("button", name="Mark as not complete").click()
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()
