"""One scale-out test bed for the drills' module (tests/scale_out/testbed.py): building it takes
seconds, and every drill leaves it whole (a killed host is started again)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.appserver import free_port
from tests.conftest import PG_SERVER_URL
from tests.integration.workers import Inbox, smtp_server
from tests.scale_out.testbed import DRILLS, TestBed, bed_database

# Database 0 of the machine's Redis: no other test uses it (each names its own, 1 to 15).
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBed]:
    with (bed_database(PG_SERVER_URL, REDIS_URL) as database,
          TestBed(DRILLS, tmp_path_factory.mktemp("bed"), database, REDIS_URL,
                  smtp_port=free_port()) as test_bed):
        yield test_bed


@pytest.fixture(scope="module")
def inbox(bed: TestBed) -> Iterator[Inbox]:
    """The SMTP sink the worker host sends to, on the bridge's address."""
    with smtp_server(bed.layout.gateway, bed.smtp_port) as (received, _):
        yield received
