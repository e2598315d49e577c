"""Quizzes under load: grading a 20-question attempt, and 100 learners submitting in one second.

    make bench                                    # runs this (and the other benchmarks)
    .venv/bin/python -m bench.quizzes [--update-docs] [--quick]

A throwaway PostgreSQL database is migrated and given a course with a text lesson and a 20-question
quiz mixing every question type (three of each, two matching), learners enrolled in it, each with
a login session made here (logging in is bench/learning.py's and bench/day.py's to time), and the
instructor's. The text lesson stays unread, so a pass never issues a certificate: its PDF and mail
would be timed with the grading otherwise. Every attempt is started and its 20 answers saved
through the services beforehand (right for some questions, wrong for others, so scores spread):
what is timed is the submit alone.

- Grading, service level: `attempts.submit_attempt` in this process (grading, recording the
  outcome, updating the learner's progress), one transaction each, committed; learner after learner.
- Grading over the socket: Academy as one backend worker with Reflex's Redis state manager and
  REFLEX_OPLOCK_ENABLED (production's settings). Each learner's tab (tests/wsclient.py) is on the
  quiz lesson, its open attempt resumed; it sends the page's Submit handler and the time runs until
  the delta with the score comes back. One learner at a time: grading as the server does it, idle.
- A burst: other learners, each on the quiz lesson with an answered attempt open, submit at random
  moments within one second (open loop: each time runs from the moment its submit was due, so a
  slow server cannot hide behind clients that wait). p50 / p95 / max time until each has its score;
  then the database must hold exactly one submitted attempt per learner of the burst, and the
  instructor's results page, open in a tab of its own, must show them all without a reload: the time
  from the first submit until it does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bench.common import ROOT, migrate, percentiles, throwaway_database
from bench.learning import REDIS_ACADEMY, connected, in_batches, raise_open_file_limit
from bench.machine import Monitor
from bench.report import publish
from tests.wsclient import HYDRATE_AND_LOAD, ReflexTab, handler_name, iter_vars

# bench/learning.py's Redis database for Academy (no test uses it; `make bench` runs one at a time).
REDIS_QUIZZES = REDIS_ACADEMY
QUESTIONS = 20
REPLY_TIMEOUT = 30.0  # a score later than this counts as lost


@dataclass(frozen=True)
class Plan:
    service_attempts: int  # graded in this process
    socket_attempts: int  # graded over the socket, one at a time
    burst: int  # learners submitting within one second


FULL = Plan(service_attempts=200, socket_attempts=100, burst=100)
QUICK = Plan(service_attempts=10, socket_attempts=5, burst=10)

# Three questions of each kind (two matching): a 20-question quiz. Right answers name positions in
# the spec, as a learner's response does; a wrong one scores nothing.
QUESTION_SPECS: dict[str, dict[str, Any]] = {
    "single": {"options": [{"text": "Paris", "correct": True}, {"text": "Lyon"},
                           {"text": "Nice"}, {"text": "Lille"}]},
    "multiple": {"options": [{"text": "2", "correct": True}, {"text": "3", "correct": True},
                             {"text": "4"}, {"text": "9"}], "scoring": "per_option",
                 "penalty": 0.5},
    "true_false": {"answer": True},
    "numeric": {"answer": 3.14, "tolerance": 1, "tolerance_kind": "percent"},
    "short_text": {"accepted": ["Guido van Rossum", "Guido"], "regex": "^g(uido)?\\b"},
    "ordering": {"items": ["plan", "build", "ship", "learn", "repeat"]},
    "matching": {"pairs": [["cat", "meow"], ["dog", "woof"], ["cow", "moo"], ["duck", "quack"]]},
}
RIGHT: dict[str, dict[str, Any]] = {
    "single": {"choice": 0}, "multiple": {"choices": [0, 1]}, "true_false": {"value": True},
    "numeric": {"value": "3.141"}, "short_text": {"text": " guido  VAN rossum"},
    "ordering": {"order": [0, 1, 2, 3, 4]},
    "matching": {"matches": {"0": 0, "1": 1, "2": 2, "3": 3}}}
WRONG: dict[str, dict[str, Any]] = {
    "single": {"choice": 2}, "multiple": {"choices": [2]}, "true_false": {"value": False},
    "numeric": {"value": "2.5"}, "short_text": {"text": "Linus"},
    "ordering": {"order": [4, 3, 2, 1, 0]},
    "matching": {"matches": {"0": 1, "1": 0, "2": 3, "3": 2}}}


def question_kinds(count: int = QUESTIONS) -> list[str]:
    kinds = list(QUESTION_SPECS)
    return [kinds[i % len(kinds)] for i in range(count)]


@dataclass(frozen=True)
class Lab:
    """What the run made: the quiz, where it is taken, and who takes it."""

    quiz_id: int
    lesson_path: str  # /learn/<slug>/<lesson id>
    results_path: str  # the instructor's results page
    instructor_token: str  # a login session of the instructor
    learners: list[tuple[int, str]]  # (user id, login token), each enrolled


def build_lab(engine: sa.Engine, learners: int) -> Lab:
    """The course, its quiz and `learners` enrolled learners, through the services (so the rows
    are what the app makes); the password hash is computed once and shared: the log-in is not
    what is measured here."""
    from academy_app.models import Role, User
    from academy_app.services import accounts, authoring, enrollment, quizzes
    from academy_app.services.quizzes import QuestionForm, QuizSettingsForm

    tag = os.urandom(3).hex()
    with Session(engine, expire_on_commit=False) as session:
        password = accounts.hash_password("bench-password-123")
        instructor = User(full_name="Bench Instructor", email=f"quiz-bench-{tag}@example.com",
                          password_hash=password, role=Role.INSTRUCTOR)
        session.add(instructor)
        session.flush()
        course = authoring.create_course(session, instructor, authoring.CourseForm(
            title=f"Quiz bench {tag}"))
        module = authoring.add_module(session, instructor, course.id, "Checkpoints")
        authoring.add_lesson(session, instructor, module.id, authoring.LessonForm(
            title="Read me first", body="Left unread: a pass never completes the course."))
        quiz = quizzes.create_quiz(session, instructor, module.id, "Twenty questions",
                                   QuizSettingsForm(pass_percent="50"))
        for number, kind in enumerate(question_kinds(), start=1):
            quizzes.add_quiz_question(session, instructor, quiz.id, QuestionForm(
                kind, f"Question {number}: **{kind.replace('_', ' ')}**?", QUESTION_SPECS[kind],
                explanation="Because it is so."))
        authoring.set_published(session, instructor, course.id, True)
        people = [User(full_name=f"Learner {i}", email=f"quiz-bench-{tag}-{i}@example.com",
                       password_hash=password) for i in range(learners)]
        session.add_all(people)
        session.flush()
        for person in people:
            enrollment.enroll_free(session, person, course.id)
        tokens = [(person.id, accounts.start_session(session, person)) for person in people]
        instructor_token = accounts.start_session(session, instructor)
        session.commit()
        return Lab(quiz_id=quiz.id, lesson_path=f"/learn/{course.slug}/{quiz.lesson_id}",
                   results_path=f"/admin/quizzes/{quiz.id}/results",
                   instructor_token=instructor_token, learners=tokens)


def open_answered_attempt(engine: sa.Engine, quiz_id: int, user_id: int, seed: int) -> int:
    """Start the learner's attempt and save an answer to each of its questions (right or wrong at
    random, each answer a transaction as the page saves it); the attempt's id."""
    from academy_app.models import User
    from academy_app.services import attempts

    rng = random.Random(seed)
    with Session(engine, expire_on_commit=False) as session:
        learner = session.get_one(User, user_id)
        view = attempts.start_attempt(session, learner, quiz_id)
        session.commit()
        for question in view.questions:
            kind = question.kind.value
            attempts.save_answer(session, learner, view.attempt_id, question.version_id,
                                 (RIGHT if rng.random() < 0.7 else WRONG)[kind])
            session.commit()
        return view.attempt_id


