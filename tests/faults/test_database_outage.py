"""PostgreSQL crashes and restarts under a learner: the click made meanwhile fails cleanly (the page
says it was not saved, the log has one line and no traceback), the lesson completed before the crash
is still complete, and the app works again once the database is back, without a restart.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.appserver import PostgresCluster, RunningApp, running_app
from tests.faults.test_redis_outage import open_a_lesson

pytestmark = pytest.mark.e2e
OUTAGE_LINE = "Database unreachable"


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="academy-pg-"))
    cluster = PostgresCluster(folder)
    cluster.start()
    yield cluster
    cluster.stop("fast")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def fault_app(tmp_path_factory: pytest.TempPathFactory,
                    postgres_cluster: PostgresCluster) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("pg-app"),
                     database_url=postgres_cluster.url) as app:
        yield app


def test_a_database_crash_fails_cleanly_loses_no_saved_lesson_and_recovers(
        learner_page: Page, postgres_cluster: PostgresCluster, fault_app: RunningApp) -> None:
    page = learner_page
    open_a_lesson(page)
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    page.get_by_role("button", name="Next lesson").click()
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()
    second_lesson = page.url
    log_before = fault_app.log.read_text()

    postgres_cluster.stop("immediate")  # a crash: the pool's connections die with it
    for _ in range(3):
        page.get_by_role("button", name="Mark as complete").click()
        page.wait_for_timeout(300)
    expect(page.get_by_text("Not saved").first).to_be_visible()
    expect(page.get_by_text("what you just did was not saved").first).to_be_visible()
    assert page.request.get("/readyz").status == 503
    during = fault_app.log.read_text()[len(log_before):]
    assert during.count(OUTAGE_LINE) == 1, during[-3000:]
    assert "Traceback" not in during, during[-3000:]

    postgres_cluster.start()
    page.goto(second_lesson)
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()  # not saved
    syllabus = page.get_by_role("navigation", name="Syllabus")
    expect(syllabus.get_by_label("Completed", exact=True)).to_have_count(1)  # from before
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(second_lesson)))
