"""Real-time benchmark: publish → client latency and a course broadcast, Academy beside bare Reflex.

    make bench                                  # runs this (and the other benchmarks)
    .venv/bin/python -m bench.realtime [--update-docs]

Both apps run as one backend worker (`reflex run --env prod --backend-only`, WEB_CONCURRENCY=1) with
Reflex's Redis state manager, once as it comes and once with REFLEX_OPLOCK_ENABLED; Academy on a
fresh PostgreSQL database with the demo data. The clients
are socket.io clients speaking Reflex's protocol (tests/wsclient.py), all in this process.

- One-user push: 1, 100 or 500 logged-in tabs connected; one learner's tab is the target. This process
  publishes a notification signal on Academy's bus (as a Celery worker would) and times until the
  tab receives the state delta carrying it. Bare Reflex: a Redis message → `app.modify_state` on the
  target token → one var set; timed the same way.
- Broadcast: 500 enrolled learners online; the instructor's `broadcast_update` service is called
  here (500 notification rows written, committed, published) and timed until the last tab has it.
  Bare Reflex: one Redis message naming the 500 tokens, each set through `app.modify_state`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import redis
import sqlalchemy as sa

from bench.common import ROOT, bare_reflex, percentiles, throwaway_database
from bench.machine import Monitor
from bench.report import publish

if TYPE_CHECKING:
    from tests.wsclient import ReflexTab

REDIS_ACADEMY = "redis://127.0.0.1:6379/9"
REDIS_BARE = "redis://127.0.0.1:6379/10"
CLIENT_COUNTS = (1, 100, 500)
SAMPLES = 500
BROADCASTS = 5
# Reflex's Redis state manager as it comes, and with REFLEX_OPLOCK_ENABLED (each worker keeps an
# uncontended tab's lock and state in memory), which the production checklist recommends.
MODES = {"Redis": "false", "Redis + oplock": "true"}


def has_var(name: str, check: Callable[[object], bool] = lambda _: True
            ) -> Callable[[dict], bool]:
    from tests.wsclient import iter_vars
    return lambda message: any(key == name and check(value) for _, key, value in iter_vars(message))


async def until(tab: ReflexTab, found: Callable[[dict], bool], timeout: float = 10.0) -> float:
    """Wait for a pushed message that satisfies `found`; returns the perf_counter when it came."""
    end = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(tab.messages.get(), max(end - time.monotonic(), 0.001))
        if found(message):
            return time.perf_counter()


def drain(tabs: list[ReflexTab]) -> None:
    for tab in tabs:
        while not tab.messages.empty():
            tab.messages.get_nowait()


class Academy:
    """The Academy side: learners with sessions, tabs on their dashboards, pushes through the bus."""

    def __init__(self, url: str) -> None:
        from sqlmodel import Session

        from academy_app.db import get_engine
        from academy_app.models import Course, User
        from tests.factories import logged_in_learners

        self.url, self.tabs, self.users = url, [], []
        self.write_ms: list[float] = []  # of each broadcast: writing and committing the rows
        self.ids = itertools.count(10_000_000)
        with Session(get_engine(), expire_on_commit=False) as session:
            self.course = session.execute(sa.select(Course).where(
                Course.slug == "python-foundations")).scalar_one()
            self.instructor = session.get(User, self.course.instructor_id)
            seated = logged_in_learners(session, self.course.id, max(CLIENT_COUNTS), "bench")
            self.sessions = [token for _, token in seated]
            self.users = [user.id for user, _ in seated]

    async def connect(self, count: int) -> None:
        from tests.wsclient import ReflexTab

        async def one(index: int) -> ReflexTab:
            tab = ReflexTab(self.url, login_token=self.sessions[index])
            await tab.connect()
            await tab.open("/dashboard")
            return tab

        for start in range(len(self.tabs), count, 25):
            self.tabs += await asyncio.gather(*(one(i) for i in range(start, min(start + 25, count))))

    async def push_once(self) -> float:
        from academy_app.infra import bus

        tab = self.tabs[0]
        drain([tab])
        note = bus.LiveNotification(id=next(self.ids), user_id=self.users[0], kind="bench",
                                    title="Benchmark", body="", link="",
                                    created_at="2026-01-01T00:00:00+00:00")
        start = time.perf_counter()
        bus.publish(bus.Signal(notifications=(note,)))
        return await until(tab, has_var("unread")) - start

    async def broadcast_once(self) -> float:
        from academy_app.db import session_scope
        from academy_app.services import announcements

        drain(self.tabs)
        start = time.perf_counter()
        with session_scope() as session:
            announcements.broadcast_update(session, self.instructor, self.course.id,
                                           f"Update {uuid.uuid4().hex[:6]}", "Benchmark")
        self.write_ms.append((time.perf_counter() - start) * 1000)
        arrivals = await asyncio.gather(*(until(tab, has_var("unread")) for tab in self.tabs))
        return max(arrivals) - start


class Bare:
    def __init__(self, url: str) -> None:
        self.url, self.tabs = url, []
        self.redis = redis.Redis.from_url(REDIS_BARE)
        self.values = itertools.count(1)

    async def connect(self, count: int) -> None:
        from tests.wsclient import ReflexTab

        async def one() -> ReflexTab:
            tab = ReflexTab(self.url)
            await tab.connect()
            await tab.open("/")
            return tab

        for start in range(len(self.tabs), count, 25):
            self.tabs += await asyncio.gather(*(one() for _ in range(start, min(start + 25, count))))

    def _publish(self, tokens: list[str]) -> int:
        value = next(self.values)
        self.redis.publish("bare:push", json.dumps({"tokens": tokens, "value": value}))
        return value

    async def push_once(self) -> float:
        tab = self.tabs[0]
        drain([tab])
        start = time.perf_counter()
        value = self._publish([tab.token])
        return await until(tab, has_var("value", lambda v: v == value)) - start

    async def broadcast_once(self) -> float:
        drain(self.tabs)
        start = time.perf_counter()
        value = self._publish([tab.token for tab in self.tabs])
        arrivals = await asyncio.gather(*(until(tab, has_var("value", lambda v: v == value))
                                          for tab in self.tabs))
        return max(arrivals) - start


async def measure(academy: Academy, bare: Bare, monitor: Monitor, mode: str) -> tuple[dict, dict]:
    """Both apps side by side, samples interleaved, so both see the same machine at the same time."""
    results: tuple[dict, dict] = ({}, {})
    sides = (academy, bare)
    for count in CLIENT_COUNTS:
        for side in sides:
            await side.connect(count)
        for _ in range(20):  # warm up
            for side in sides:
                await side.push_once()
        samples: tuple[list[float], list[float]] = ([], [])
        async with monitor.async_phase(f"{mode}, push with {count} clients"):
            for _ in range(SAMPLES):
                for side, into in zip(sides, samples, strict=True):
                    into.append(await side.push_once() * 1000)
        for side, into, result in zip(sides, samples, results, strict=True):
            result[f"push/{count}"] = percentiles(into)
            print(f"  {type(side).__name__}: push with {count} clients: p50/p95/p99 "
                  f"{'/'.join(f'{v:.1f}' for v in result[f'push/{count}'])} ms", flush=True)
    lasts: tuple[list[float], list[float]] = ([], [])
    async with monitor.async_phase(f"{mode}, broadcast to {max(CLIENT_COUNTS)}"):
        for round_ in range(BROADCASTS + 1):
            for side, into in zip(sides, lasts, strict=True):
                took = await side.broadcast_once() * 1000
                if round_:  # the first round warms up
                    into.append(took)
    for side, into, result in zip(sides, lasts, results, strict=True):
        result["broadcast"] = (statistics.median(into), max(into))
        print(f"  {type(side).__name__}: broadcast to {len(side.tabs)}: median/max "
              f"{result['broadcast'][0]:.0f}/{result['broadcast'][1]:.0f} ms", flush=True)
        for tab in side.tabs:
            await tab.close()
    results[0]["write"] = (statistics.median(academy.write_ms[1:]),)
    return results


def table(results: dict[str, tuple[dict, dict]]) -> str:
    lines = ["| Reflex state | Measure | Clients | Academy p50 / p95 / p99 (ms) "
             "| Bare Reflex p50 / p95 / p99 (ms) | Academy ÷ bare (p95) |",
             "|---|---|---:|---:|---:|---:|"]
    for mode, (academy, bare) in results.items():
        for count in CLIENT_COUNTS:
            a, b = academy[f"push/{count}"], bare[f"push/{count}"]
            lines.append(f"| {mode} | one-user push, publish → delta | {count} | "
                         f"{a[0]:.1f} / {a[1]:.1f} / {a[2]:.1f} | "
                         f"{b[0]:.1f} / {b[1]:.1f} / {b[2]:.1f} | {a[1] / b[1]:.2f} |")
        a, b = academy["broadcast"], bare["broadcast"]
        lines.append(f"| {mode} | course broadcast until the last tab has it, median / worst of "
                     f"{BROADCASTS} (Academy: of which {academy['write'][0]:.0f} ms writing the "
                     f"rows) | {max(CLIENT_COUNTS)} | {a[0]:.0f} / {a[1]:.0f} | "
                     f"{b[0]:.0f} / {b[1]:.0f} | {a[0] / b[0]:.2f} (medians) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    results = {}
    monitor = Monitor()
    for mode, oplock in MODES.items():
        for url in (REDIS_ACADEMY, REDIS_BARE):
            redis.Redis.from_url(url).flushdb()
        os.environ["REFLEX_OPLOCK_ENABLED"] = oplock  # read by both backends at start
        with tempfile.TemporaryDirectory() as tmp, throwaway_database() as database_url:
            # This process publishes like a Celery worker: same database, same Redis.
            os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_ACADEMY)
            from academy_app.db import get_engine
            from academy_app.settings import get_settings
            from tests.appserver import running_app

            get_settings.cache_clear()
            get_engine.cache_clear()
            print(f"{mode}: Academy (PostgreSQL) and bare Reflex, one backend worker each…",
                  flush=True)
            with (running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                              database_url=database_url) as app,
                  bare_reflex(Path(tmp), REDIS_BARE) as bare_url):
                academy, bare = asyncio.run(measure(Academy(app.url), Bare(bare_url), monitor,
                                                    mode))
            get_engine().dispose()
        results[mode] = (academy, bare)
    text = table(results)
    publish("realtime", text, monitor, write=args.update_docs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
