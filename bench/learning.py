"""Learning at scale: "mark as complete" latency and throughput, and clients per worker, on a big data set.

    make bench                                    # runs this (and the other benchmarks)
    .venv/bin/python -m bench.learning [--update-docs] [--quick]
    .venv/bin/python -m bench.learning --workers 2 5   # which worker count serves learners better
    .venv/bin/python -m bench.learning --capacity-only # memory per tab alone (one worker, both modes)
    .venv/bin/python -m bench.learning --workers 1 --events-only   # A/B runs of the write path

A throwaway PostgreSQL database is migrated and filled in bulk with a realistic academy: 10,000
users, 200 published courses of 25 lessons, about 60,000 enrollments and 200,000 lesson-progress
rows that agree with them. Academy then runs as one backend worker (`reflex run --env prod
--backend-only`, WEB_CONCURRENCY=1) with Reflex's Redis state manager, once as it comes and once with
REFLEX_OPLOCK_ENABLED, and then with oplock and as many workers as the machine has cores, each time
beside the bare Reflex app (`bench/bare_push/`) on the same state manager and as many workers.
The clients speak Reflex's WebSocket protocol (tests/wsclient.py), all from this one process.

- Round trip: each client is a different learner, logged in through the login form's handler, on
  the lesson page of a course they are enrolled in. It sends the page's "mark as complete" handler
  (alternately complete / not complete, so every event writes) and times until the delta comes back.
  Open loop: each client sends one event per second at Poisson-distributed moments whether or not
  the last answer came, and the time is counted from the moment the event was due, so a slow server
  cannot hide behind clients that wait for it.
- Saturation: every client sends its next event as soon as the last one is answered; events per
  second for Academy, then for the bare app's counter (the issue's floor) and for its handler that
  writes one row to PostgreSQL (a fairer floor for a handler that saves something), in the same run.
- Capacity (one worker): learners' tabs hydrated on /dashboard are added in steps; the worker's
  resident memory (and Redis's) before and after gives the memory each client costs.

- Reads (bench/cache_reads.py, in this process against the same database, the cache in Redis):
  the dashboard's data load with the cache cold, warm and off, and the cache's hit ratio over a
  replayed read-heavy mix of page loads.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa

from bench import cache_reads
from bench.common import (
    ROOT,
    add_server_option,
    bare_reflex,
    cpu_seconds,
    cpu_seconds_all,
    database_backends,
    machine_busy_seconds,
    migrate,
    open_sockets,
    percentiles,
    pids_named,
    rss_kib,
    serving_pids,
    throwaway_database,
    use_server,
    workers_env,
)
from bench.machine import Monitor
from bench.report import publish
from tests.wsclient import (
    REPLY_TIMEOUT,
    ReflexTab,
    handler_name,
    handoff_ticket,
    open_page,
    wait_for_var,
)

# Database numbers no test uses, so a benchmark never flushes a running test's state.
REDIS_ACADEMY = "redis://127.0.0.1:6379/3"
REDIS_BARE = "redis://127.0.0.1:6379/2"


@dataclass(frozen=True)
class Mode:
    """How both apps run: Reflex's Redis state manager as it comes or with REFLEX_OPLOCK_ENABLED
    (the production setting), and how many backend workers each has."""

    name: str
    oplock: bool
    workers: int = 1


CORES = os.cpu_count() or 1
# One worker measures what a worker does (and holds); as many workers as cores is how production
# runs on this machine (Reflex itself would start more).
MODES = (Mode("Redis", oplock=False), Mode("Redis + oplock", oplock=True),
         *([Mode(f"Redis + oplock, {CORES} workers", oplock=True, workers=CORES)]
           if CORES > 1 else []))
PASSWORD = "bench-password-123"
ROUND_TRIP_TARGET_MS = 50.0  # p95 of "mark as complete" at every client count
RATIO_TARGET = 0.5  # Academy's saturation throughput as a share of the bare counter's
CAPACITY_TARGET = 1000  # clients held by one worker
CAPACITY_WARM_UP = 100  # learners whose tabs warm the worker up before the capacity phase alone
DASHBOARD_TARGET_MS = 15.0  # warm dashboard data load, p95, server-side
HIT_RATIO_TARGET = 0.95
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Plan:
    levels: tuple[int, ...]  # concurrent clients of the open-loop round trip
    level_seconds: float
    saturation_clients: int
    saturation_seconds: float
    capacity_steps: tuple[int, ...]  # clients connected in all after each step


FULL = Plan(levels=(1, 50, 200), level_seconds=20, saturation_clients=200, saturation_seconds=10,
            capacity_steps=(250, 500, 1000))
# For trying the benchmark out: the same phases, few clients, a few seconds each. Its figures are
# not comparable with the targets.
QUICK = Plan(levels=(1, 10, 50), level_seconds=5, saturation_clients=50, saturation_seconds=3,
             capacity_steps=(100, 200))


# --- The data set ----------------------------------------------------------------------------

INSTRUCTORS = 50
MODULES_PER_COURSE, LESSONS_PER_MODULE = 5, 5
ENROLLMENTS_PER_LEARNER = (2, 10)  # uniform: about 6 each, about 60,000 in all
COMPLETED_SHARE = 0.05  # of enrollments; the rest are active


@dataclass(frozen=True)
class Size:
    """How big an academy the bulk loader makes. This benchmark's is issue 6's; bench/day.py scales
    it by its number of users, everything else in proportion."""

    users: int = 10_000
    courses: int = 200
    progress_rows: int = 200_000
    pending_payments: int = 0  # transfers learners submitted for paid courses, not yet reviewed

    def scaled(self, users: int, pending_payments: int) -> Size:
        factor = users / self.users
        return Size(users, max(self.courses, round(self.courses * factor)),
                    round(self.progress_rows * factor), pending_payments)


LEARNING = Size()
FIRST = ["Ada", "Bola", "Chen", "Dara", "Elif", "Femi", "Goran", "Hana", "Ines", "Jun", "Kofi", "Lena",
         "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wei", "Yara"]
LAST = ["Okafor", "Novak", "Tanaka", "Silva", "Haddad", "Kowalski", "Nguyen", "Mensah", "Larsen",
        "Petrov", "Ibrahim", "Moreau", "Rossi", "Kim", "Fischer", "Costa", "Ahmed", "Schmidt"]
CATEGORIES = ["Web Development", "Machine Learning", "Cloud and DevOps", "Databases", "Mobile Apps",
              "Security", "Business", "Marketing", "Photography", "Music Production", "Languages",
              "Personal Finance"]
LEVELS = ["beginner", "intermediate", "advanced"]
BODY = ("## {title}\n\nIn this lesson you will work through **{title}** step by step. Read the "
        "explanation, try the example, then do the short exercise at the end.\n\n"
        + "Each idea builds on the last one, so take your time and come back to it if needed. " * 12
        + "\n\n```python\nfor step in range(3):\n    print('practice', step)\n```\n\n"
        "> Tip: mark the lesson complete when you are done, and the next one unlocks.\n")


@dataclass(frozen=True)
class Seat:
    """A learner on a lesson they have not done, in a course where one more lesson cannot finish it:
    toggling it writes a row each time and never issues a certificate."""

    email: str
    course_slug: str
    lesson_id: int


@dataclass
class DataSet:
    counts: dict[str, int]
    seconds: float
    seats: list[Seat]  # one learner each, for the round-trip clients
    sessions: list[str]  # login tokens of other learners, for the capacity clients
    # instructor's email → the courses they teach that have payments waiting, then the rest
    instructors: dict[str, list[int]] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value: object) -> str:
    """One value in COPY's text format: NULL is \\N, and backslash, tab and newlines are escaped."""
    return "\\N" if value is None else str(value).translate(_ESCAPES)


