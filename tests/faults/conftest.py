"""Fault tests: an app of their own on a Redis or PostgreSQL of their own, which they stop.

Kept apart from tests/e2e so they run after its shared app has stopped: each builds the frontend
into the project's one .web folder, which must not change under a running app."""

from tests.e2e.conftest import browser  # noqa: F401  (the same headless Chromium fixture)
