"""Start the real app (`reflex run --env prod`) as a subprocess, with its own database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from academy_app.settings import PROJECT_ROOT

STARTUP_SECONDS = 600
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    log: Path

    def log_text(self, start: int = 0) -> str:
        """The log, or what it gained since `start` (a `log_size()` taken earlier): a busy app's
        log runs to tens of megabytes, which a check after every test should not read whole."""
        with self.log.open("rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size

    @property
    def states(self) -> Path:
        """Where Reflex keeps this app's tab states on disk (embedded mode)."""
        return self.log.parent / "states"

    @property
    def outbox(self) -> Path:
        """Where the app writes its emails as .eml files (it has no SMTP server)."""
        return self.log.parent / "outbox"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


TEST_SECRET_KEY = "test-signing-key"
# An Ed25519 key for tests that start production settings (made by `python -m academy_app.infra.issuer_keys`).
TEST_ISSUER_KEY = "z3u2eS4wZEHu4DRXokbrSUhtrbJMJjcpPBoNZ4XSThnyv3Jh"


def app_environment(workdir: Path, database_url: str, port: int, *, redis_url: str | None = None,
                    extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a test app runs in: its database, its port, its own media and outbox folders,
    the test signing key and per-IP limits high enough for every test to log in from one address."""
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        "REFLEX_DB_URL": database_url,
        "PORT": str(port),
        "ACADEMY_ENV": "test",
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "WEB_CONCURRENCY": "1",
        # Receipts and emails of a test app stay in its own folder, never in the project's var/.
        "ACADEMY_MEDIA_ROOT": str(workdir / "media"),
        "ACADEMY_OUTBOX_DIR": str(workdir / "outbox"),
        # Reflex empties its states folder when it starts: each app keeps its own, so starting one
        # (on another xdist worker) never deletes the tabs of another that is running.
        "REFLEX_STATES_WORKDIR": str(workdir / "states"),
        "ACADEMY_SECRET_KEY": TEST_SECRET_KEY,  # the tests sign links the app accepts
        # Every browser test logs in (signs up, asks for a reset link, tries coupon codes) from
        # 127.0.0.1; the limits themselves are tested on their own.
        "ACADEMY_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "ACADEMY_SIGNUPS_PER_HOUR": "1000",
        "ACADEMY_PASSWORD_RESETS_PER_HOUR": "1000",
        "ACADEMY_EMAIL_CHANGES_PER_HOUR": "1000",
        "ACADEMY_WRONG_COUPON_CODES_PER_HOUR": "1000",
        "ACADEMY_API_ANONYMOUS_PER_HOUR": "100000",
        "ACADEMY_API_AUTHENTICATED_PER_HOUR": "100000",
        # A clock a browser test may move (POST /_test/clock); real time until it does.
        "ACADEMY_TEST_CLOCK_FILE": str(workdir / "clock"),
    }
    env.pop("REFLEX_REDIS_URL", None)
    env.update(extra_env or {})
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    return env


def migrate_and_load_demo(env: dict[str, str]) -> None:
    """`alembic upgrade head` and the demo data, on the database `env` names."""
    for step in (["alembic", "upgrade", "head"], ["python", "-m", "academy_app.demo"]):
        subprocess.run([str(VENV_BIN / step[0]), *step[1:]], cwd=PROJECT_ROOT, env=env,
                       check=True, capture_output=True)


def reflex_command(port: int, *, backend_only: bool, host: str | None = None) -> list[str]:
    """The production command (`reflex run --env prod`), the backend alone or the whole app."""
    command = [str(VENV_BIN / "reflex"), "run", "--env", "prod"]
    if backend_only:
        command += ["--backend-only", "--backend-port", str(port)]
        command += ["--backend-host", host] if host else []
        return command
    return [*command, "--frontend-port", str(port)]


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A server in its own process group (so it stops with everything it started), appending its
    output to `log`."""
    with log.open("a") as out:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_serving(process: subprocess.Popen, url: str, log: Path, *, backend_only: bool,
                 timeout: float = STARTUP_SECONDS) -> None:
    """Until `url` answers /ping (and its front page, for the whole app); fails the test if the
    process ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while not (_answers(f"{url}/ping") and (backend_only or _answers(f"{url}/"))):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the app did not start; its log:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


@contextmanager
def running_app(workdir: Path, *, redis_url: str | None = None, backend_only: bool = False,
                database_url: str | None = None,
                extra_env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """A migrated database with demo data (a SQLite file of its own unless `database_url` names a
    shared one), and the app serving it on a free port."""
    port = free_port()
    database_url = database_url or f"sqlite:///{workdir / 'app.db'}"
    env = app_environment(workdir, database_url, port, redis_url=redis_url, extra_env=extra_env)
    migrate_and_load_demo(env)
    log = workdir / "reflex.log"
    log.write_text("")
    process = start_process(reflex_command(port, backend_only=backend_only), env, log)
    url = f"http://localhost:{port}"
    try:
        wait_serving(process, url, log, backend_only=backend_only)
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        _stop(process)


@contextmanager
def redis_backend(tmp_path_factory: pytest.TempPathFactory, redis_url: str,
                  name: str = "backend") -> Iterator[RunningApp]:
    """One backend worker (`reflex run --backend-only`) with its state in Redis, emptied before and
    after: for tests that speak Reflex's WebSocket protocol or publish on the bus from outside."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {redis_url}: {exc}. Run `make services`.")
    with running_app(tmp_path_factory.mktemp(name), redis_url=redis_url, backend_only=True) as app:
        yield app
    client.flushdb()


@contextmanager
def two_backends(tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str,
                 extra_env: dict[str, str]) -> Iterator[tuple[RunningApp, RunningApp]]:
    """Two backend workers (`reflex run --backend-only`) on one database and one Redis, emptied
    before and after: where a limit is shown to hold across processes."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {redis_url}: {exc}. Run `make services`.")
    options = {"redis_url": redis_url, "backend_only": True, "database_url": database_url,
               "extra_env": extra_env}
    with running_app(tmp_path_factory.mktemp("a"), **options) as a, \
            running_app(tmp_path_factory.mktemp("b"), **options) as b:
        yield a, b
    client.flushdb()


def _stop(process: subprocess.Popen) -> None:
    """Stop reflex and everything it started (the server's workers, node) as one process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class RedisServer:
    """A redis-server of a test's own (no persistence, a free port), to stop and start at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False


class PostgresCluster:
    """A PostgreSQL server of a test's own (initdb in a temporary folder, a free port, trust auth),
    to stop and start at will without touching the shared one."""

    def __init__(self, folder: Path) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins:
            pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = bins[-1].parent
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"
        folder.mkdir(parents=True, exist_ok=True)
        self._as_owner("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                       "--no-sync")

    def start(self) -> None:
        self._as_owner("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                       "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                       "start")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as clients can tell: no goodbye to any connection."""
        if not (self.data / "postmaster.pid").exists():
            return  # not running (a test failed while it was stopped)
        self._as_owner("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def _as_owner(self, program: str, *args: str) -> None:
        # PostgreSQL refuses to run as root: the tests do (in CI's container), so run it as the
        # Debian package's postgres user, who then owns the folder.
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.folder)], check=True)
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"{program} failed: {result.stdout}{result.stderr}")