def _model_defaults(table: str, given: list[str]) -> dict[str, object]:
    """The columns the rows leave out that the database needs (NOT NULL, no server default), each
    with its model's default: the schema keeps growing, and a new column that has a default in
    academy_app/models.py must not break the benchmark."""
    from pydantic_core import PydanticUndefined
    from sqlmodel import SQLModel

    import academy_app.models  # noqa: F401  (registers every table)

    model = next(cls for cls in SQLModel.__subclasses__()
                 if getattr(cls, "__table__", None) is not None and cls.__table__.name == table)
    defaults: dict[str, object] = {}
    for column in model.__table__.columns:
        if (column.name in given or column.nullable or column.primary_key
                or column.server_default is not None):
            continue
        info = model.model_fields[column.name]
        value = info.default_factory() if info.default_factory else info.default
        if value is PydanticUndefined:
            raise RuntimeError(f"{table}.{column.name} is NOT NULL and has no default: "
                               "bench/learning.py must fill it")
        defaults[column.name] = value
    return defaults


def _copy(cursor: Any, table: str, columns: str, rows: list[tuple]) -> int:
    """COPY rows in: an order of magnitude faster than INSERTs, which matters at 200,000."""
    given = [name.strip() for name in columns.split(",")]
    extra = _model_defaults(table, given)
    tail = "".join("\t" + _field(value) for value in extra.values())
    buffer = io.StringIO("".join("\t".join(map(_field, row)) + tail + "\n" for row in rows))
    cursor.copy_expert(f"COPY {table} ({', '.join(given + list(extra))}) FROM STDIN", buffer)
    return len(rows)


