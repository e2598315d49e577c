"""The scale-out test bed: two web hosts and a worker host as Linux network namespaces, HAProxy in
front, all on this machine's one PostgreSQL, Redis and RabbitMQ. Used by the drills
(tests/scale_out); a benchmark gets a bed of its own with another Layout.

    bridge <prefix>br, <subnet>.1 (this machine's side)
      ├── veth ── namespace <prefix>-a  <subnet>.11  web host A: reflex run --env prod --backend-only
      ├── veth ── namespace <prefix>-b  <subnet>.12  web host B: the same
      └── veth ── namespace <prefix>-w  <subnet>.13  worker host: celery worker + celery beat
    HAProxy (deploy/haproxy.cfg) on 127.0.0.1:<free port> → <subnet>.11 and .12 port 8000

Every process gets its environment from deploy/academy.env, the file docs/operations.md shows.

The bed's tasks go to a RabbitMQ vhost of its own (named after the prefix), so that they never
meet another test's worker on the machine's broker.

How the hosts reach the shared services: PostgreSQL and Redis listen on 127.0.0.1 only (RabbitMQ's
guest user may only connect from there), and a namespace cannot reach this machine's loopback. So
the bed runs one `socat` forwarder per service, listening on the bridge's address (<subnet>.1) and
connecting to 127.0.0.1. That changes no service's configuration, opens nothing beyond the bridge,
and ends with the bed; a service restarted behind it is reached again by the next connection.
The SMTP sink listens on the bridge's address itself.

Clean-up: every namespace, the bridge and its veths carry the bed's prefix, and every process the
bed starts outside the namespaces carries ACADEMY_TESTBED=<prefix> in its environment. At start
the bed first removes what a crashed run with the same prefix left (processes by that marker and
by namespace, then the links, namespaces and its vhost); at the end it does the same, whatever
happened.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import socket
import string
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
import sqlalchemy as sa

from academy_app.settings import PROJECT_ROOT
from tests.appserver import (
    TEST_ISSUER_KEY,
    TEST_SECRET_KEY,
    VENV_BIN,
    _answers,
    app_environment,
    free_port,
    migrate_and_load_demo,
    reflex_command,
    start_process,
)
from tests.integration.workers import start_beat, start_worker

DEPLOY = PROJECT_ROOT / "deploy"
HAPROXY_CONFIG = DEPLOY / "haproxy.cfg"
ENVIRONMENT_FILE = DEPLOY / "academy.env"
WEB_PORT = 8000
SHARED_PORTS = {"postgresql": 5432, "redis": 6379, "rabbitmq": 5672}
STARTUP_SECONDS = 300
MARKER = "ACADEMY_TESTBED"
TOOLS = ("ip", "socat", "haproxy", "rabbitmqctl")


class BedError(RuntimeError):
    """The bed could not be built or a host did not come up: a failure, never a skip."""


@dataclass(frozen=True)
class Layout:
    """Names and addresses of one bed. Two beds at once need different ones: building a bed tears
    down whatever an earlier bed with the same prefix left."""

    prefix: str  # at most 6 characters: interface names are limited to 15
    subnet: str  # the first three octets of a /24 of the bed's own

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.1"

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br"


DRILLS = Layout("acsot", "10.213.23")


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise BedError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise BedError(f"missing {', '.join(missing)}: run `make services` (it installs haproxy; "
                       "ip and socat come with iproute2 and socat)")
    if os.geteuid() != 0:
        raise BedError("the scale-out test bed makes network namespaces: it must run as root")


def render(template: Path, values: dict[str, str]) -> dict[str, str]:
    """deploy/academy.env with its ${...} filled in, as a dict."""
    env = {}
    for line in template.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = string.Template(value.strip()).substitute(values)
    return env


def _marked_pids(prefix: str) -> list[int]:
    """Processes outside the namespaces that a bed with this prefix started (its marker is in
    their environment)."""
    marker = f"{MARKER}={prefix}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def namespace_pids(namespace: str) -> list[int]:
    result = _run("ip", "netns", "pids", namespace, check=False)
    return [int(pid) for pid in result.stdout.split()] if result.returncode == 0 else []


def tear_down(layout: Layout) -> None:
    """Remove everything a bed with this layout made, whether it ended well or crashed."""
    namespaces = [line.split()[0] for line in _run("ip", "netns", "list").stdout.splitlines()
                  if line.startswith(f"{layout.prefix}-")]
    for _ in range(3):  # a killed reflex may have started a child meanwhile
        pids = _marked_pids(layout.prefix)
        for namespace in namespaces:
            pids += namespace_pids(namespace)
        if not pids:
            break
        _kill(pids)
        time.sleep(0.2)
    for namespace in namespaces:
        _run("ip", "netns", "del", namespace, check=False)
    # The bed's own broker vhost, with every queue and message in it.
    _run("rabbitmqctl", "-q", "delete_vhost", layout.prefix, check=False)
    links = _run("ip", "-o", "link", "show").stdout.splitlines()
    for line in links:
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(layout.prefix):
            _run("ip", "link", "del", name, check=False)


@dataclass
class Host:
    """One machine of the bed: a network namespace with its address, and what runs in it."""

    name: str  # the namespace
    address: str
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def wrapper(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    @property
    def url(self) -> str:
        return f"http://{self.address}:{WEB_PORT}"

    def start(self, command: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
        process = start_process([*self.wrapper, *command], env, self.workdir / log_name)
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> float:
        """kill -9 every process of the host, as a power cut would; returns when it happened
        (time.monotonic())."""
        pids = namespace_pids(self.name)
        _kill(pids)
        killed_at = time.monotonic()
        for _ in range(20):  # gunicorn replaces a dead worker between two reads
            pids = namespace_pids(self.name)
            if not pids:
                break
            _kill(pids)
            time.sleep(0.05)
        for process in self.processes:
            process.wait(timeout=10)
        self.processes.clear()
        return killed_at


class Balancer:
    """HAProxy with deploy/haproxy.cfg, and a look at what it thinks of each host."""

    def __init__(self, workdir: Path, web_a: str, web_b: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket = workdir / "haproxy.sock"
        self.log = workdir / "haproxy.log"
        self.env = {**env, "ACADEMY_HAPROXY_SOCKET": str(self.socket),
                    "ACADEMY_LISTEN": f"127.0.0.1:{self.port}", "ACADEMY_WEB_A": web_a,
                    "ACADEMY_WEB_B": web_b}
        check = subprocess.run(["haproxy", "-c", "-f", str(HAPROXY_CONFIG)], env=self.env,
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise BedError(f"HAProxy refuses {HAPROXY_CONFIG}: {check.stdout}{check.stderr}")
        self.process = start_process(["haproxy", "-db", "-f", str(HAPROXY_CONFIG)], self.env,
                                     self.log)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BedError(f"HAProxy did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(f"{line}\n".encode())
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """The backend's servers as `show stat` has them: status (UP, DOWN…), scur (connections
        now), stot (connections so far), by name (web_a, web_b)."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {row["svname"]: row for row in rows
                if row["pxname"] == "academy_web" and row["svname"].startswith("web_")}

    def status(self, server: str) -> str:
        return self.servers()[server]["status"].split()[0]

    def connections_so_far(self) -> dict[str, int]:
        return {name: int(row["stot"]) for name, row in self.servers().items()}

    def wait_status(self, server: str, wanted: str, timeout: float = 60) -> float:
        """Until HAProxy calls `server` `wanted` (UP or DOWN); returns when (time.monotonic())."""
        deadline = time.monotonic() + timeout
        while (status := self.status(server)) != wanted:
            if time.monotonic() > deadline:
                raise BedError(f"HAProxy still has {server} {status}, not {wanted}")
            time.sleep(0.05)
        return time.monotonic()


