"""Discussion fan-out benchmark: one post reaching every learner viewing the same lesson, beside the
bare-Reflex floor, and the posts per second one host sustains while they watch.

    make bench                                  # runs this (and the other benchmarks)
    .venv/bin/python -m bench.discussions [--learners 200] [--posts 30] [--rates 0.5,1,2,4]
    .venv/bin/python -m bench.discussions --learners 10 --posts 3 --rates 1 --rate-seconds 2  # smoke

Academy runs as one backend worker (`reflex run --env prod --backend-only`, WEB_CONCURRENCY=1) with
Reflex's Redis state manager and REFLEX_OPLOCK_ENABLED (the production checklist's setting), on a
fresh PostgreSQL database with the demo data; the bare Reflex app (bench/bare_push) likewise. The
viewers are socket.io clients speaking Reflex's protocol (tests/wsclient.py), all in this process,
each logged in as its own enrolled learner with the first lesson of Python Foundations open, so its
tab watches that lesson's discussion.

- Fan-out: a learner starts a thread through the service, here (as the lesson page's handler does:
  written, committed, published on the bus); timed from the call until the last viewer's tab has the
  new thread in its list (each tab reloads the list as the learner it belongs to). The bare floor:
  one Redis message naming every viewer's token, each set through `app.modify_state`.
- Sustained posting: several learners post at a fixed rate for a while, the viewers watching; for
  each post, the time until the last viewer has it. A rate is sustained when every post reached
  every viewer and the p95 of those times stays under `--limit-ms` (by default twice the p95 of one
  post alone: the fan-outs keep up instead of piling up behind each other).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
import sqlalchemy as sa

from bench.common import ROOT, bare_reflex, percentiles, throwaway_database
from bench.machine import Monitor
from bench.realtime import REDIS_ACADEMY, REDIS_BARE, Bare
from bench.report import publish

if TYPE_CHECKING:
    from tests.wsclient import ReflexTab

POSTERS = 8  # learners who post in the sustained phase, in turn
SETTLE_SECONDS = 60.0  # how long a post may take to reach every viewer before it counts as lost


@dataclass(frozen=True)
class Phase:
    """One posting rate: per post, the time until the last viewer had it (None: someone never did)."""

    rate: float
    posted: int
    to_last_ms: list[float | None]

    @property
    def delivered(self) -> bool:
        return bool(self.to_last_ms) and all(ms is not None for ms in self.to_last_ms)

    def p50_p95(self) -> tuple[float, float]:
        times = [ms for ms in self.to_last_ms if ms is not None]
        if len(times) < 2:
            return (times[0], times[0]) if times else (float("nan"), float("nan"))
        cuts = statistics.quantiles(times, n=100, method="inclusive")
        return cuts[49], cuts[94]

    def sustained(self, limit_ms: float) -> bool:
        return self.delivered and self.p50_p95()[1] <= limit_ms


def highest_sustained(phases: list[Phase], limit_ms: float) -> float:
    """The highest rate sustained with every lower rate sustained too (0: not even the first)."""
    best = 0.0
    for phase in sorted(phases, key=lambda p: p.rate):
        if not phase.sustained(limit_ms):
            break
        best = phase.rate
    return best


def to_last(posted_at: dict[str, float], seen: list[dict[str, float]]) -> list[float | None]:
    """For each post (its title and when it was sent), ms until the last viewer had it."""
    result: list[float | None] = []
    for title, start in posted_at.items():
        arrivals = [tab[title] for tab in seen if title in tab]
        result.append((max(arrivals) - start) * 1000 if len(arrivals) == len(seen) else None)
    return result


def parse_rates(text: str) -> tuple[float, ...]:
    try:
        rates = tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("rates are numbers of posts per second, e.g. 1,2,4") from exc
    if not rates or any(rate <= 0 for rate in rates) or list(rates) != sorted(set(rates)):
        raise argparse.ArgumentTypeError("rates must be rising positive numbers, e.g. 0.5,1,2")
    return rates


class Academy:
    """Learners enrolled in Python Foundations, their tabs on its first lesson, posts through the
    service as one of them."""

    def __init__(self, url: str, learners: int) -> None:
        from sqlmodel import Session, col, select

        from academy_app.db import get_engine
        from academy_app.models import (
            Course,
            Enrollment,
            EnrollmentStatus,
            Lesson,
            Module,
            Role,
            User,
        )
        from academy_app.services import accounts

        self.url, self.tabs = url, []
        self.seen: list[dict[str, float]] = []  # per viewer: thread title → when its tab had it
        self._readers: list[asyncio.Task] = []
        self.titles = (f"Bench question {n} {uuid.uuid4().hex[:6]}" for n in itertools.count())
        with Session(get_engine(), expire_on_commit=False) as session:
            course = session.execute(sa.select(Course).where(
                Course.slug == "python-foundations")).scalar_one()
            self.lesson_id = session.exec(select(Lesson.id).join(Module).where(
                Module.course_id == course.id).order_by(col(Module.position),
                                                        col(Lesson.position))).first()
            people = [User(email=f"bench-{i}@example.com", full_name=f"Bench Learner {i}",
                           password_hash="!", role=Role.STUDENT)
                      for i in range(learners + POSTERS)]
            session.add_all(people)
            session.flush()
            session.add_all(Enrollment(user_id=u.id, course_id=course.id,
                                       status=EnrollmentStatus.ACTIVE) for u in people)
            self.sessions = [accounts.start_session(session, u) for u in people[:learners]]
            session.commit()
            self.posters = [u.id for u in people[learners:]]
        self.path = f"/learn/python-foundations/{self.lesson_id}"

    async def connect(self, count: int) -> None:
        from tests.wsclient import ReflexTab

        async def one(index: int) -> ReflexTab:
            tab = ReflexTab(self.url, login_token=self.sessions[index])
            await tab.connect()
            await tab.open(self.path)
            return tab

        for start in range(0, count, 25):
            self.tabs += await asyncio.gather(*(one(i) for i in range(start, min(start + 25, count))))
        self.seen = [{} for _ in self.tabs]
        self._readers = [asyncio.create_task(self._read(tab, seen))
                         for tab, seen in zip(self.tabs, self.seen, strict=True)]

    @staticmethod
    async def _read(tab: ReflexTab, seen: dict[str, float]) -> None:
        """Note when this tab first had each thread in its list."""
        from tests.wsclient import iter_vars

        while True:
            message = await tab.messages.get()
            now = time.perf_counter()
            for _, key, value in iter_vars(message):
                if key == "threads" and isinstance(value, list):
                    for thread in value:
                        seen.setdefault(thread.get("title", ""), now)

    def post(self, poster: int, title: str) -> None:
        """What the lesson page's post handler does, as learner `poster` (blocking: run in a thread)."""
        from academy_app.db import session_scope
        from academy_app.models import User
        from academy_app.services import discussions

        with session_scope() as session:
            discussions.start_thread(session, session.get(User, self.posters[poster]),
                                     self.lesson_id, kind="question", title=title,
                                     body="How does this work?", anonymous=False,
                                     request_id=uuid.uuid4().hex)

    async def fan_out_once(self) -> float:
        """Seconds from one post until the last viewer has it."""
        title = next(self.titles)
        start = time.perf_counter()
        await asyncio.to_thread(self.post, 0, title)
        deadline = time.monotonic() + SETTLE_SECONDS
        while any(title not in seen for seen in self.seen):
            if time.monotonic() > deadline:
                raise SystemExit(f"a post did not reach every viewer within {SETTLE_SECONDS} s")
            await asyncio.sleep(0.002)
        return max(seen[title] for seen in self.seen) - start

    async def sustain(self, rate: float, seconds: float) -> Phase:
        """Post at `rate` per second for `seconds`, the posters in turn; wait for stragglers."""
        posted_at: dict[str, float] = {}
        posting: list[asyncio.Task] = []
        count = max(1, round(rate * seconds))
        begin = time.perf_counter()
        for index in range(count):
            await asyncio.sleep(max(0.0, begin + index / rate - time.perf_counter()))
            title = next(self.titles)
            posted_at[title] = time.perf_counter()
            posting.append(asyncio.create_task(asyncio.to_thread(self.post, index % POSTERS,
                                                                 title)))
        await asyncio.gather(*posting)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and any(
                title not in seen for seen in self.seen for title in posted_at):
            await asyncio.sleep(0.01)
        return Phase(rate, count, to_last(posted_at, self.seen))

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        for tab in self.tabs:
            await tab.close()