def build_data_set(database_url: str, capacity_sessions: int, seats_wanted: int,
                   size: Size = LEARNING) -> DataSet:
    """Fill a migrated database; returns the row counts and the learners the clients will be."""
    from academy_app.services.accounts import hash_password

    started = time.perf_counter()
    rng = random.Random(6)  # the same academy every run
    now = datetime.now(UTC)
    # One argon2 hash for every account: hashing 10,000 passwords would take minutes, and every
    # benchmark client can still log in through the real form with PASSWORD.
    password_hash = hash_password(PASSWORD)

    def ago(max_days: float, min_days: float = 0.0) -> datetime:
        return now - timedelta(days=rng.uniform(min_days, max_days))

    users: list[tuple] = [(1, "admin@example.com", "Avery Admin", password_hash, "admin", True, True,
                           _stamp(ago(700, 600)), _stamp(ago(600)))]
    for n in range(1, size.users):
        role = "instructor" if n <= INSTRUCTORS else "student"
        joined = ago(700)
        users.append((n + 1, f"{role}{n}@example.com",
                      f"{rng.choice(FIRST)} {rng.choice(LAST)}", password_hash, role, True,
                      rng.random() > 0.1, _stamp(joined), _stamp(joined)))
    learner_ids = [row[0] for row in users if row[4] == "student"]
    instructor_ids = [row[0] for row in users if row[4] == "instructor"]

    categories = [(i + 1, name, name.lower().replace(" and ", "-").replace(" ", "-"))
                  for i, name in enumerate(CATEGORIES)]
    courses, modules, lessons = [], [], []
    course_lessons: dict[int, list[int]] = {}  # course id → lesson ids in learning order
    course_slug: dict[int, str] = {}
    for c in range(1, size.courses + 1):
        category = categories[c % len(categories)]
        slug = f"{category[2]}-{c:03d}"
        created = ago(600, 30)
        price = 0 if rng.random() < 0.7 else rng.choice([1900, 2900, 4900, 9900])
        courses.append((c, slug, f"{category[1]} {c}: from first steps to real projects",
                        "Practical lessons, one small step at a time",
                        f"A hands-on course in {category[1].lower()}.\n\nShort lessons, each with "
                        "an exercise.", LEVELS[c % 3], category[0], price, "USD", True,
                        instructor_ids[c % INSTRUCTORS], "", _stamp(created), _stamp(created)))
        course_slug[c] = slug
        course_lessons[c] = []
        for m in range(MODULES_PER_COURSE):
            module_id = len(modules) + 1
            modules.append((module_id, c, f"Part {m + 1}", m))
            for p in range(LESSONS_PER_MODULE):
                lesson_id = len(lessons) + 1
                title = f"Lesson {m + 1}.{p + 1}"
                video = p == 0
                lessons.append((lesson_id, module_id, title, "video" if video else "text",
                                BODY.format(title=title),
                                "https://example.com/video.mp4" if video else "",
                                5 + (lesson_id % 11), p))
                course_lessons[c].append(lesson_id)

    # Popularity falls off with rank, as in any catalog: a few courses hold most learners.
    course_ids = list(course_lessons)
    rng.shuffle(course_ids)
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(course_ids))]
    enrollments: list[list[Any]] = []  # id, user, course, status, created, updated, completed_at
    for user_id in learner_ids:
        wanted = rng.randint(*ENROLLMENTS_PER_LEARNER)
        chosen: set[int] = set()
        while len(chosen) < wanted:
            chosen.add(rng.choices(course_ids, weights)[0])
        for course_id in sorted(chosen):
            enrolled = ago(365, 1)
            completed = rng.random() < COMPLETED_SHARE
            enrollments.append([len(enrollments) + 1, user_id, course_id,
                                "completed" if completed else "active", enrolled, enrolled,
                                None])

    # Lessons done per enrollment: all of them when completed; the rest of the 200,000 spread over
    # the active ones (many barely started, a few far along), never all of a course's lessons.
    per_course = MODULES_PER_COURSE * LESSONS_PER_MODULE
    done = [per_course if e[3] == "completed" else 0 for e in enrollments]
    active = [i for i, e in enumerate(enrollments) if e[3] == "active"]
    budget = size.progress_rows - sum(done)
    mean = budget / len(active)
    for i in active:
        done[i] = min(per_course - 1, int(rng.expovariate(1 / mean)))
    while (total := sum(done)) != size.progress_rows:  # nudge to exactly size.progress_rows
        step = 1 if total < size.progress_rows else -1
        for i in rng.sample(active, min(len(active), abs(size.progress_rows - total))):
            if 0 <= done[i] + step < per_course:
                done[i] += step
    progress, certificates, notifications = [], [], []
    learner_name = {row[0]: row[2] for row in users}
    instructor_of = {row[0]: row[10] for row in courses}
    for (enrollment_id, user_id, course_id, status, enrolled, _, _), count in zip(
            enrollments, done, strict=True):
        moment = enrolled
        for lesson_id in course_lessons[course_id][:count]:  # learners go in order, mostly
            moment = min(now, moment + timedelta(hours=rng.uniform(1, 72)))
            progress.append((len(progress) + 1, user_id, lesson_id, _stamp(moment)))
        enrollment = enrollments[enrollment_id - 1]
        enrollment[5] = moment  # updated_at doubles as "last activity"
        if status == "completed":
            enrollment[6] = moment
            certificates.append((len(certificates) + 1, secrets.token_hex(8).upper(), user_id,
                                 course_id, learner_name[user_id], courses[course_id - 1][2],
                                 learner_name[instructor_of[course_id]], _stamp(moment),
                                 _stamp(moment), ""))
            notifications.append((user_id, "certificate.issued", "Your certificate is ready",
                                  "/certificates", moment))
        if rng.random() < 0.6:  # instructors' course updates, mostly read
            notifications.append((user_id, "course.update", f"{courses[course_id - 1][2]}: news",
                                  f"/courses/{course_slug[course_id]}", ago(60)))
    notification_rows = [(i + 1, user_id, kind, title, "A short message from the course.", link,
                          _stamp(moment), _stamp(moment) if rng.random() < 0.8 else None)
                         for i, (user_id, kind, title, link, moment) in enumerate(notifications)]

    # The round-trip clients: one learner each, on the next lesson of an active enrollment that
    # is not near its end. The capacity clients: other learners, with a login session made here.
    seats: list[Seat] = []
    seated: set[int] = set()
    for index in rng.sample(active, len(active)):
        _, user_id, course_id, _, _, _, _ = enrollments[index]
        if user_id not in seated and done[index] <= per_course - 5:
            seats.append(Seat(f"student{user_id - 1}@example.com", course_slug[course_id],
                              course_lessons[course_id][done[index]]))
            seated.add(user_id)
            if len(seats) == seats_wanted:
                break
    others = [user_id for user_id in learner_ids if user_id not in seated][:capacity_sessions]

    # Transfers waiting for review: learners not enrolled in a paid course, one open each at most.
    paid = [row[0] for row in courses if row[7] > 0]
    taken = {(e[1], e[2]) for e in enrollments}
    payments: list[tuple] = []
    while paid and len(payments) < size.pending_payments:
        user_id, course_id = rng.choice(learner_ids), rng.choice(paid)
        if (user_id, course_id) not in taken:
            taken.add((user_id, course_id))
            moment = _stamp(ago(3))
            payments.append((len(payments) + 1, user_id, course_id, courses[course_id - 1][7],
                             "USD", f"BANK-{len(payments) + 1:07d}", "pending", moment))
    waiting = {row[2] for row in payments}
    instructors: dict[str, list[int]] = {}
    for course in sorted(courses, key=lambda row: row[0] not in waiting):
        instructors.setdefault(f"instructor{course[10] - 1}@example.com", []).append(course[0])
    tokens = [secrets.token_urlsafe(32) for _ in others]
    login_sessions = [(i + 1, hashlib.sha256(token.encode()).hexdigest(), user_id, _stamp(now),
                       _stamp(now + timedelta(days=14)))
                      for i, (token, user_id) in enumerate(zip(tokens, others, strict=True))]

    engine = sa.create_engine(database_url)
    connection = engine.raw_connection()
    counts: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        tables: list[tuple[str, str, list]] = [
            ("users", "id, email, full_name, password_hash, role, is_active, email_reminders, "
                      "created_at, updated_at", users),
            ("categories", "id, name, slug", categories),
            ("courses", "id, slug, title, subtitle, description, level, category_id, price_cents, "
                        "currency, is_published, instructor_id, cover_image_url, created_at, "
                        "updated_at", courses),
            ("modules", "id, course_id, title, position", modules),
            ("lessons", "id, module_id, title, kind, body, video_url, duration_minutes, position",
             lessons),
            ("enrollments", "id, user_id, course_id, status, created_at, updated_at, completed_at",
             [(*e[:4], _stamp(e[4]), _stamp(e[5]), e[6] and _stamp(e[6])) for e in enrollments]),
            ("lesson_progress", "id, user_id, lesson_id, completed_at", progress),
            ("certificates", "id, code, user_id, course_id, student_name, course_title, "
                             "instructor_name, issued_at, file_ready_at, revoked_reason", certificates),
            ("notifications", "id, user_id, kind, title, body, link, created_at, read_at",
             notification_rows),
            ("login_sessions", "id, token_hash, user_id, created_at, expires_at", login_sessions),
            ("payments", "id, user_id, course_id, amount_cents, currency, reference, status, "
                         "created_at", payments),
        ]
        for table, columns, rows in tables:
            counts[table] = _copy(cursor, table, columns, rows)
            # Rows came with their ids: move each sequence past them, or the app's first insert
            # (a login session, a progress row) would collide.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        connection.commit()
    finally:
        connection.close()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as settled:
            # What autovacuum and the checkpointer would otherwise do in the first minutes of the
            # measurements: planner statistics, hint bits and the visibility map for the freshly
            # copied pages (the first reader of each would write it), and the dirty pages on disk.
            settled.exec_driver_sql("VACUUM (ANALYZE)")
            try:
                settled.exec_driver_sql("CHECKPOINT")
            except sa.exc.DBAPIError:  # not allowed to this role: the measurements just start later
                print("(CHECKPOINT not allowed; a checkpoint may fall into the measurements)")
    finally:
        engine.dispose()
    return DataSet(counts=counts, seconds=time.perf_counter() - started, seats=seats,
                   sessions=tokens, instructors=instructors)


