"""The read path on the big data set: the dashboard's data load with the cache cold, warm and off, and
the cache's hit ratio over a replayed read-heavy workload. In this process, against the database
bench/learning.py filled, with the cache in Redis as production runs it.

Server-side time only: what DashboardState.load does (a session, the token's user, the learner's
courses with progress, the rows the page shows), without Reflex or the network around it.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from bench.common import percentiles

CACHE_REDIS = "redis://127.0.0.1:6379/1"  # no test uses it
DASHBOARD_LEARNERS = 400
REPLAY_OPERATIONS = 20_000
REPLAY_WARM_UP = 4_000  # left out of the steady-state ratio
ACTIVE_LEARNERS = 2_000  # the learners the replay draws from, the first ones most often


@contextmanager
def academy_on(database_url: str, cache_url: str | None) -> Iterator[None]:
    """This process's Academy settings, engine and cache pointed at the benchmark database (and
    the cache at `cache_url`, or off), restored afterwards."""
    from academy_app import db
    from academy_app.infra import cache
    from academy_app.settings import get_settings

    saved = {name: os.environ.get(name) for name in ("REFLEX_DB_URL", "ACADEMY_CACHE_URL",
                                                     "ACADEMY_CACHE_ENABLED", "REFLEX_REDIS_URL")}
    os.environ.update({"REFLEX_DB_URL": database_url, "ACADEMY_CACHE_URL": cache_url or "",
                       "ACADEMY_CACHE_ENABLED": "true" if cache_url else "false"})
    os.environ.pop("REFLEX_REDIS_URL", None)  # no live bus: nobody is connected to this process
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    cache.use(None)
    try:
        cache.cache().clear()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        db.get_engine().dispose()
        get_settings.cache_clear()
        db.get_engine.cache_clear()
        cache.use(None)


def learner_tokens(database_url: str, count: int, seed: int) -> list[str]:
    """Log-in tokens for `count` learners with at least one enrollment, picked at random."""
    from academy_app.db import session_scope
    from academy_app.models import Enrollment, User
    from academy_app.services import accounts

    with academy_on(database_url, None), session_scope() as session:
        ids = list(session.exec(sa.select(Enrollment.user_id).distinct().order_by(Enrollment.user_id)))
        chosen = random.Random(seed).sample(ids, min(count, len(ids)))
        return [accounts.start_session(session, session.get(User, user_id)) for (user_id,) in chosen]


def dashboard_load(token: str) -> None:
    """DashboardState.load's work."""
    from academy_app.db import session_scope
    from academy_app.services import accounts, progress
    from academy_app.state.rows import DashboardRow

    with session_scope() as session:
        learner = accounts.user_for_token(session, token)
        [DashboardRow.of(entry) for entry in progress.dashboard(session, learner)]


@dataclass(frozen=True)
class DashboardTimes:
    cold: list[float]
    warm: list[float]
    off: list[float]
    courses: float  # mean courses per learner measured


def time_dashboard(database_url: str, learners: int = DASHBOARD_LEARNERS) -> DashboardTimes:
    """For each learner in turn: with the cache off; cold (everything the load reads dropped from
    the cache first); then warm (the same load again). Interleaved, so a busy moment of the
    machine falls on all three alike."""
    from academy_app.infra import cache

    tokens = learner_tokens(database_url, learners, seed=6)
    times: dict[str, list[float]] = {"cold": [], "warm": [], "off": []}
    courses = []

    def timed(kind: str, token: str) -> None:
        started = time.perf_counter()
        dashboard_load(token)
        times[kind].append((time.perf_counter() - started) * 1000)

    with academy_on(database_url, None):
        for token in tokens:  # connections opened and statements prepared before any timing
            dashboard_load(token)
        off_engine_cache = cache.cache()
    with academy_on(database_url, CACHE_REDIS):
        on = cache.cache()
        for token in tokens:
            cache.use(off_engine_cache)
            timed("off", token)
            cache.use(on)
            on.clear()
            timed("cold", token)
            timed("warm", token)
            courses.append(_course_count(token))
    return DashboardTimes(times["cold"], times["warm"], times["off"],
                          sum(courses) / max(1, len(courses)))


def _course_count(token: str) -> int:
    from academy_app.db import session_scope
    from academy_app.services import accounts, progress

    with session_scope() as session:
        return len(progress.dashboard(session, accounts.user_for_token(session, token)))


@dataclass(frozen=True)
class Replay:
    operations: int
    by_kind: dict[str, int]
    overall: float
    steady: float
    reads: int  # cache lookups in the steady part
    per_kind: dict[str, float]  # steady hit ratio per kind of cached value


