"""The real app, built and served in prod mode once per run, driven by Debian's headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.appserver import RunningApp, running_app

CHROMIUM = os.environ.get("ACADEMY_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling out, and this network refuses it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="package")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """What `make run` serves: prod mode, embedded state, a fresh database with demo data.

    Stopped once the e2e tests are done: a second app with a frontend (tests/faults) builds it
    into the same .web folder, which would pull the pages from under this one.
    New accounts' discussion posts with a link wait for review, as test_discussions shows."""
    with running_app(tmp_path_factory.mktemp("app"),
                     extra_env={"ACADEMY_DISCUSSION_HOLD_LINKS_DAYS": "1"}) as app:
        yield app


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium per test package, closed when the package is done: Playwright's sync API keeps
    an event loop running in this thread while it lives, and later tests use asyncio.run()."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make services` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_context(browser: Browser, base_url: str) -> BrowserContext:
    """A person's own browser (cookies, storage) on the app at `base_url`, desktop-sized."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def open_page(browser: Browser, app_server: RunningApp) -> Iterator[Callable[[], Page]]:
    """Opens pages in separate browser contexts: one per person in a test (own cookies)."""
    contexts: list[BrowserContext] = []

    def new_page() -> Page:
        contexts.append(new_context(browser, app_server.url))
        return contexts[-1].new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[[], Page]) -> Page:
    return open_page()