# --- Clients -----------------------------------------------------------------------------------

@dataclass
class RoundTripClient:
    """One tab that sends one handler and reads its answer. Reflex handles a tab's events one at a
    time, in order, and each of these handlers answers with exactly one delta, so answers are matched
    to events first in, first out."""

    tab: ReflexTab
    event: str
    reply_var: str  # the var every answer carries
    toggle: bool | None  # Academy: the next value of "completed"; None: the bare counter
    errors: int = 0
    first_error: dict | None = None  # the first answer that was not the expected one, to show


    def payload(self) -> dict:
        if self.toggle is None:
            return {}
        self.toggle = not self.toggle
        return {"completed": self.toggle}

    def check(self, message: dict, expected: bool | None) -> None:
        try:
            value = ReflexTab.var([message], self.reply_var)
        except KeyError:
            value = None
        if value is None or (expected is not None and value is not expected):
            self.errors += 1
            self.first_error = self.first_error or message

    async def emit(self, payload: dict) -> None:
        await self.tab.client.emit("event", {
            "name": self.event, "payload": payload,
            "router_data": {"pathname": self.tab.path, "asPath": self.tab.path, "query": {}},
        }, namespace="/_event")

    async def fire(self) -> float:
        """Send one event, wait for its answer; returns the seconds it took."""
        payload = self.payload()
        start = time.perf_counter()
        await self.emit(payload)
        message = await asyncio.wait_for(self.tab.messages.get(), REPLY_TIMEOUT)
        took = time.perf_counter() - start
        self.check(message, payload.get("completed"))
        return took


async def in_batches(items: Sequence[T], make: Callable[[T], Awaitable[R]],
                     batch: int = 25) -> list[R | BaseException]:
    """`make(item)` for every item, `batch` at a time (connecting hundreds at once would only
    measure the accept queue); a failure is returned in its place, not raised."""
    results: list[R | BaseException] = []
    for start in range(0, len(items), batch):
        results += await asyncio.gather(*(make(item) for item in items[start:start + batch]),
                                        return_exceptions=True)
    return results


async def settle(clients: list[RoundTripClient], quiet: float = 1.0) -> int:
    """Wait until no answer has come for `quiet` seconds and drop what came: after an overload the
    server is still working off its queue, and a late answer must not be taken for the next phase's.
    Returns how many were dropped."""
    dropped = 0
    while True:
        await asyncio.sleep(quiet)
        now = 0
        for client in clients:
            while not client.tab.messages.empty():
                client.tab.messages.get_nowait()
                now += 1
        if not now:
            return dropped
        dropped += now


async def academy_learner(url: str, seat: Seat) -> RoundTripClient:
    """Log in through the form's handler, as a person would, then open the lesson in a fresh tab
    (the login answers with a reload that clears the tab's token: a new Reflex token)."""
    from academy_app.state.account import AccountFormState
    from academy_app.state.learn import LearnState

    tab = ReflexTab(url)
    await tab.connect()
    await tab.open("/login")
    replies = await tab.send(handler_name(AccountFormState, "login"),
                             {"form_data": {"email": seat.email, "password": PASSWORD}},
                             settle=0.2)
    # A failed login never answers with a ticket: this times out.
    await wait_for_var(tab, replies, lambda message: handoff_ticket([message]) is not None)
    await tab.finish_login(replies)  # the login cookie, and a fresh tab (a new Reflex token)
    replies = await open_page(tab, f"/learn/{seat.course_slug}/{seat.lesson_id}", LearnState)
    if not ReflexTab.var(replies, "is_enrolled"):
        raise RuntimeError(f"{seat.email} is not enrolled in {seat.course_slug}")
    return RoundTripClient(tab, handler_name(LearnState, "set_completed"), "is_completed",
                           bool(ReflexTab.var(replies, "is_completed")))


@dataclass(frozen=True)
class BareTab:
    counter: RoundTripClient  # sends the handler that adds one
    writer: RoundTripClient  # sends the handler that writes a row


async def bare_tab(url: str) -> BareTab:
    tab = ReflexTab(url)
    await tab.connect()
    replies = await tab.open("/")

    def client(var: str, handler: str) -> RoundTripClient:
        # A state's path is whatever the server calls it: read it off the hydrate delta, rather
        # than importing the bare app (and a second rx.App) into this process.
        path = next(path for message in replies
                    for path, changes in (message.get("delta") or {}).items()
                    if f"{var}_rx_state_" in changes)
        return RoundTripClient(tab, f"{path}.{handler}", var, None)

    return BareTab(client("count", "increment"), client("rows", "record"))


