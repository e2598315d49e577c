"""Scale-out benchmark: "mark as complete" and a course broadcast through HAProxy, one web host and
then two, in one run.

    .venv/bin/python -m bench.scale_out [--quick] [--update-docs]     # as root

It builds the scale-out test bed of the drills (tests/scale_out/testbed.py, a layout of its own):
two web hosts (`reflex run --env prod --backend-only`, REFLEX_OPLOCK_ENABLED, 2 workers each) and
a worker host as network namespaces, HAProxy in front (deploy/haproxy.cfg), on a fresh PostgreSQL
database with the demo data and this machine's Redis and RabbitMQ. The clients speak Reflex's
protocol (tests/wsclient.py), all in this process, all through HAProxy.

- One host: HAProxy has web B in maintenance (`set server academy_web/web_b state maint`), so every
  tab lands on A. Two hosts: B is made ready again and fresh tabs spread over both.
- Mark as complete, open loop (bench/learning.py's): each learner sends one event per second at
  Poisson moments; the time runs from the moment it was due. p50 / p95 / p99 at a fixed load.
- Saturation (bench/learning.py's closed loop): every client sends its next event when the last
  is answered; events per second.
- Broadcast (bench/realtime.py's): the instructor's broadcast_update, called here, until the last
  connected learner's tab has it; median and worst of a few.

Both "hosts" are namespaces of this one machine: they share its two cores (and PostgreSQL, Redis,
the worker host and this process's clients). The second host's column shows what balancing over
more workers does when the cores are already shared, not what a second machine would add.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench.common import ROOT, percentiles
from bench.learning import (
    REDIS_ACADEMY,
    Latency,
    RoundTripClient,
    Throughput,
    closed_loop,
    connected,
    in_batches,
    open_loop,
    raise_open_file_limit,
    settle,
)
from bench.machine import RUN_DATABASES, Monitor
from bench.report import publish
from tests.scale_out.testbed import Layout, TestBed, bed_database, namespace_pids
from tests.wsclient import ReflexTab, handler_name, open_page

PG_SERVER = os.environ.get("ACADEMY_BENCH_PG_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
# Not the drills' layout: a benchmark never tears down a running test's bed.
BENCH = Layout("acsob", "10.213.24")
COURSE = "python-foundations"


@dataclass(frozen=True)
class Plan:
    learners: int  # open loop, one event a second each
    level_seconds: float
    saturation_clients: int
    saturation_seconds: float
    broadcast_tabs: int
    broadcasts: int


FULL = Plan(learners=50, level_seconds=20, saturation_clients=100, saturation_seconds=10,
            broadcast_tabs=200, broadcasts=5)
QUICK = Plan(learners=10, level_seconds=5, saturation_clients=20, saturation_seconds=3,
             broadcast_tabs=20, broadcasts=2)


@dataclass
class Result:
    latency: Latency
    saturation: Throughput
    broadcast: list[float]  # ms, the warm-up round left out


def first_lesson(course_id: int) -> int:
    from sqlmodel import Session

    from academy_app.db import get_engine
    from academy_app.models import Lesson, Module

    with Session(get_engine()) as session:
        return session.execute(sa.select(Lesson.id).join(Module).where(Module.course_id == course_id)
                               .order_by(Module.position, Lesson.position).limit(1)).scalar_one()


async def learner(url: str, session: str, path: str) -> RoundTripClient:
    """A logged-in learner's tab on a lesson, through the balancer, ready to click."""
    from academy_app.state.learn import LearnState

    tab = ReflexTab(url, login_token=session)
    await tab.connect()
    replies = await open_page(tab, path, LearnState)
    return RoundTripClient(tab, handler_name(LearnState, "set_completed"), "is_completed",
                           bool(ReflexTab.var(replies, "is_completed")))


def use_hosts(bed: TestBed, hosts: int) -> None:
    """One host: web B in maintenance, so HAProxy sends everything to A. Two: B back in."""
    assert bed.balancer is not None
    state = "maint" if hosts == 1 else "ready"
    bed.balancer.command(f"set server academy_web/web_b state {state}")
    bed.balancer.wait_status("web_b", "MAINT" if hosts == 1 else "UP")


