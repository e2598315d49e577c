"""The write path alone: what one "mark as complete" costs in CPU, one per transaction or several
sharing one (what group commit would buy), and what each per-transaction step costs.

    .venv/bin/python -m bench.write_path

No app server, no WebSocket: the service (`progress.set_lesson_completion`) runs in this process,
in transactions opened as the app opens them (`db.session_scope`, PostgreSQL with the pool's
pre-ping, the cache and the bus on Redis), against bench/learning.py's data set. CPU is this
process's own (user + system), so it moves far less than a whole app's figures when the machine
is busy; the wall time per mark is printed too, and that does move with the machine. Each row is
the median of a few runs of 400 marks (200 learners, complete then not complete).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.common import ROOT, migrate, throwaway_database
from bench.learning import build_data_set

REDIS_URL = "redis://127.0.0.1:6379/4"  # a database number no test and no other benchmark uses
LEARNERS = 200
RUNS = 3
BATCHES = (1, 2, 4, 8, 200)


def cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def main() -> None:
    with throwaway_database() as database_url:
        migrate(database_url)
        data = build_data_set(database_url, capacity_sessions=0, seats_wanted=LEARNERS)
        os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_URL)
        from sqlmodel import col, select

        from academy_app.db import get_engine, session_scope
        from academy_app.infra import bus
        from academy_app.infra.cache import Cache
        from academy_app.models import User
        from academy_app.services import progress
        from academy_app.settings import get_settings

        get_settings.cache_clear()
        get_engine.cache_clear()
        with session_scope() as session:
            ids = dict(session.exec(select(User.email, User.id).where(
                col(User.email).in_([seat.email for seat in data.seats]))).all())
        seats = [(ids[seat.email], seat.lesson_id) for seat in data.seats]
        completed = [True]

        def marks(batch: int) -> Callable[[], None]:
            """Every learner's lesson marked (then, next time, unmarked), `batch` to a transaction."""
            def run() -> None:
                value = completed[0] = not completed[0]
                for start in range(0, len(seats), batch):
                    with session_scope() as session:
                        bus.origin(session, "bench")
                        for user_id, lesson_id in seats[start:start + batch]:
                            progress.set_lesson_completion(session, session.get(User, user_id),
                                                           lesson_id, value)
            return run

        @contextmanager
        def without(steps: tuple[str, ...]) -> Iterator[None]:
            """The transaction's per-commit steps left out, to see what each costs."""
            publish, invalidate, pool = bus.publish, Cache.invalidate, get_engine().pool
            if "publish" in steps:
                bus.publish = lambda _signal: None
            if "invalidate" in steps:
                Cache.invalidate = lambda _self, _scopes: None
            pool._pre_ping = "pre-ping" not in steps
            try:
                yield
            finally:
                bus.publish, Cache.invalidate, pool._pre_ping = publish, invalidate, True

        cases: list[tuple[str, Callable[[], None], tuple[str, ...]]] = [
            (f"{batch} mark(s) per transaction", marks(batch), ()) for batch in BATCHES]
        cases += [(f"1 per transaction, without {' + '.join(steps)}", marks(1), steps)
                  for steps in (("pre-ping",), ("publish",), ("invalidate",),
                                ("pre-ping", "publish", "invalidate"))]
        for _, run, steps in cases:  # warm: connections, compiled statements, caches
            with without(steps):
                run()
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
        for _ in range(RUNS):  # interleaved, so a busy spell spreads over every case
            for name, run, steps in cases:
                with without(steps):
                    cpu, wall = cpu_seconds(), time.perf_counter()
                    run()
                    run()
                    figures[name].append(((cpu_seconds() - cpu) / (2 * len(seats)),
                                          (time.perf_counter() - wall) / (2 * len(seats))))
        get_engine().dispose()
    print("| Marks | CPU per mark (ms) | wall per mark (ms) |\n|---|---:|---:|")
    for name, values in figures.items():
        print(f"| {name} | {1000 * statistics.median(v[0] for v in values):.2f} | "
              f"{1000 * statistics.median(v[1] for v in values):.1f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