def connected(results: list, what: str) -> list:
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(results)} {what} failed to connect: "
                           f"{failures[0]!r}") from failures[0]
    return results


# --- Measurements ------------------------------------------------------------------------------

@dataclass
class Latency:
    clients: int
    values: list[float] = field(default_factory=list)  # ms
    lost: int = 0
    errors: int = 0
    worker_cpu: float = 0.0  # share of a core the worker(s) used during the level
    machine_cpu: float = 0.0  # ... and the whole machine (all cores): was anything else running?


async def open_loop(clients: list[RoundTripClient], seconds: float, rng: random.Random,
                    workers: list[int]) -> Latency:
    """Every client sends one event per second at Poisson moments for `seconds`; each event's time
    runs from the moment it was due to its answer, queueing on either side included."""
    result = Latency(len(clients))

    async def one(client: RoundTripClient) -> None:
        due: deque[tuple[float, bool | None]] = deque()
        sending = True

        async def read() -> None:
            while sending or due:
                try:
                    message = await asyncio.wait_for(client.tab.messages.get(), 0.5)
                except TimeoutError:
                    continue  # look again whether anything is still outstanding
                if not due:
                    continue  # nothing outstanding: a push, not an answer
                moment, expected = due.popleft()
                result.values.append((time.perf_counter() - moment) * 1000)
                client.check(message, expected)

        reader = asyncio.create_task(read())
        moment = time.perf_counter() + rng.uniform(0, 1)  # spread the first events over a second
        end = time.perf_counter() + seconds
        while moment < end:
            await asyncio.sleep(max(0.0, moment - time.perf_counter()))
            payload = client.payload()
            due.append((moment, payload.get("completed")))
            await client.emit(payload)
            moment += rng.expovariate(1.0)
        sending = False
        try:
            await asyncio.wait_for(reader, REPLY_TIMEOUT)
        except TimeoutError:
            result.lost += len(due)

    errors_before = sum(c.errors for c in clients)
    began = time.perf_counter()
    worker_before, machine_before = cpu_total(workers), machine_busy_seconds()
    await asyncio.gather(*(one(client) for client in clients))
    took = time.perf_counter() - began
    result.worker_cpu = (cpu_total(workers) - worker_before) / took
    result.machine_cpu = (machine_busy_seconds() - machine_before) / took
    result.errors = sum(c.errors for c in clients) - errors_before
    return result


def cpu_total(pids: list[int]) -> float:
    return sum(cpu_seconds_all(pids).values())


def cpu_used(processes: dict[str, list[int]], before: dict[str, dict[int, float]] | None = None,
             ) -> dict[str, dict[int, float]]:
    """CPU seconds per process of each group; with `before`, what each group used since then
    (processes that ended in between are left out rather than counted negative)."""
    now = {name: cpu_seconds_all(pids) for name, pids in processes.items()}
    if before is None:
        return now
    return {name: {0: sum(used - before[name][pid] for pid, used in per_pid.items()
                          if pid in before[name])} for name, per_pid in now.items()}


@dataclass
class Throughput:
    events: int
    seconds: float
    latencies: list[float]  # ms
    cpu: dict[str, float]  # CPU seconds used in the window: the worker, this process, the servers

    @property
    def per_second(self) -> float:
        return self.events / self.seconds

    def cpu_shares(self) -> str:
        return ", ".join(f"{name} {100 * used / self.seconds:.0f} %" for name, used in self.cpu.items())


async def closed_loop(clients: list[RoundTripClient], seconds: float,
                      processes: dict[str, list[int]], warmup: float = 2.0) -> Throughput:
    """Every client sends its next event as soon as its last is answered; counts the answers that
    arrive inside the window (after a warm-up), so events per second is what the server finished.
    `processes` (the worker, this process, the database's backends, Redis) are the ones whose CPU
    time is taken over the window: who is busy tells what the server waits on."""
    start = time.perf_counter()
    begin, end = start + warmup, start + warmup + seconds
    latencies: list[float] = []
    cpu: dict[str, float] = {}

    async def mark() -> None:
        await asyncio.sleep(begin - time.perf_counter())
        before, busy = cpu_used(processes), machine_busy_seconds()
        await asyncio.sleep(end - time.perf_counter())
        cpu.update({name: used[0] for name, used in cpu_used(processes, before).items()})
        cpu["whole machine"] = machine_busy_seconds() - busy

    async def one(client: RoundTripClient) -> None:
        while time.perf_counter() < end:
            took = await client.fire()
            if begin <= time.perf_counter() <= end:
                latencies.append(took * 1000)

    await asyncio.gather(mark(), *(one(client) for client in clients))
    return Throughput(len(latencies), seconds, latencies, cpu)


@dataclass
class Capacity:
    held: int
    failed: int
    worker_kib: float  # growth of the worker's resident memory, per client
    redis_kib: float  # the tab's state keys in Redis, per client
    steps: list[tuple[int, float, int]]  # clients, seconds to connect the step, worker RSS KiB
    client_cpu: float  # share of a core this process used while connecting
    server_cpu: float  # ... and the worker


def redis_kib_per_tab(tokens: list[str], sample: int = 20) -> float:
    """Reflex keeps each tab's states under keys named `<token>_<state path>`: what a sample of the
    tabs' keys occupy (MEMORY USAGE), rather than Redis's total, which tabs closed earlier and
    their expiry move about."""
    if not tokens:
        return 0.0
    state = redis.Redis.from_url(REDIS_ACADEMY)
    chosen = random.Random(8).sample(tokens, min(sample, len(tokens)))
    total = sum(state.memory_usage(key) or 0 for token in chosen
                for key in state.scan_iter(match=f"{token}_*", count=1000))
    return total / len(chosen) / 1024