class TestBed:
    """Build with `with TestBed(...) as bed:`; everything is gone after the block."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, layout: Layout, workdir: Path, database_url: str, redis_url: str,
                 smtp_port: int | None = None) -> None:
        """`database_url` and `redis_url` as this process reaches them (127.0.0.1); the hosts
        reach the same ones through the bed's forwarders. Emails go to `smtp_port` on the
        bridge's address (an SMTP sink listening there), or nowhere if it is None."""
        self.layout = layout
        self.workdir = workdir
        self.database_url = database_url
        self.redis_url = redis_url
        self.smtp_port = smtp_port
        self.web_a = Host(f"{layout.prefix}-a", f"{layout.subnet}.11", workdir / "a")
        self.web_b = Host(f"{layout.prefix}-b", f"{layout.subnet}.12", workdir / "b")
        self.worker = Host(f"{layout.prefix}-w", f"{layout.subnet}.13", workdir / "w")
        self.forwarders: list[subprocess.Popen] = []
        self.balancer: Balancer | None = None

    @property
    def hosts(self) -> tuple[Host, Host, Host]:
        return self.web_a, self.web_b, self.worker

    @property
    def url(self) -> str:
        assert self.balancer is not None
        return self.balancer.url

    # --- building ------------------------------------------------------------------------------

    def __enter__(self) -> TestBed:
        require_tools()
        tear_down(self.layout)  # what a crashed run left
        try:
            self._network()
            self._forwarders()
            self._broker()
            self.balancer = Balancer(self.workdir, f"{self.web_a.address}:{WEB_PORT}",
                                     f"{self.web_b.address}:{WEB_PORT}", self._marked_env())
            self.start_web(self.web_a, wait=False)
            self.start_web(self.web_b, wait=False)
            self.start_worker_host()
            for host in (self.web_a, self.web_b):
                self.wait_web(host)
            for server in ("web_a", "web_b"):
                self.balancer.wait_status(server, "UP")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        tear_down(self.layout)
        for process in [*self.forwarders, *(h for host in self.hosts for h in host.processes)]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        if self.balancer is not None:
            self.balancer.process.wait(timeout=10)

    def _network(self) -> None:
        layout = self.layout
        _run("ip", "link", "add", layout.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{layout.gateway}/24", "dev", layout.bridge)
        _run("ip", "link", "set", layout.bridge, "up")
        for host in self.hosts:
            host.workdir.mkdir(parents=True, exist_ok=True)
            outside, inside = f"{host.name}0", f"{host.name}1"
            _run("ip", "netns", "add", host.name)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            _run("ip", "link", "set", inside, "netns", host.name)
            _run("ip", "link", "set", outside, "master", layout.bridge)
            _run("ip", "link", "set", outside, "up")
            inside_ns = ("ip", "netns", "exec", host.name, "ip")
            _run(*inside_ns, "addr", "add", f"{host.address}/24", "dev", inside)
            _run(*inside_ns, "link", "set", inside, "up")
            _run(*inside_ns, "link", "set", "lo", "up")
            _run(*inside_ns, "route", "add", "default", "via", layout.gateway)

    def _marked_env(self) -> dict[str, str]:
        return {**os.environ, MARKER: self.layout.prefix}

    def _forwarders(self) -> None:
        for port in SHARED_PORTS.values():
            self.forwarders.append(start_process(
                ["socat", f"TCP-LISTEN:{port},bind={self.layout.gateway},fork,reuseaddr",
                 f"TCP:127.0.0.1:{port}"], self._marked_env(), self.workdir / "socat.log"))
        for port in SHARED_PORTS.values():
            self._wait(lambda p=port: _port_open(self.layout.gateway, p), 10, f"forwarder {port}")

    def _broker(self) -> None:
        """A RabbitMQ vhost of the bed's own: its tasks never mix with another test's on the
        machine's broker, and deleting it at the end takes every leftover message with it."""
        _run("rabbitmqctl", "-q", "add_vhost", self.layout.prefix)
        _run("rabbitmqctl", "-q", "set_permissions", "-p", self.layout.prefix, "guest",
             ".*", ".*", ".*")

    # --- the hosts ---------------------------------------------------------------------------

    def _through_bridge(self, url: str) -> str:
        return url.replace("127.0.0.1", self.layout.gateway).replace("localhost",
                                                                      self.layout.gateway)

    def environment(self, host: Host) -> dict[str, str]:
        """A host's environment: deploy/academy.env filled in for this bed, nothing else from this
        process but PATH, HOME and the locale."""
        values = {
            "SECRET_KEY": TEST_SECRET_KEY, "ISSUER_KEY": TEST_ISSUER_KEY,
            "PUBLIC_URL": self.url, "DATABASE_URL": self._through_bridge(self.database_url),
            "REDIS_URL": self._through_bridge(self.redis_url),
            "BROKER_URL": (f"amqp://guest:guest@{self.layout.gateway}:{SHARED_PORTS['rabbitmq']}"
                           f"/{self.layout.prefix}"),
            "MEDIA_ROOT": str(self.workdir / "media"),
            "SMTP_HOST": self.layout.gateway if self.smtp_port else "",
            "SMTP_PORT": str(self.smtp_port or 25), "SMTP_STARTTLS": "false",
        }
        env = render(ENVIRONMENT_FILE, values)
        if not self.smtp_port:
            del env["SMTP_HOST"]
        keep = {key: os.environ[key] for key in ("HOME", "LANG", "LC_ALL") if key in os.environ}
        return {**keep, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", "PORT": str(WEB_PORT),
                "ACADEMY_OUTBOX_DIR": str(host.workdir / "outbox"),
                # `reflex run` empties its states folder at start, even with Redis: hosts that are
                # folders of one machine would race over the same files.
                "REFLEX_STATES_WORKDIR": str(host.workdir / "states"), **env}

    def start_web(self, host: Host, *, wait: bool = True) -> None:
        command = reflex_command(WEB_PORT, backend_only=True, host="0.0.0.0")
        host.start(command, self.environment(host), "reflex.log")
        if wait:
            self.wait_web(host)

    def wait_web(self, host: Host) -> None:
        self._wait(lambda: _answers(f"{host.url}/readyz"), STARTUP_SECONDS,
                   f"web host {host.name}", lambda: host.log("reflex.log"),
                   lambda: bool(host.processes) and host.processes[0].poll() is not None)

    def start_worker_host(self) -> None:
        env = self.environment(self.worker)
        seen = len(self.worker.log("worker.log"))  # a restart appends to the same log
        self.worker.processes += [
            start_worker(env, self.worker.workdir / "worker.log", wrapper=self.worker.wrapper),
            start_beat(env, self.worker.workdir / "beat.log",
                       self.worker.workdir / "celerybeat-schedule", wrapper=self.worker.wrapper)]
        self._wait(lambda: "ready" in self.worker.log("worker.log")[seen:], 120, "the Celery worker",
                   lambda: self.worker.log("worker.log"))

    def _wait(self, check: Callable[[], bool], timeout: float, what: str,
              log: Callable[[], str] = str, died: Callable[[], bool] = lambda: False) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if died() or time.monotonic() > deadline:
                raise BedError(f"{what} did not come up:\n{log()[-4000:]}")
            time.sleep(0.2)


def _port_open(address: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
        return True
    return False


@contextlib.contextmanager
def bed_database(admin_url: str, redis_url: str) -> Iterator[str]:
    """A PostgreSQL database of the bed's own, migrated with the demo data, and its Redis database
    emptied; both dropped or emptied afterwards even if the run fails."""
    # Pre-ping: the PostgreSQL drill restarts the server under this pool.
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"academy_scaleout_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # Migrations and the demo data as a test app gets them (the demo refuses production).
        migrate_and_load_demo(app_environment(Path("/nonexistent"), url, 0))
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        with contextlib.suppress(redis.RedisError):
            client.flushdb()
        client.close()