async def measure(academy: Academy, bare: Bare, monitor: Monitor,
                  args: argparse.Namespace) -> tuple[list[float], list[float], list[Phase]]:
    await academy.connect(args.learners)
    await bare.connect(args.learners)
    print(f"  {args.learners} viewers connected to each", flush=True)
    for _ in range(3):  # warm up
        await academy.fan_out_once()
        await bare.broadcast_once()
    lasts: tuple[list[float], list[float]] = ([], [])
    async with monitor.async_phase(f"one post to {args.learners} viewers"):
        for _ in range(args.posts):  # interleaved: both see the same machine at the same time
            lasts[0].append(await academy.fan_out_once() * 1000)
            lasts[1].append(await bare.broadcast_once() * 1000)
    for name, into in zip(("Academy", "Bare"), lasts, strict=True):
        print(f"  {name}: one post to {args.learners}: p50/p95 "
              f"{'/'.join(f'{v:.0f}' for v in percentiles(into)[:2])} ms", flush=True)
    if args.limit_ms is None:
        args.limit_ms = 2 * percentiles(lasts[0])[1]
    for tab in bare.tabs:
        await tab.close()
    phases = []
    for rate in args.rates:
        async with monitor.async_phase(f"{rate:g} posts/s for {args.rate_seconds:g} s"):
            phase = await academy.sustain(rate, args.rate_seconds)
        phases.append(phase)
        p50, p95 = phase.p50_p95()
        print(f"  {rate:g} posts/s: {phase.posted} posts, to the last viewer p50/p95 "
              f"{p50:.0f}/{p95:.0f} ms{'' if phase.delivered else ', some never arrived'}",
              flush=True)
        if not phase.sustained(args.limit_ms):
            break  # higher rates only pile up
    await academy.close()
    return lasts[0], lasts[1], phases