async def capacity(url: str, sessions: list[str], steps: tuple[int, ...], worker: int) -> Capacity:
    """Tabs on /dashboard, each a logged-in learner, added step by step until the last step or the
    first failed connection; the worker's memory is read after each step has settled."""
    from academy_app.state.dashboard import DashboardState

    tabs: list[ReflexTab] = []

    async def one(index: int) -> ReflexTab:
        tab = ReflexTab(url, login_token=sessions[index])
        await tab.connect()
        if not ReflexTab.var(await open_page(tab, "/dashboard", DashboardState), "user_name"):
            raise RuntimeError("the dashboard did not know the learner")
        return tab

    await asyncio.sleep(2)
    base = rss_kib(worker)
    done: list[tuple[int, float, int]] = []
    failed = 0
    wall = client_cpu = server_cpu = 0.0
    for target in steps:
        began, client0, server0 = time.perf_counter(), cpu_seconds(os.getpid()), cpu_seconds(worker)
        results = await in_batches(range(len(tabs), target), one, batch=50)
        took = time.perf_counter() - began
        wall += took
        client_cpu += cpu_seconds(os.getpid()) - client0
        server_cpu += cpu_seconds(worker) - server0
        tabs += [r for r in results if not isinstance(r, BaseException)]
        failed = sum(isinstance(r, BaseException) for r in results)
        await asyncio.sleep(3)  # let the worker settle (late writes, garbage) before reading RSS
        done.append((len(tabs), took, rss_kib(worker)))
        print(f"    {len(tabs)} clients held ({failed} failed), connected in {took:.1f} s, worker "
              f"RSS {done[-1][2] / 1024:.0f} MiB", flush=True)
        if failed:
            print(f"    first failure: {next(r for r in results if isinstance(r, BaseException))!r}")
            break
    alive = [tab for tab in tabs if tab.client.connected]
    result = Capacity(held=len(alive), failed=failed,
                      worker_kib=(done[-1][2] - base) / max(len(alive), 1),
                      redis_kib=redis_kib_per_tab([tab.token for tab in alive]), steps=done,
                      client_cpu=client_cpu / wall, server_cpu=server_cpu / wall)
    await in_batches(tabs, ReflexTab.close, batch=100)
    return result


@dataclass
class ModeResult:
    latency: list[Latency]
    academy: Throughput
    bare: Throughput
    bare_writes: Throughput
    capacity: Capacity | None  # measured with one worker only


def worker_pid(url: str) -> int:
    """The process that holds the clients' sockets: of those serving the port, the one with the
    most sockets once a client is connected (the server's main process only listens)."""
    pids = serving_pids(urlsplit(url).port or 80)
    if not pids:
        raise RuntimeError(f"no process serves {url}")
    return max(pids, key=open_sockets)


def workers_of(url: str) -> list[int]:
    """The processes serving `url` (the server's main process, whose CPU is next to none, and its
    workers): the CPU of them all is the server's."""
    return serving_pids(urlsplit(url).port or 80)


async def measure_mode(academy_url: str, bare_url: str, database_url: str, data: DataSet,
                       plan: Plan, mode: Mode, monitor: Monitor,
                       capacity_too: bool = True) -> ModeResult:
    """One mode, both apps running: round trips, saturation, then (with one worker, unless not
    `capacity_too`) capacity (last, because it fills the worker with a thousand tabs)."""
    rng = random.Random(7)
    count = max(*plan.levels, plan.saturation_clients)
    began = time.perf_counter()
    learners = connected(await in_batches(data.seats[:count], partial(academy_learner, academy_url),
                                          batch=20), "learners")
    await settle(learners)  # the pages' other on_load answers (the bell) must not pass for replies
    worker, workers = worker_pid(academy_url), workers_of(academy_url)
    print(f"  {count} learners logged in and on a lesson in {time.perf_counter() - began:.1f} s "
          f"(serving pids {workers})", flush=True)

    async def warm_up(client: RoundTripClient) -> None:
        await client.fire()
        await client.fire()  # two events: the lesson is as it was

    connected(await in_batches(learners, warm_up, batch=50), "warm-up events")

    latency = []
    for level in plan.levels:
        async with monitor.async_phase(f"{mode.name}, mark complete, open loop, {level} clients"):
            result = await open_loop(learners[:level], plan.level_seconds, rng, workers)
        await settle(learners[:level])
        latency.append(result)
        p50, p95, p99 = percentiles(result.values)
        print(f"  mark complete, open loop, {level} clients: p50/p95/p99 {p50:.1f}/{p95:.1f}/"
              f"{p99:.1f} ms over {len(result.values)} events ({result.lost} lost, "
              f"{result.errors} wrong); CPU (% of a core): worker {100 * result.worker_cpu:.0f} %, "
              f"whole machine {100 * result.machine_cpu:.0f} %", flush=True)

    bare_tabs = connected(await in_batches([bare_url] * plan.saturation_clients, bare_tab),
                          "bare clients")
    bare = [tab.counter for tab in bare_tabs]
    await settle(bare)
    saturated = []
    for side, clients, pids in (("Academy mark complete", learners, workers),
                                ("bare counter", bare, workers_of(bare_url)),
                                ("bare row writer", [tab.writer for tab in bare_tabs],
                                 workers_of(bare_url))):
        # One event each first: the bare writer opens its database connections, whose server
        # processes are then among those whose CPU is taken.
        connected(await in_batches(clients, RoundTripClient.fire, batch=50), f"{side} warm-up")
        await settle(clients)
        processes = {"worker": pids, "clients": [os.getpid()],
                     "PostgreSQL": database_backends(database_url), "Redis": pids_named("redis-server")}
        async with monitor.async_phase(f"{mode.name}, saturation, {side}"):
            result = await closed_loop(clients[:plan.saturation_clients],
                                       plan.saturation_seconds, processes)
        await settle(clients)
        saturated.append(result)
        print(f"  saturation, {side}, {plan.saturation_clients} clients: {result.per_second:.0f} "
              f"events/s, p50/p95 {statistics.median(result.latencies):.0f}/"
              f"{percentiles(result.latencies)[1]:.0f} ms; worker CPU per event "
              f"{1000 * result.cpu['worker'] / max(result.events, 1):.2f} ms; CPU (% of a core): "
              f"{result.cpu_shares()}", flush=True)
    wrong = [client for client in learners + bare if client.errors]
    if wrong:
        print(f"  WARNING: {sum(client.errors for client in wrong)} answers did not carry the "
              f"expected value; the first: {str(wrong[0].first_error)[:600]}", flush=True)
    await in_batches([client.tab for client in learners + bare], ReflexTab.close, batch=100)
    if mode.workers > 1 or not capacity_too:
        return ModeResult(latency, *saturated, capacity=None)

    print(f"  capacity: learners on /dashboard, in steps of {plan.capacity_steps}", flush=True)
    async with monitor.async_phase(f"{mode.name}, capacity"):
        held = await capacity(academy_url, data.sessions, plan.capacity_steps, worker)
    print(f"  capacity: {held.held} held, {held.worker_kib:.0f} KiB per client in the worker, "
          f"{held.redis_kib:.0f} KiB in Redis; while connecting the worker used "
          f"{100 * held.server_cpu:.0f} % and the clients {100 * held.client_cpu:.0f} % of a core",
          flush=True)
    return ModeResult(latency, *saturated, capacity=held)


