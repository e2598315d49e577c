"""What the benchmarks share: a throwaway PostgreSQL database, the bare Reflex app, percentiles and a
look at a server process's memory through /proc (Linux only, like the machine the numbers come from)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from bench.machine import RUN_DATABASES

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("ACADEMY_BENCH_PG_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, empty database on the benchmark server for one run, dropped afterwards even if the run
    fails (WITH (FORCE) ends connections a killed backend left behind). Its PostgreSQL backends
    count as part of the run in the machine's state (bench/machine.py)."""
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    name = f"academy_bench_{uuid.uuid4().hex[:8]}"
    RUN_DATABASES.add(name)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(database_url: str) -> None:
    """Alembic to head on `database_url`, in this process, the way the test fixtures do it: the
    schema the benchmark fills is exactly the one production runs."""
    from alembic.config import Config

    from academy_app.db import make_engine
    from alembic import command

    engine = make_engine(database_url)
    try:
        config = Config(str(ROOT / "alembic.ini"))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


SERVERS = ("granian", "uvicorn")


def add_server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", choices=SERVERS,
                        help="the backend's server for this run (Reflex's REFLEX_USE_GRANIAN); "
                             "uvicorn needs uvicorn and gunicorn importable. Default: what "
                             "Academy's configuration picks")


def use_server(server: str | None) -> None:
    """Every app this run starts (Academy's and the bare one) inherits the choice from here."""
    if server:
        os.environ["REFLEX_USE_GRANIAN"] = "true" if server == "granian" else "false"


def workers_env(workers: int) -> dict[str, str]:
    """`workers` backend worker processes whichever server runs: gunicorn reads WEB_CONCURRENCY and
    Granian GRANIAN_WORKERS (Academy's rxconfig.py copies the one to the other; the bare app's does
    not)."""
    return {"GRANIAN_WORKERS": str(workers), "WEB_CONCURRENCY": str(workers)}


@contextmanager
def bare_reflex(workdir: Path, redis_url: str, *, database_url: str = "",
                workers: int = 1) -> Iterator[str]:
    """The bare Reflex app (bench/bare_push) as `workers` backend workers on `redis_url` (and
    `database_url` for its row-writing handler); yields its URL. REFLEX_OPLOCK_ENABLED and the
    open-file limit are inherited from this process."""
    from tests.appserver import VENV_BIN, _answers, _stop, free_port

    port = free_port()
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "REFLEX_REDIS_URL": redis_url,
           "BARE_DATABASE_URL": database_url, **workers_env(workers),
           "REFLEX_USE_NPM": "1", "REFLEX_TELEMETRY_ENABLED": "false",
           "REFLEX_CHECK_LATEST_VERSION": "0"}
    log = (workdir / "bare.log").open("w")
    process = subprocess.Popen([str(VENV_BIN / "reflex"), "run", "--env", "prod", "--backend-only",
                                "--backend-port", str(port)], cwd=ROOT / "bench" / "bare_push",
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 300
        while not _answers(f"{url}/ping"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bare Reflex did not start; see {workdir / 'bare.log'}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(process)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


# --- A server process seen through /proc -------------------------------------------------------

def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                # local address "ADDR:PORT" in hex; state 0A is LISTEN
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _pids() -> Iterator[int]:
    return (int(name) for name in os.listdir("/proc") if name.isdigit())


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:  # gone, or not ours to read
        pass
    return found


def serving_pids(port: int) -> list[int]:
    """Every process holding the listening socket of `port` (the server's main process and its
    workers share it), so the benchmark finds the worker without knowing how Reflex starts it."""
    listening = _listening_inodes(port)
    return sorted(pid for pid in _pids() if _socket_inodes(pid) & listening)


def open_sockets(pid: int) -> int:
    """Sockets the process holds: the one holding the clients' connections is the worker."""
    return len(_socket_inodes(pid))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (utime and stime in /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



def pids_named(command: str) -> list[int]:
    """Every process whose name is `command` (e.g. redis-server)."""
    found = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() == command:
                    found.append(pid)
        except OSError:  # ended meanwhile
            continue
    return found


def database_backends(database_url: str) -> list[int]:
    """PostgreSQL's backend processes serving `database_url`'s database: the CPU the database spends
    on this benchmark, without what other users of the server cost."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalars())
    finally:
        engine.dispose()


def cpu_seconds_all(pids: list[int]) -> dict[int, float]:
    """CPU seconds per process, leaving out those that ended: compare two of these pid by pid."""
    used = {}
    for pid in pids:
        try:
            used[pid] = cpu_seconds(pid)
        except OSError:
            continue
    return used


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat): beside what the
    benchmark's own processes used, it shows whether something else ran at the same time."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