async def measure(bed: TestBed, academy: object, hosts: int, plan: Plan, monitor: Monitor
                  ) -> Result:
    use_hosts(bed, hosts)
    label = f"{hosts} host{'s' if hosts > 1 else ''}"
    path = f"/learn/{COURSE}/{first_lesson(academy.course.id)}"
    count = max(plan.learners, plan.saturation_clients)
    clients = connected(await in_batches(academy.sessions[:count],
                                         lambda session: learner(bed.url, session, path),
                                         batch=20), "learners")
    await settle(clients)  # the pages' other on_load answers (the bell) must not pass for replies

    async def warm_up(client: RoundTripClient) -> None:
        await client.fire()
        await client.fire()  # two events: the lesson is as it was

    connected(await in_batches(clients, warm_up, batch=50), "warm-up events")
    await settle(clients)
    web = namespace_pids(bed.web_a.name) + namespace_pids(bed.web_b.name)
    async with monitor.async_phase(f"{label}, mark complete, open loop, {plan.learners} learners"):
        latency = await open_loop(clients[:plan.learners], plan.level_seconds, random.Random(7),
                                  web)
    await settle(clients)
    print(f"  {label}: open loop, {plan.learners} learners: p50/p95/p99 "
          f"{'/'.join(f'{v:.1f}' for v in percentiles(latency.values))} ms "
          f"({latency.lost} lost, {latency.errors} wrong)", flush=True)
    async with monitor.async_phase(f"{label}, saturation, {plan.saturation_clients} clients"):
        saturation = await closed_loop(clients[:plan.saturation_clients], plan.saturation_seconds,
                                       {"web hosts": web, "clients": [os.getpid()]})
    await settle(clients)
    print(f"  {label}: saturation, {plan.saturation_clients} clients: "
          f"{saturation.per_second:.0f} events/s; CPU (% of a core): {saturation.cpu_shares()}",
          flush=True)
    await in_batches([client.tab for client in clients], ReflexTab.close, batch=100)

    academy.tabs = []
    await academy.connect(plan.broadcast_tabs)
    lasts = []
    async with monitor.async_phase(f"{label}, broadcast to {plan.broadcast_tabs}"):
        for round_ in range(plan.broadcasts + 1):
            took = await academy.broadcast_once() * 1000
            if round_:  # the first round warms up
                lasts.append(took)
    print(f"  {label}: broadcast to {plan.broadcast_tabs}: median/worst "
          f"{statistics.median(lasts):.0f}/{max(lasts):.0f} ms", flush=True)
    await in_batches(academy.tabs, ReflexTab.close, batch=100)
    return Result(latency, saturation, lasts)


def table(results: dict[int, Result], plan: Plan) -> str:
    lines = [f"| Web hosts behind HAProxy | Mark as complete, open loop, {plan.learners} learners "
             "at 1 event/s: p50 / p95 / p99 | Saturation: events/s "
             f"({plan.saturation_clients} clients), p95 | Broadcast to {plan.broadcast_tabs} tabs: "
             f"median / worst of {plan.broadcasts} |",
             "|---|---:|---:|---:|"]
    for hosts, result in results.items():
        p50, p95, p99 = percentiles(result.latency.values)
        lost = f", {result.latency.lost} lost" if result.latency.lost else ""
        lines.append(f"| {hosts} (2 workers each) | {p50:.1f} / {p95:.1f} / {p99:.1f} ms"
                     f"{lost} | {result.saturation.per_second:.0f} events/s, "
                     f"{percentiles(result.saturation.latencies)[1]:.0f} ms | "
                     f"{statistics.median(result.broadcast):.0f} / {max(result.broadcast):.0f} ms |")
    one, two = results[1], results[2]
    p95 = percentiles(two.latency.values)[1] / percentiles(one.latency.values)[1]
    rate = two.saturation.per_second / one.saturation.per_second
    broadcast = statistics.median(two.broadcast) / statistics.median(one.broadcast)
    lines.append(f"| second host: two ÷ one | p95 × {p95:.2f} | × {rate:.2f} | "
                 f"median × {broadcast:.2f} |")
    return ("Both web hosts are network namespaces of this one machine and share its two cores "
            "(with PostgreSQL, Redis, the worker host and the clients): the second row is more "
            "workers on the same cores behind the balancer, not a second machine.\n\n"
            + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few clients, a few seconds per phase: to try it out, not to quote")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md (not with --quick)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    raise_open_file_limit()
    monitor = Monitor()
    results: dict[int, Result] = {}
    with bed_database(PG_SERVER, REDIS_ACADEMY) as database_url, \
            tempfile.TemporaryDirectory(prefix=f"{BENCH.prefix}-") as tmp:
        RUN_DATABASES.add(sa.engine.make_url(database_url).database)
        # This process broadcasts like a web host would: the same database and Redis.
        os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_ACADEMY)
        from academy_app.db import get_engine
        from academy_app.settings import get_settings
        from bench.realtime import Academy

        get_settings.cache_clear()
        get_engine.cache_clear()
        began = time.perf_counter()
        with TestBed(BENCH, Path(tmp), database_url, REDIS_ACADEMY) as bed:
            print(f"Test bed up in {time.perf_counter() - began:.0f} s: HAProxy at {bed.url}",
                  flush=True)

            async def both() -> None:
                academy = Academy(bed.url)
                for hosts in (1, 2):
                    results[hosts] = await measure(bed, academy, hosts, plan, monitor)

            asyncio.run(both())
        get_engine().dispose()
    if args.quick:
        print("(--quick: fewer clients and shorter phases; not comparable)")
    publish("scale_out", table(results, plan), monitor,
            write=args.update_docs and not args.quick)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