def table(learners: int, academy: list[float], bare: list[float], phases: list[Phase],
          limit_ms: float) -> str:
    a, b = percentiles(academy), percentiles(bare)
    lines = [f"| Measure ({learners} learners viewing one lesson) | p50 / p95 (ms) "
             "| Bare Reflex p50 / p95 (ms) | Academy ÷ bare (p95) |",
             "|---|---:|---:|---:|",
             f"| one new thread until the last viewer has it ({len(academy)} posts) | "
             f"{a[0]:.0f} / {a[1]:.0f} | {b[0]:.0f} / {b[1]:.0f} | {a[1] / b[1]:.2f} |"]
    for phase in phases:
        p50, p95 = phase.p50_p95()
        verdict = "sustained" if phase.sustained(limit_ms) else (
            "not sustained" if phase.delivered else "not sustained: some never arrived")
        lines.append(f"| {phase.rate:g} posts/s ({phase.posted} posts), each until the last "
                     f"viewer has it: {verdict} | {p50:.0f} / {p95:.0f} | | |")
    lines.append(f"\nPosts per second one host sustains with {learners} viewers (every post to "
                 f"every viewer, p95 ≤ {limit_ms:.0f} ms): "
                 f"**{highest_sustained(phases, limit_ms):g}** (highest rate tried: "
                 f"{max(p.rate for p in phases):g}).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=200, help="viewers of the lesson")
    parser.add_argument("--posts", type=int, default=30, help="posts timed one at a time")
    parser.add_argument("--rates", type=parse_rates, default=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
                        help="posting rates tried in turn, posts per second, rising")
    parser.add_argument("--rate-seconds", type=float, default=15.0,
                        help="how long each rate is kept up")
    parser.add_argument("--limit-ms", type=float, default=None,
                        help="a rate is sustained while each post reaches the last viewer within "
                             "this (p95); default: twice the p95 of one post alone")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    monitor = Monitor()
    for url in (REDIS_ACADEMY, REDIS_BARE):
        redis.Redis.from_url(url).flushdb()
    os.environ["REFLEX_OPLOCK_ENABLED"] = "true"  # read by both backends at start
    with tempfile.TemporaryDirectory() as tmp, throwaway_database() as database_url:
        # This process writes posts as the app's handler would, and publishes on the same bus.
        os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_ACADEMY,
                          ACADEMY_DISCUSSION_POSTS_PER_WINDOW="1000000")
        from academy_app.db import get_engine
        from academy_app.settings import get_settings
        from tests.appserver import running_app

        get_settings.cache_clear()
        get_engine.cache_clear()
        print("Academy (PostgreSQL) and bare Reflex, Redis + oplock, one backend worker each…",
              flush=True)
        with (running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                          database_url=database_url,
                          extra_env={"ACADEMY_DISCUSSION_POSTS_PER_WINDOW": "1000000"}) as app,
              bare_reflex(Path(tmp), REDIS_BARE) as bare_url):
            academy, bare, phases = asyncio.run(measure(
                Academy(app.url, args.learners), Bare(bare_url), monitor, args))
        get_engine().dispose()
    publish("discussions", table(args.learners, academy, bare, phases, args.limit_ms), monitor,
            write=args.update_docs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