def grade_in_process(engine: sa.Engine, lab: Lab, learners: list[tuple[int, str]]
                     ) -> list[float]:
    """Each learner's answered attempt submitted through the service, one after another: the
    milliseconds each submit took, commit included."""
    from academy_app.models import User
    from academy_app.services import attempts

    times = []
    for user_id, _ in learners:
        attempt_id = open_answered_attempt(engine, lab.quiz_id, user_id, seed=user_id)
        with Session(engine, expire_on_commit=False) as session:
            learner = session.get_one(User, user_id)
            started = time.perf_counter()
            result = attempts.submit_attempt(session, learner, attempt_id)
            session.commit()
            times.append((time.perf_counter() - started) * 1000)
        if len(result.questions) != QUESTIONS:
            raise RuntimeError(f"an attempt had {len(result.questions)} questions")
    return times


def submitted_attempts(engine: sa.Engine, quiz_id: int, user_ids: list[int]) -> int:
    from academy_app.models import QuizAttempt

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz_id, col(QuizAttempt.user_id).in_(user_ids),
            col(QuizAttempt.submitted_at).is_not(None))).one()


# --- Over the socket ---------------------------------------------------------------------------

def _value(message: dict, name: str) -> Any:
    """The value a message sends for a var of this name, or None."""
    return next((value for _, key, value in iter_vars(message) if key == name), None)


