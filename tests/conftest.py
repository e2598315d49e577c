"""Shared fixtures: real databases, built through the real schema and the real services.

Every service test runs twice, on SQLite and on PostgreSQL. PostgreSQL must answer on
``ACADEMY_TEST_PG_URL`` (default: the local server, which ``make test`` starts when it is down); a
test that cannot reach it fails, it never skips.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import pytest
import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from academy_app import db as academy_db
from academy_app.db import make_engine, session_scope
from academy_app.infra import cache, queue, ratelimit
from academy_app.models import Role, User
from academy_app.settings import PROJECT_ROOT, get_settings
from alembic import command
from tests.appserver import TEST_SECRET_KEY
from tests.factories import make_user

# `make test` runs the suite on two processes (pytest-xdist, `-n 2 --dist loadgroup`). Tests that
# share something outside their process run together on one of them, in order; the rest are spread
# one test at a time:
# - the browser tests and the fault tests: apps with a frontend, built into the project's one .web
#   folder (tests/faults/conftest.py);
# - the handler fuzzer: one backend for its ~900 tests (module fixtures);
# - every other test with a live app or worker, and the unit tests of the Redis bus: they publish
#   and listen on Redis's one "academy:live" channel (pub/sub ignores database numbers), and some
#   share a Redis database number;
# - the unit tests that count in (or empty) a Redis database of their own: both databases'
#   variants of one test would otherwise count together (the API's hourly limit).
# (xdist's own `xdist_group` marker does nothing under pytest 9, which made node ids read-only:
# the groups are given to xdist's scheduler instead.)
XDIST_GROUPS = {"tests/e2e/": "browser", "tests/faults/": "browser",
                "tests/integration/test_fuzz_handlers.py": "fuzz",
                "tests/integration/": "servers", "tests/unit/test_bus.py": "servers",
                **dict.fromkeys(("tests/unit/test_api.py", "tests/unit/test_cache.py",
                                 "tests/unit/test_health.py", "tests/unit/test_jobs.py",
                                 "tests/unit/test_ratelimit.py"), "redis")}


def xdist_group(nodeid: str) -> str | None:
    return next((name for prefix, name in XDIST_GROUPS.items() if nodeid.startswith(prefix)), None)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Whole groups to one worker, biggest first (xdist's default order of work units);
        every other test is a unit of its own."""

        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid) or nodeid

    return GroupScheduling(config, log)


PG_SERVER_URL = os.environ.get("ACADEMY_TEST_PG_URL",
                               "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def run_migrations(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class PostgresServer:
    """Creates throwaway databases on the test PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        # Pre-ping: tests/scale_out restarts the server under this pool (its PostgreSQL drill).
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        try:
            with self.admin.connect() as connection:
                connection.execute(sa.text("select 1"))
        except sa.exc.OperationalError as exc:
            pytest.fail(f"PostgreSQL is not reachable at {self.url.render_as_string()}: {exc}. "
                        "Run `make services` (make test does it for you).")
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"academy_test_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_SERVER_URL)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_engine(postgres: PostgresServer) -> Iterator[Engine]:
    """One migrated PostgreSQL database for the run; tables are emptied after each test."""
    engine = make_engine(postgres.create_database())
    run_migrations(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'academy.db'}")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    yield engine
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    # Work that runs after commit (an eager email task, say) opens its own sessions: same database.
    monkeypatch.setattr(academy_db, "get_engine", lambda: engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session


# Transaction bookkeeping, not queries: SQLite's BEGIN IMMEDIATE and PRAGMAs (db.make_engine), the
# savepoints of begin_nested(), and commit/rollback. (psycopg2 begins and commits without a statement,
# so counting these would only make the two databases disagree.)
_NOT_A_QUERY = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.IGNORECASE)


class Statement(NamedTuple):
    sql: str
    parameters: Any  # as handed to the driver, so the statement can be run again (under EXPLAIN)


class StatementRecorder(Protocol):
    def __call__(self, action: Callable[[Session], object], *,
                 warm: bool = False) -> list[Statement]: ...


@pytest.fixture
def sql_statements(engine: Engine) -> StatementRecorder:
    """Run an action the way a page event does (a fresh session, committed at the end) and return
    the SQL statements it sent to the database, transaction bookkeeping left out (_NOT_A_QUERY).

    A fresh session matters: the test's own ``db`` session remembers the rows it made, and a lookup
    it answers from memory would hide a query that a real page load pays for. On SQLite, commit the
    ``db`` session first: its open transaction holds the write lock this session's BEGIN waits for.

    The read cache is emptied first, so what is counted is a cold load (``warm=True`` keeps it:
    what a page load costs once its reads are cached).
    """
    def run(action: Callable[[Session], object], *, warm: bool = False) -> list[Statement]:
        statements: list[Statement] = []
        if not warm:
            cache.cache().clear()

        def record(_connection: sa.Connection, _cursor: Any, sql: str, parameters: Any,
                   *_rest: Any) -> None:
            if not _NOT_A_QUERY.match(sql):
                statements.append(Statement(sql, parameters))

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            with session_scope(engine) as session:
                action(session)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        return statements

    return run


@pytest.fixture(autouse=True)
def outbox(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Emails and files (certificates, receipts) a test causes land in its own folders, never in
    the project's var/, and (there being no broker in unit tests) are written before the commit
    returns."""
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path / "outbox")
    monkeypatch.setattr(get_settings(), "media_root", tmp_path / "media")
    monkeypatch.setattr(get_settings(), "secret_key", TEST_SECRET_KEY)
    ratelimit.limiter.cache_clear()  # each test counts its own log-in attempts
    cache.use(None)  # and reads through its own (in-process) cache
    monkeypatch.setattr(queue, "run_inline", True)
    return tmp_path / "outbox"


@pytest.fixture
def instructor(db: Session) -> User:
    return make_user(db, Role.INSTRUCTOR, name="Iris Instructor")


@pytest.fixture
def student(db: Session) -> User:
    return make_user(db)