async def measure_capacity_alone(academy_url: str, data: DataSet, plan: Plan, mode: Mode,
                                 monitor: Monitor) -> Capacity:
    """The capacity phase without the phases before it (--capacity-only). Those leave the worker
    warm (caches filled, pools open, lazy imports done), so warm-up tabs of other learners come and
    go first here, or the first step would carry what a worker pays once."""
    plain = ReflexTab(academy_url)  # the worker is the process holding a client's socket
    await plain.connect()
    worker = worker_pid(academy_url)
    await plain.close()
    warm = data.sessions[plan.capacity_steps[-1]:]
    print(f"  warm-up: {len(warm)} learners on /dashboard, then gone", flush=True)
    await capacity(academy_url, warm, (len(warm),), worker)
    print(f"  capacity: learners on /dashboard, in steps of {plan.capacity_steps}", flush=True)
    async with monitor.async_phase(f"{mode.name}, capacity"):
        held = await capacity(academy_url, data.sessions, plan.capacity_steps, worker)
    print(f"  capacity: {held.held} held, {held.worker_kib:.0f} KiB per client in the worker, "
          f"{held.redis_kib:.0f} KiB in Redis", flush=True)
    return held


# --- Further measurements and the table --------------------------------------------------------

@dataclass(frozen=True)
class Row:
    measure: str
    mode: str  # Reflex state manager mode, or "—" when it does not apply
    clients: str
    result: str
    target: str
    met: bool | None  # None: no target, or not measured


@dataclass(frozen=True)
class Measurement:
    """A measurement that runs against the filled database once the app runs are done. `run` gets
    the database URL and returns its rows; with no rows, the table keeps a placeholder row."""

    measure: str
    target: str
    run: Callable[[str], list[Row]]


def measure_dashboard(database_url: str) -> list[Row]:
    """The dashboard's data load for 400 learners of this data set, server-side, cache cold / warm
    / off, interleaved (bench/cache_reads.py)."""
    times = cache_reads.time_dashboard(database_url)
    p95 = percentiles(times.warm)[1]
    return [Row(f"dashboard data load, p50 / p95 (ms), cold cache / warm cache / cache off "
                f"({len(times.warm)} learners, {times.courses:.1f} courses each)", "—", "—",
                f"{cache_reads.summarise(times.cold)} / {cache_reads.summarise(times.warm)} / "
                f"{cache_reads.summarise(times.off)}", f"warm p95 ≤ {DASHBOARD_TARGET_MS:.0f} ms",
                p95 <= DASHBOARD_TARGET_MS)]


def measure_hit_ratio(database_url: str) -> list[Row]:
    """The cache's hit ratio over a replayed read-heavy mix of page loads (bench/cache_reads.py)."""
    replay = cache_reads.replay_hit_ratio(database_url)
    kinds = ", ".join(f"{kind} {100 * ratio:.1f} %" for kind, ratio in replay.per_kind.items())
    return [Row(f"cache hit ratio over {replay.operations:,} replayed page loads and writes "
                f"(after the first {cache_reads.REPLAY_WARM_UP:,}; by kind: {kinds})", "—", "—",
                f"{100 * replay.steady:.1f} % ({100 * replay.overall:.1f} % with the warm-up)",
                f"≥ {100 * HIT_RATIO_TARGET:.0f} %", replay.steady >= HIT_RATIO_TARGET)]


EXTRA_MEASUREMENTS: list[Measurement] = [
    Measurement("dashboard data load, cold / warm cache / cache off",
                f"warm p95 ≤ {DASHBOARD_TARGET_MS:.0f} ms", measure_dashboard),
    Measurement("cache hit ratio", f"≥ {100 * HIT_RATIO_TARGET:.0f} %", measure_hit_ratio),
]


def mode_rows(mode: str, result: ModeResult, plan: Plan) -> list[Row]:
    rows = []
    for level in result.latency:
        p50, p95, p99 = percentiles(level.values)
        lost = (f", {level.lost} lost" if level.lost else "") + (
            f", {level.errors} without the expected delta" if level.errors else "")
        rows.append(Row("mark as complete round trip, open loop (1 event/s per client), "
                        "p50 / p95 / p99", mode, str(level.clients),
                        f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms ({len(level.values)} events{lost})",
                        f"p95 < {ROUND_TRIP_TARGET_MS:.0f} ms",
                        p95 < ROUND_TRIP_TARGET_MS and not level.lost and not level.errors))
    ratio = result.academy.per_second / result.bare.per_second
    per_event = [1000 * side.cpu["worker"] / max(side.events, 1)
                 for side in (result.academy, result.bare)]
    rows.append(Row(f"saturation, closed loop for {plan.saturation_seconds:.0f} s: events/s, "
                    "Academy mark as complete / bare Reflex counter (worker CPU per event)", mode,
                    str(plan.saturation_clients),
                    f"{result.academy.per_second:.0f} / {result.bare.per_second:.0f} "
                    f"= {100 * ratio:.0f} % ({per_event[0]:.1f} / {per_event[1]:.2f} ms)",
                    f"≥ {100 * RATIO_TARGET:.0f} % of bare", ratio >= RATIO_TARGET))
    writes = result.bare_writes
    rows.append(Row("saturation as above: events/s of a bare Reflex handler that writes one row "
                    "to PostgreSQL, a fairer floor (worker CPU per event)", mode,
                    str(plan.saturation_clients),
                    f"{writes.per_second:.0f}: Academy's mark as complete = "
                    f"{100 * result.academy.per_second / writes.per_second:.0f} % of it "
                    f"({1000 * writes.cpu['worker'] / max(writes.events, 1):.2f} ms)",
                    "— (to read the row above)", None))
    if result.capacity is not None:
        rows.append(capacity_row(mode, result.capacity, plan))
    return rows