async def wait_for(tab: ReflexTab, found: Callable[[dict], bool],
                   timeout: float = REPLY_TIMEOUT) -> dict:
    """The tab's next message that satisfies `found` (earlier ones are dropped)."""
    end = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(tab.messages.get(), end - time.monotonic())
        if found(message):
            return message


async def learner_on_quiz(url: str, lab: Lab, token: str) -> ReflexTab:
    """A learner's tab on the quiz lesson, its open attempt resumed (the page does that itself)."""
    tab = ReflexTab(url, login_token=token)
    await tab.connect()
    tab.path = lab.lesson_path
    await tab.client.emit("event", {"name": HYDRATE_AND_LOAD, "payload": {"vars": {}},
                                    "router_data": {"pathname": tab.path, "asPath": tab.path,
                                                    "query": {}}}, namespace="/_event")
    await wait_for(tab, lambda message: _value(message, "mode") == "taking")
    await asyncio.sleep(0.3)  # the rest of the page's on_load answers
    while not tab.messages.empty():
        tab.messages.get_nowait()
    return tab


async def submit(tab: ReflexTab, due: float | None = None) -> float:
    """Send Submit (at `due`, a perf_counter moment, if given); milliseconds from the moment it
    was due (or sent) until the score came back."""
    from academy_app.state.quiz import QuizState

    if due is not None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    start = due if due is not None else time.perf_counter()
    await tab.client.emit("event", {
        "name": handler_name(QuizState, "submit"), "payload": {},
        "router_data": {"pathname": tab.path, "asPath": tab.path, "query": {}},
    }, namespace="/_event")
    await wait_for(tab, lambda message: bool(_value(message, "result_score")))
    return (time.perf_counter() - start) * 1000


async def instructor_on_results(url: str, lab: Lab) -> ReflexTab:
    tab = ReflexTab(url, login_token=lab.instructor_token)
    await tab.connect()
    replies = await tab.open(lab.results_path)
    if not any(_value(message, "title") for message in replies):
        await wait_for(tab, lambda message: bool(_value(message, "title")))
    return tab


@dataclass
class Burst:
    times: list[float] = field(default_factory=list)  # ms, from due to score, per learner
    lost: int = 0  # no score within REPLY_TIMEOUT
    last_ms: float = 0.0  # first submit due → the last learner has a score
    recorded: int = 0  # submitted attempts of the burst's learners in the database
    instructor_ms: float | None = None  # first submit due → the results page counts them all


async def socket_run(url: str, engine: sa.Engine, lab: Lab, one_by_one: list[tuple[int, str]],
                     burst: list[tuple[int, str]], monitor: Monitor
                     ) -> tuple[list[float], Burst]:
    for user_id, _ in one_by_one + burst:
        await asyncio.to_thread(open_answered_attempt, engine, lab.quiz_id, user_id, user_id)
    tabs = connected(await in_batches([token for _, token in one_by_one],
                                      partial(learner_on_quiz, url, lab), batch=20),
                     "learners, one at a time")
    await submit(tabs[0])  # a first submit warms the worker's connections and caches: not timed
    sequential = []
    async with monitor.async_phase(f"grading over the socket, {len(tabs) - 1} submits in turn"):
        for tab in tabs[1:]:
            sequential.append(await submit(tab))
    await in_batches(tabs, ReflexTab.close, batch=100)

    crowd = connected(await in_batches([token for _, token in burst],
                                       partial(learner_on_quiz, url, lab), batch=20),
                      "learners of the burst")
    instructor = await instructor_on_results(url, lab)
    expected = submitted_attempts(engine, lab.quiz_id, [user_id for user_id, _ in lab.learners]
                                  ) + len(crowd)
    result = Burst()
    rng = random.Random(17)
    began = time.perf_counter() + 0.5
    dues = sorted(began + rng.uniform(0, 1) for _ in crowd)

    async def watch() -> None:
        await wait_for(instructor, lambda message: _value(message, "attempts") == expected,
                       timeout=REPLY_TIMEOUT + 2)
        result.instructor_ms = (time.perf_counter() - dues[0]) * 1000

    async with monitor.async_phase(f"burst: {len(crowd)} learners submit within one second"):
        watcher = asyncio.create_task(watch())
        scored: list[float] = []

        async def one(tab: ReflexTab, due: float) -> float:
            took = await submit(tab, due)
            scored.append(time.perf_counter())
            return took

        outcomes = await asyncio.gather(
            *(one(tab, due) for tab, due in zip(crowd, dues, strict=True)),
            return_exceptions=True)
        with contextlib.suppress(TimeoutError):  # instructor_ms stays None: the table says so
            await watcher
    result.times = [o for o in outcomes if isinstance(o, float)]
    result.lost = len(outcomes) - len(result.times)
    result.last_ms = (max(scored) - dues[0]) * 1000 if scored else 0.0
    result.recorded = submitted_attempts(engine, lab.quiz_id, [user_id for user_id, _ in burst])
    await in_batches([*crowd, instructor], ReflexTab.close, batch=100)
    return sequential, result


