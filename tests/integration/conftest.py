"""Fixtures for the tests with real worker processes: a migrated PostgreSQL database, an SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from academy_app.db import make_engine
from tests.conftest import run_migrations
from tests.integration.workers import Inbox, smtp_server


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def database(postgres) -> str:
    """A PostgreSQL database of its own for the module, migrated to head."""
    url = postgres.create_database()
    engine = make_engine(url)
    run_migrations(engine)
    engine.dispose()
    return url
