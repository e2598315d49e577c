"""Fault tests: an app of their own on a Redis or PostgreSQL of their own, which they stop.

Kept apart from tests/e2e so they run after its shared app has stopped: each builds the frontend
into the project's one .web folder, which must not change under a running app."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.appserver import RunningApp
from tests.e2e.conftest import (
    browser,  # noqa: F401  (the same headless Chromium fixture)
    new_context,
)


@pytest.fixture
def learner_page(browser: Browser, fault_app: RunningApp) -> Iterator[Page]:  # noqa: F811
    """A page on the module's own app (its `fault_app` fixture)."""
    context = new_context(browser, fault_app.url)
    yield context.new_page()
    context.close()
