"""Any number of processes may migrate one database at the same moment (issue 25): `make run`,
`make worker` and a deploy's `make migrate` all run `alembic upgrade head` when they start. One of
them upgrades the schema; the others wait for it, then find nothing to do."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from academy_app.db import make_engine
from academy_app.settings import PROJECT_ROOT
from tests.appserver import VENV_BIN, free_port, running_app
from tests.integration.workers import start_worker, stop_worker, wait_until, worker_environment

MIGRATORS = 4
# The web process keeps its state there and both use it as the broker, as in production.
REDIS_URL = "redis://127.0.0.1:6379/15"
# alembic's CLI logs one such line per revision it applies, and none when the schema is at head.
APPLIED = "Running upgrade"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'academy.db'}"
    return request.getfixturevalue("postgres").create_database()


def schema_heads(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    return heads


def newest_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini"))).get_heads())


def migrate_together(database_url: str, count: int) -> list[tuple[int, str]]:
    """Start `count` `alembic upgrade head` processes at once; their exit codes and output."""
    env = {**os.environ, "REFLEX_DB_URL": database_url}
    processes = [subprocess.Popen([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=PROJECT_ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for _ in range(count)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    return [(process.returncode, output) for process, output in zip(processes, outputs, strict=True)]


def test_four_migrators_started_together_upgrade_the_schema_once(fresh_database):
    results = migrate_together(fresh_database, MIGRATORS)
    outputs = "\n---\n".join(output for _, output in results)
    assert [code for code, _ in results] == [0] * MIGRATORS, outputs
    assert schema_heads(fresh_database) == newest_revisions()
    assert sum(APPLIED in output for _, output in results) == 1, outputs


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}. Run `make services`.")
    yield REDIS_URL
    client.flushdb()


def test_the_web_process_and_a_worker_started_together_on_an_empty_database_both_come_up(
        postgres, redis_url, tmp_path):
    database = postgres.create_database()
    (tmp_path / "web").mkdir()
    log = tmp_path / "worker.log"
    # `make worker` migrates, then starts celery; `make run` (running_app) migrates, loads the demo
    # data, then serves. Both begin with `alembic upgrade head` at the same moment.
    worker = start_worker(worker_environment(database, redis_url, free_port()), log, migrate=True)
    try:
        with running_app(tmp_path / "web", backend_only=True, database_url=database,
                         redis_url=redis_url, extra_env={"CELERY_BROKER_URL": redis_url}) as app:
            wait_until(lambda: " ready." in log.read_text() or worker.poll() is not None, timeout=60)
            assert worker.poll() is None, log.read_text()[-3000:]
            with urllib.request.urlopen(f"{app.url}/readyz", timeout=10) as response:
                assert response.status == 200
    finally:
        stop_worker(worker)
    assert schema_heads(database) == newest_revisions()