def replay_hit_ratio(database_url: str, operations: int = REPLAY_OPERATIONS,
                     seed: int = 7) -> Replay:
    """A read-heavy mix, replayed from one seed: 30 % dashboards, 25 % course pages (a third by
    visitors), 20 % lesson pages, 20 % catalog pages (a few dozen common queries), 5 % a lesson
    marked complete or not. Learners and queries are drawn with Zipf-like weights (the first far
    more often than the last), as a few learners and pages make most of the traffic."""
    from academy_app.db import session_scope
    from academy_app.infra import cache
    from academy_app.models import Category, Course, Enrollment, Lesson, Module, User
    from academy_app.services import catalog, lessons, progress

    rng = random.Random(seed)
    with academy_on(database_url, CACHE_REDIS):
        with session_scope() as session:
            learner_ids = [uid for (uid,) in session.exec(
                sa.select(Enrollment.user_id).distinct().order_by(Enrollment.user_id)
                .limit(ACTIVE_LEARNERS))]
            rng.shuffle(learner_ids)
            enrolled: dict[int, list[int]] = {}
            for user_id, course_id in session.exec(
                    sa.select(Enrollment.user_id, Enrollment.course_id)
                    .where(col(Enrollment.user_id).in_(learner_ids))):
                enrolled.setdefault(user_id, []).append(course_id)
            slugs = dict(session.exec(sa.select(Course.id, Course.slug)).all())
            course_lessons: dict[int, list[int]] = {}
            for course_id, lesson_id in session.exec(
                    sa.select(Module.course_id, Lesson.id).join(Lesson, Lesson.module_id == Module.id)):
                course_lessons.setdefault(course_id, []).append(lesson_id)
            categories = [slug for (slug,) in session.exec(sa.select(Category.slug))]
        queries = ([catalog.CatalogQuery.parse(page=page) for page in (1, 2, 3)]
                   + [catalog.CatalogQuery.parse(sort=sort) for sort in ("newest", "title")]
                   + [catalog.CatalogQuery.parse(category=c) for c in categories]
                   + [catalog.CatalogQuery.parse(price=p) for p in ("free", "paid")]
                   + [catalog.CatalogQuery.parse(text=t) for t in ("python", "data", "design", "sql")])
        learner_weights = [1 / (rank + 1) for rank in range(len(learner_ids))]
        query_weights = [1 / (rank + 1) for rank in range(len(queries))]
        course_ids = list(slugs)

        def learner() -> tuple[int, int]:
            user_id = rng.choices(learner_ids, learner_weights)[0]
            return user_id, rng.choice(enrolled[user_id])

        def dashboard(session: sa.orm.Session) -> None:
            progress.dashboard(session, session.get(User, learner()[0]))

        def course_page(session: sa.orm.Session) -> None:
            if rng.random() < 1 / 3:
                catalog.course_outline(session, slugs[rng.choice(course_ids)], None)
            else:
                user_id, course_id = learner()
                catalog.course_outline(session, slugs[course_id], session.get(User, user_id))

        def lesson_page(session: sa.orm.Session) -> None:
            user_id, course_id = learner()
            lessons.open_lesson(session, session.get(User, user_id), slugs[course_id],
                                rng.choice(course_lessons[course_id]))

        def catalog_page(session: sa.orm.Session) -> None:
            catalog.search_courses(session, rng.choices(queries, query_weights)[0])

        def mark(session: sa.orm.Session) -> None:
            user_id, course_id = learner()
            progress.set_lesson_completion(session, session.get(User, user_id),
                                           rng.choice(course_lessons[course_id]), rng.random() < 0.7)

        mix: list[tuple[str, float, Callable[[sa.orm.Session], None]]] = [
            ("dashboard", 0.30, dashboard), ("course page", 0.25, course_page),
            ("lesson page", 0.20, lesson_page), ("catalog page", 0.20, catalog_page),
            ("mark complete", 0.05, mark)]
        counts = dict.fromkeys((name for name, _, _ in mix), 0)
        on = cache.cache()
        for index in range(operations):
            if index == REPLAY_WARM_UP:
                warm_up = on.stats()
                on.reset_stats()
            name, _, run = rng.choices(mix, [weight for _, weight, _ in mix])[0]
            counts[name] += 1
            with session_scope() as session:
                run(session)
        steady = on.stats()
        per_kind = {kind: on.hits[kind] / max(1, on.hits[kind] + on.misses[kind])
                    for kind in sorted(set(on.hits) | set(on.misses))}
    hits, misses = warm_up.hits + steady.hits, warm_up.misses + steady.misses
    return Replay(operations, counts, hits / max(1, hits + misses), steady.hit_ratio,
                  steady.hits + steady.misses, per_kind)


def summarise(values: list[float]) -> str:
    p50, p95, _ = percentiles(values)
    return f"{p50:.1f} / {p95:.1f}"
