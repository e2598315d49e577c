"""The real app, built and served in prod mode once per run, driven by Debian's headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from academy_app.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("ACADEMY_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling out, and this network refuses it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_SECONDS = 600


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """`reflex run --env prod` on a free port with a fresh, migrated SQLite database and demo data."""
    workdir = tmp_path_factory.mktemp("app")
    port = _free_port()
    database_url = f"sqlite:///{workdir / 'e2e.db'}"
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "REFLEX_DB_URL": database_url,
        "PORT": str(port),
        "ACADEMY_ENV": "test",
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
    }
    env.pop("REFLEX_REDIS_URL", None)
    for step in (["alembic", "upgrade", "head"], ["python", "-m", "academy_app.demo"]):
        subprocess.run([f"{venv_bin}/{step[0]}", *step[1:]], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True)
    log = workdir / "reflex.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [f"{venv_bin}/reflex", "run", "--env", "prod", "--frontend-port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while not (_answers(f"{url}/ping") and _answers(f"{url}/")):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start; its log:\n{log.read_text()[-4000:]}")
            time.sleep(1)
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make services` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, app_server: RunningApp) -> Iterator[Page]:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
