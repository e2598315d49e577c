"""Real Celery workers and a real SMTP server (aiosmtpd) for the integration tests."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.appserver import VENV_BIN, free_port, start_process


class Inbox:
    """What the SMTP server received, as raw messages."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(hostname: str = "127.0.0.1", port: int | None = None
                ) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), port or free_port()
    controller = Controller(inbox, hostname=hostname, port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def worker_environment(database: str, broker: str, smtp_port: int, **more: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "REFLEX_DB_URL": database,
            "CELERY_BROKER_URL": broker, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "false", "ACADEMY_MAIL_RETRY_SECONDS": "0.2", **more}


def start_worker(env: dict[str, str], log: Path, *, migrate: bool = False,
                 wrapper: Sequence[str] = ()) -> subprocess.Popen:
    """`celery -A tasks worker` in its own process group, appending to `log`; with `migrate`, after
    `alembic upgrade head`, as `make worker` starts it. `wrapper` runs it inside another command
    (`ip netns exec HOST`: on a host of the scale-out test bed)."""
    celery = [str(VENV_BIN / "celery"), "-A", "tasks", "worker", "--pool=solo", "--loglevel=INFO",
              "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command = celery
    if migrate:
        alembic = shlex.quote(str(VENV_BIN / "alembic"))
        command = ["sh", "-c", f"{alembic} upgrade head && exec {shlex.join(celery)}"]
    return start_process([*wrapper, *command], env, log)


def start_beat(env: dict[str, str], log: Path, schedule: Path, *,
               wrapper: Sequence[str] = ()) -> subprocess.Popen:
    """`celery -A tasks beat`, as `make beat` starts it, with its schedule file at `schedule`."""
    command = [str(VENV_BIN / "celery"), "-A", "tasks", "beat", "--loglevel=INFO",
               f"--schedule={schedule}"]
    return start_process([*wrapper, *command], env, log)


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`celery -A tasks worker` in its own process group, once it says it is ready."""
    process = start_worker(env, log)
    try:
        wait_until(lambda: "ready" in log.read_text() or process.poll() is not None, timeout=60)
        if process.poll() is not None:
            pytest.fail(f"the worker did not start:\n{log.read_text()[-3000:]}")
        yield process
    finally:
        stop_worker(process)


def wait_until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.1)