# --- The table ---------------------------------------------------------------------------------

def summary(times: list[float]) -> str:
    if len(times) < 2:
        return "not measured"
    p50, p95, _ = percentiles(times)
    return f"{p50:.1f} / {p95:.1f} / {max(times):.1f} ms ({len(times)} submits)"


def table(service: list[float], socket: list[float], burst: Burst, size: int) -> str:
    """The figures, without targets: the issue asks for them to be measured, and `--update-docs`
    records them from a quiet machine. What must hold whatever the speed (every learner of the
    burst scored, exactly one attempt recorded each) is marked when it does not."""
    lost = f", **{burst.lost} without a score**" if burst.lost else ""
    recorded = f"{burst.recorded} of {size}"
    instructor = ("**not within 30 s**" if burst.instructor_ms is None
                  else f"{burst.instructor_ms:.0f} ms")
    rows = [
        ("grading a 20-question attempt, service level (submit + commit), p50 / p95 / max",
         summary(service)),
        ("grading a 20-question attempt over the socket (Submit → score), one at a time, "
         "p50 / p95 / max", summary(socket)),
        (f"{size} learners submit within one second (open loop): due → score, p50 / p95 / max",
         summary(burst.times) + lost),
        ("… first submit due → the last learner has a score", f"{burst.last_ms:.0f} ms"),
        ("… first submit due → the instructor's open results page counts them all", instructor),
        ("… attempts recorded for the burst's learners (exactly one each)",
         recorded if burst.recorded == size else f"**{recorded}**"),
    ]
    lines = ["| Measure | Result |", "|---|---:|"]
    lines += [f"| {measure} | {result} |" for measure, result in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md (not with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a few learners: to try it out, not to quote")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    raise_open_file_limit()
    monitor = Monitor()
    with throwaway_database() as database_url:
        migrate(database_url)
        # This process reads Academy's settings as the app does: the services use them.
        os.environ.update(REFLEX_DB_URL=database_url, REFLEX_REDIS_URL=REDIS_QUIZZES)
        from academy_app.db import get_engine
        from academy_app.settings import get_settings
        from tests.appserver import running_app

        get_settings.cache_clear()
        get_engine.cache_clear()
        engine = get_engine()
        wanted = plan.service_attempts + plan.socket_attempts + 1 + plan.burst
        began = time.perf_counter()
        lab = build_lab(engine, wanted)
        print(f"A course with a {QUESTIONS}-question quiz and {wanted} learners in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        learners = iter(lab.learners)
        in_process = [next(learners) for _ in range(plan.service_attempts)]
        one_by_one = [next(learners) for _ in range(plan.socket_attempts + 1)]
        burst = list(learners)
        with monitor.phase(f"grading in process, {len(in_process)} submits in turn"):
            service = grade_in_process(engine, lab, in_process)
        print(f"  service level: {summary(service)}", flush=True)
        redis.Redis.from_url(REDIS_QUIZZES).flushdb()
        os.environ["REFLEX_OPLOCK_ENABLED"] = "true"
        with (tempfile.TemporaryDirectory() as tmp,
              running_app(Path(tmp), redis_url=REDIS_QUIZZES, backend_only=True,
                          database_url=database_url) as app):
            socket, crowd = asyncio.run(socket_run(app.url, engine, lab, one_by_one, burst,
                                                   monitor))
        print(f"  over the socket: {summary(socket)}; burst: {summary(crowd.times)}, "
              f"{crowd.recorded} recorded", flush=True)
        engine.dispose()
    text = (f"One backend worker, Redis state manager with oplock; a {QUESTIONS}-question quiz "
            "(every type); every attempt answered before it is submitted.\n\n"
            + table(service, socket, crowd, plan.burst))
    if args.quick:
        print("(--quick: a few learners; not comparable with the targets)")
    publish("quizzes", text, monitor, write=args.update_docs and not args.quick)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