def capacity_row(mode: str, held: Capacity, plan: Plan) -> Row:
    return Row("clients held by one worker, hydrated on /dashboard; memory per client "
               "(worker RSS, Redis)", mode, f"up to {plan.capacity_steps[-1]}",
               f"{held.held} held ({held.failed} failed); {held.worker_kib:.0f} KiB + "
               f"{held.redis_kib:.0f} KiB", f"{CAPACITY_TARGET:,} per worker",
               held.held >= CAPACITY_TARGET and not held.failed)


def table(rows: list[Row]) -> str:
    lines = ["| Measure | Reflex state | Clients | Result | Target | Met |",
             "|---|---|---:|---:|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "—"}[row.met]
        lines.append(f"| {row.measure} | {row.mode} | {row.clients} | {row.result} | {row.target} "
                     f"| {met} |")
    return "\n".join(lines)


def raise_open_file_limit() -> None:
    """Every client is a socket here and in the worker (which inherits this limit): 1,000 clients
    and their HTTP sessions need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md (not with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="few clients, a few seconds per phase: to try it out, not to quote")
    parser.add_argument("--workers", type=int, nargs="+", metavar="N",
                        help="compare backend worker counts (e.g. 2 5): only the production mode "
                             "(Redis + oplock) with each count and no extra measurements; the "
                             "table is printed, never written to the docs")
    parser.add_argument("--capacity-only", action="store_true",
                        help="only the capacity phase (memory per tab), in the one-worker modes, "
                             "after warm-up tabs; no bare app and no extra measurements; the "
                             "table is printed, never written to the docs")
    parser.add_argument("--events-only", action="store_true",
                        help="only the round trips and the saturation: no capacity, no extra "
                             "measurements, never written to the docs (A/B runs of a change to "
                             "the write path, e.g. with --workers 1)")
    add_server_option(parser)
    args = parser.parse_args()
    use_server(args.server)
    modes = MODES if not args.workers else tuple(
        Mode(f"Redis + oplock, {n} workers", oplock=True, workers=n) for n in args.workers)
    if args.capacity_only:
        modes = tuple(mode for mode in modes if mode.workers == 1)
    plan = QUICK if args.quick else FULL
    raise_open_file_limit()
    run_started = time.perf_counter()
    rows: list[Row] = []
    monitor = Monitor()
    with throwaway_database() as database_url:
        migrate(database_url)
        data = build_data_set(database_url, capacity_sessions=plan.capacity_steps[-1]
                              + (CAPACITY_WARM_UP if args.capacity_only else 0),
                              seats_wanted=max(*plan.levels, plan.saturation_clients))
        print(f"Data set built in {data.seconds:.1f} s: "
              + ", ".join(f"{count:,} {name}" for name, count in data.counts.items()), flush=True)
        # This process reads Academy's settings like the app does (the extra measurements use them).
        os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_ACADEMY)
        from academy_app.db import get_engine
        from academy_app.settings import get_settings
        from tests.appserver import running_app

        get_settings.cache_clear()
        get_engine.cache_clear()
        for mode in modes:
            for url in (REDIS_ACADEMY, REDIS_BARE):
                redis.Redis.from_url(url).flushdb()
            # read by both backends at start
            os.environ["REFLEX_OPLOCK_ENABLED"] = "true" if mode.oplock else "false"
            if args.capacity_only:
                print(f"{mode.name}: Academy, one backend worker…", flush=True)
                with (tempfile.TemporaryDirectory() as tmp,
                      running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                                  database_url=database_url,
                                  extra_env=workers_env(1)) as app):
                    held = asyncio.run(measure_capacity_alone(app.url, data, plan, mode, monitor))
                rows.append(capacity_row(mode.name, held, plan))
                continue
            print(f"{mode.name}: Academy and bare Reflex, {mode.workers} backend worker(s) each…",
                  flush=True)
            with (tempfile.TemporaryDirectory() as tmp,
                  running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                              database_url=database_url,
                              extra_env={"ACADEMY_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
                                         **workers_env(mode.workers)}) as app,
                  bare_reflex(Path(tmp), REDIS_BARE, database_url=database_url,
                              workers=mode.workers) as bare_url):
                result = asyncio.run(measure_mode(app.url, bare_url, database_url, data, plan,
                                                  mode, monitor, capacity_too=not args.events_only))
            rows += mode_rows(mode.name, result, plan)
        for extra in EXTRA_MEASUREMENTS if not (args.workers or args.capacity_only
                                                or args.events_only) else ():
            with monitor.phase(extra.measure):
                rows += extra.run(database_url) or [Row(extra.measure, "—", "—",
                                                        "not measured yet", extra.target, None)]
        get_engine().dispose()
    text = (f"Data set: {data.counts['users']:,} users, {data.counts['courses']} courses, "
            f"{data.counts['lessons']:,} lessons, {data.counts['enrollments']:,} enrollments, "
            f"{data.counts['lesson_progress']:,} lesson-progress rows (built in "
            f"{data.seconds:.0f} s).\n\n" + table(rows))
    print(f"\nWhole run: {(time.perf_counter() - run_started) / 60:.1f} min")
    if args.quick:
        print("(--quick: fewer clients and shorter phases; not comparable with the targets)")
    publish("learning", text, monitor,
            write=args.update_docs and not (args.quick or args.workers or args.capacity_only
                                            or args.events_only))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
