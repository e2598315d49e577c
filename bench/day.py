"""A day at the academy: how many learners, doing what learners do, one host serves.

    .venv/bin/python -m bench.day                     # ramp 500, 1,000, 2,000, 4,000, 8,000
    .venv/bin/python -m bench.day --steps 500,1000 --think 20 --step-seconds 120 [--update-docs]
    .venv/bin/python -m bench.day --steps 20 --think 2 --step-seconds 5   # does it work? (smoke)

One host, as production runs it: Academy as `reflex run --env prod --backend-only` with
REFLEX_OPLOCK_ENABLED and one backend worker per core, on Reflex's Redis state manager; PostgreSQL
and Redis on the same machine; and the clients on the same machine too, in one process or
`--client-processes N`, so their CPU (printed for each step, with the busiest process's: near one
core, the clients are the limit) is taken from the same cores.

The data: the seed's one size is "~500+ concurrent users" (shared/seed/IMPROVEMENTS_SUMMARY.md);
ten times that, 5,000 users, or twice the ramp's last step if that is more (so at most half the
registered learners are ever online), filled in bulk (COPY) by bench/learning.py's loader with its
courses, enrollments, lesson progress, certificates and notifications in proportion, plus payments
waiting for review.

The load model, through the app's own event handlers (tests/wsclient.py speaks Reflex's protocol):
each learner logs in through the login form (and the session hand-off, and the dashboard), then
repeats the day: dashboard, course page, lesson, mark complete, next lesson, search the catalog,
open the notifications; between two actions the learner thinks for an exponentially distributed time
(mean `--think`, 20 s). A few instructors (`--instructors`) log in and, thinking as long, open the
payment queue, approve the first waiting transfer it shows, and now and then broadcast an update to
one of their courses. Each action is timed from its event until the page's data has arrived.

The ramp: first a few learners (four per core) go through one round of the day unmeasured, so that
no step pays for the workers' first events. Then at each step new learners arrive (spread over
`--arrival-seconds`) until the step's number is online, then all keep going for `--step-seconds`.
Per step: p50/p95/p99 of each action, errors, failed connections, the workers' memory per learner
and CPU, the clients' CPU, and the machine's state (bench/machine.py). A step is good when every
action's p95 is within its threshold and nothing failed; the learners one host serves is the last
good step before the first that is not. The ramp goes on past a slow step to draw the curve (a PNG
of p95 per action against learners, docs/day.png with --update-docs) and stops after a step where
something failed or a p95 passed --give-up-ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import pairwise, takewhile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import redis

from bench.common import (
    ROOT,
    cpu_seconds_all,
    migrate,
    percentiles,
    rss_kib,
    throwaway_database,
)
from bench.learning import (
    LEARNING,
    PASSWORD,
    REDIS_ACADEMY,
    REPLY_TIMEOUT,
    DataSet,
    Seat,
    build_data_set,
    raise_open_file_limit,
    workers_of,
)
from bench.machine import Monitor
from bench.report import publish
from tests.wsclient import HYDRATE_AND_LOAD, ReflexTab, handler_name, handoff_ticket

SEED_CONCURRENT_USERS = 500  # the seed's "~500+" concurrent users
DATA_SCALE = 10
PENDING_PAYMENTS = 1_000
CORES = os.cpu_count() or 1
STEPS = (500, 1_000, 2_000, 4_000, 8_000)
WARM_UP_LEARNERS = 4 * CORES  # enough that every worker gets some
THRESHOLD_MS = 100.0  # p95 of every action, but for those below
# Actions whose cost is chosen, not overhead: a log-in verifies an argon2 hash (about 20 ms of one
# core, on purpose) and sets up a session; a broadcast writes one notification per enrolled learner.
SLOW_ACTIONS = ("log in", "instructor: log in", "instructor: broadcast update")
SLOW_THRESHOLD_MS = 1_000.0
GIVE_UP_MS = 5_000.0  # a p95 past this ends the ramp: the curve has bent for good
PLOT = ROOT / "docs" / "day.png"
SEARCHES = ("python", "data", "design", "web", "security", "music", "cloud", "finance")


# --- Talking to the app ------------------------------------------------------------------------

def has_var(state: type, name: str, check: Callable[[Any], bool] = lambda _: True
            ) -> Callable[[dict], bool]:
    """A message whose delta carries `state`'s var `name` with a value that passes `check`."""
    key, var = state.get_full_name(), f"{name}_rx_state_"
    return lambda message: (var in (changes := (message.get("delta") or {}).get(key, {}))
                            and check(changes[var]))


def redirect_target(message: dict) -> str:
    """Where a message's redirect sends the browser ('' when it has none)."""
    return next((event["payload"]["path"] for event in message.get("events") or []
                 if event.get("name") == "_redirect"), "")


def loaded(state: type) -> Callable[[dict], bool]:
    """The page's on_load has finished: its state's `loading` turned False."""
    return has_var(state, "loading", lambda value: value is False)


def hydrated(message: dict) -> bool:
    """The page's on_load handlers have all run, whatever they changed."""
    from reflex.state import State

    return has_var(State, "is_hydrated", lambda value: value is True)(message)


async def request(tab: ReflexTab, name: str, payload: dict, done: Callable[[dict], bool]
                  ) -> list[dict]:
    """Send one event and wait for the message that shows it done; what came before it (pushes,
    late answers to the last action) is dropped first."""
    while not tab.messages.empty():
        tab.messages.get_nowait()
    route, _, query = tab.path.partition("?")
    await tab.client.emit("event", {
        "name": name, "payload": payload,
        "router_data": {"pathname": route, "asPath": tab.path, "query": dict(parse_qsl(query))},
    }, namespace="/_event")
    replies: list[dict] = []
    end = time.monotonic() + REPLY_TIMEOUT
    while not replies or not done(replies[-1]):
        replies.append(await asyncio.wait_for(tab.messages.get(), end - time.monotonic()))
    return replies


async def visit(tab: ReflexTab, path: str, state: type | None) -> list[dict]:
    """A click on a link: the browser changes the route and sends Reflex's on_load_internal,
    which runs the new page's on_load handlers, until `state` has loaded (None: until they have
    all run, for a page whose state already holds what it shows)."""
    from reflex.state import OnLoadInternalState

    tab.path = path
    return await request(tab, handler_name(OnLoadInternalState, "on_load_internal"), {},
                         hydrated if state is None else loaded(state))


async def log_in(tab: ReflexTab, email: str, first_page: str, state: type) -> list[dict]:
    """The login form's handler, the session hand-off (a new connection with the login cookie),
    and the first page after it, as the browser does them."""
    from academy_app.state.account import AccountFormState

    await tab.connect()
    tab.path = "/login"
    await request(tab, HYDRATE_AND_LOAD, {"vars": {}}, lambda message: True)
    replies = await request(tab, handler_name(AccountFormState, "login"),
                            {"form_data": {"email": email, "password": PASSWORD}},
                            lambda message: handoff_ticket([message]) is not None)
    await tab.finish_login(replies)
    tab.path = first_page
    return await request(tab, HYDRATE_AND_LOAD, {"vars": {}}, loaded(state))


# --- Who does what -----------------------------------------------------------------------------

Act = Callable[[], Awaitable[object]]


class Learner:
    """One learner's tab, and the day's actions on it."""

    def __init__(self, url: str, seat: Seat, rng: random.Random) -> None:
        self.tab, self.seat, self.rng = ReflexTab(url), seat, rng
        self.lesson_path = f"/learn/{seat.course_slug}/{seat.lesson_id}"
        self.next_path = ""

    async def log_in(self) -> None:
        from academy_app.state.dashboard import DashboardState

        await log_in(self.tab, self.seat.email, "/dashboard", DashboardState)

    async def dashboard(self) -> None:
        from academy_app.state.dashboard import DashboardState

        await visit(self.tab, "/dashboard", DashboardState)

    async def course(self) -> None:
        from academy_app.state.course import CourseState

        await visit(self.tab, f"/courses/{self.seat.course_slug}", CourseState)

    async def lesson(self) -> None:
        from academy_app.state.learn import LearnState

        replies = await visit(self.tab, self.lesson_path, LearnState)
        self.next_path = ReflexTab.var(replies, "next_href")

    async def mark_complete(self) -> None:
        from academy_app.state.learn import LearnState

        await request(self.tab, handler_name(LearnState, "set_completed"), {"completed": True},
                      has_var(LearnState, "is_completed"))

    async def next_lesson(self) -> None:
        # After the course's last lesson the learner goes back to where they started it.
        self.lesson_path = self.next_path or f"/learn/{self.seat.course_slug}/{self.seat.lesson_id}"
        await self.lesson()

    async def search_catalog(self) -> None:
        from academy_app.state.catalog import CatalogState

        # The search answers with the results and a redirect that puts the words in the address
        # (so Back and a shared link keep them); the browser then goes there, which runs the
        # page's on_load, and that finds the results already shown.
        await visit(self.tab, "/courses", CatalogState)
        replies = await request(self.tab, handler_name(CatalogState, "search"),
                                {"text": self.rng.choice(SEARCHES)}, redirect_target)
        await visit(self.tab, redirect_target(replies[-1]), None)

    async def notifications(self) -> None:
        from academy_app.state.notifications import NotificationState

        await request(self.tab, handler_name(NotificationState, "show_list"), {"is_open": True},
                      has_var(NotificationState, "list_loaded", lambda value: value is True))
        await request(self.tab, handler_name(NotificationState, "show_list"), {"is_open": False},
                      has_var(NotificationState, "list_loaded"))

    def day(self) -> list[tuple[str, Act]]:
        """The actions of one round of the day, in order; the quiz step joins after "mark
        complete" once it exists (QUIZ_STEPS)."""
        return [("dashboard", self.dashboard), ("course page", self.course),
                ("lesson", self.lesson), ("mark complete", self.mark_complete),
                *((name, step(self)) for name, step in QUIZ_STEPS),
                ("next lesson", self.next_lesson), ("search catalog", self.search_catalog),
                ("notifications", self.notifications)]


# The hook for quizzes, which are being built now: (action name, a function that takes the Learner
# and returns the coroutine function that takes the quiz on the learner's current lesson). Every
# learner's day then takes it after "mark complete", and it gets its own rows in the report.
QUIZ_STEPS: list[tuple[str, Callable[[Learner], Act]]] = []


class Instructor:
    """An instructor's tab: the payment queue, approvals and course broadcasts."""

    def __init__(self, url: str, email: str, courses: list[int], broadcast_every: int) -> None:
        self.tab, self.email, self.courses = ReflexTab(url), email, courses
        self.broadcast_every = broadcast_every
        self.rounds = 0
        self.waiting: list[int] = []  # payments the queue showed pending, in its order

    async def log_in(self) -> None:
        from academy_app.admin.payments import payment_page

        await log_in(self.tab, self.email, "/admin/payments", payment_page.state)

    async def review_payments(self) -> None:
        from academy_app.admin.payments import payment_page

        replies = await visit(self.tab, "/admin/payments", payment_page.state)
        self.waiting = [row["id"] for row in ReflexTab.var(replies, "rows")
                        if "approve" in row["actions"]]

    async def approve_payment(self) -> None:
        from academy_app.admin.payments import payment_page

        state = payment_page.state
        await request(self.tab, handler_name(state, "run_action"),
                      {"name": "approve", "row_id": self.waiting[0]}, has_var(state, "rows"))

    async def broadcast(self) -> None:
        from academy_app.admin.broadcast import BroadcastState
        from academy_app.admin.course_editor import CourseEditorState

        await visit(self.tab, f"/admin/courses/{self.courses[0]}", CourseEditorState)
        for handler, value in (("set_title", "This week's live session"),
                               ("set_message", "We meet on Thursday at 18:00 UTC.")):
            await request(self.tab, handler_name(BroadcastState, handler), {"value": value},
                          has_var(BroadcastState, "errors"))
        replies = await request(self.tab, handler_name(BroadcastState, "send"), {},
                                has_var(BroadcastState, "errors"))
        if ReflexTab.var(replies, "errors"):
            raise RuntimeError(f"broadcast refused: {ReflexTab.var(replies, 'errors')}")

    def day(self) -> list[tuple[str, Act]]:
        self.rounds += 1
        actions: list[tuple[str, Act]] = [("instructor: review payments", self.review_payments)]
        if self.waiting:
            actions.append(("instructor: approve payment", self.approve_payment))
        if self.rounds % self.broadcast_every == 0:
            actions.append(("instructor: broadcast update", self.broadcast))
        return actions


# --- Timing ------------------------------------------------------------------------------------

@dataclass
class Recorder:
    """Times of each action finished while a step is being measured, and its failures."""

    open: bool = False
    times: dict[str, list[float]] = field(default_factory=dict)  # ms
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.open, self.times, self.errors, self.first_error = True, {}, Counter(), {}

    async def timed(self, name: str, act: Act) -> bool:
        started = time.perf_counter()
        try:
            await act()
        except Exception as exc:  # a timeout, a refusal, a dropped connection: all count
            if self.open:
                self.errors[name] += 1
                self.first_error.setdefault(name, repr(exc)[:300])
            return False
        if self.open:
            self.times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return True


async def think(rng: random.Random, mean: float, stop: asyncio.Event) -> bool:
    """An exponential think time; False when the run ended meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), rng.expovariate(1 / mean))
    except TimeoutError:
        return True
    return False


async def live(person: Learner | Instructor, rng: random.Random, mean: float,
               recorder: Recorder, stop: asyncio.Event) -> None:
    """The day, round after round, until the run ends or the connection is gone."""
    while True:
        for name, act in person.day():
            if not await think(rng, mean, stop):
                return
            if not person.tab.client.connected:
                if recorder.open:
                    recorder.errors["connection lost"] += 1
                return
            await recorder.timed(name, act)


# --- The ramp ----------------------------------------------------------------------------------

@dataclass
class Step:
    learners: int
    online: int  # learners connected at the end
    failed: int  # log-ins that failed, of the step's new learners
    times: dict[str, list[float]]
    errors: Counter[str]
    first_error: dict[str, str]
    worker_kib: float  # the workers' resident memory added, per learner online
    worker_cores: float
    client_cores: float  # all client processes
    busiest_client: float  # the busiest one: near 1.0, the clients are the limit
    seconds: float

    def threshold(self, action: str, args: argparse.Namespace) -> float:
        return args.slow_threshold_ms if action in SLOW_ACTIONS else args.threshold_ms

    def over(self, args: argparse.Namespace) -> list[str]:
        return [f"{action} p95 {percentiles(values)[1]:.0f} ms > {self.threshold(action, args):.0f}"
                for action, values in self.times.items()
                if len(values) > 1 and percentiles(values)[1] > self.threshold(action, args)]

    def problems(self, args: argparse.Namespace) -> list[str]:
        """Why the step is not good; empty when it is."""
        errors = sum(self.errors.values())
        return (self.over(args) + ([f"{errors} errors"] if errors else [])
                + ([f"{self.failed} failed log-ins"] if self.failed else []))

    def good(self, args: argparse.Namespace) -> bool:
        return not self.problems(args)

    def hopeless(self, args: argparse.Namespace) -> bool:
        """Past the point where another step says anything: something failed, or an action's
        p95 passed `--give-up-ms`. A step that is only slow lets the ramp go on, to draw the
        curve."""
        return bool(sum(self.errors.values()) or self.failed or any(
            len(values) > 1 and percentiles(values)[1] > args.give_up_ms
            for values in self.times.values()))


def served(steps: list[Step], args: argparse.Namespace) -> Step | None:
    """The learners one host serves: the last good step before the first that is not (a later
    step that happens to pass says nothing once an earlier one failed)."""
    good = list(takewhile(lambda step: step.good(args), steps))
    return good[-1] if good else None


def step_table(step: Step, args: argparse.Namespace) -> str:
    lines = ["| Action | Count | p50 (ms) | p95 (ms) | p99 (ms) | Errors | p95 limit (ms) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for action in sorted(set(step.times) | set(step.errors)):
        values = step.times.get(action, [])
        cuts = (f"{v:.1f}" for v in percentiles(values)) if len(values) > 1 else ("—",) * 3
        lines.append(f"| {action} | {len(values)} | {' | '.join(cuts)} | "
                     f"{step.errors.get(action, 0)} | {step.threshold(action, args):.0f} |")
    return "\n".join(lines)


def summary_table(steps: list[Step], args: argparse.Namespace) -> str:
    actions = sorted({action for step in steps for action in step.times})
    lines = ["| Learners online | " + " | ".join(f"{a} p95 (ms)" for a in actions)
             + " | Errors | Failed log-ins | Worker KiB per learner | CPU cores: workers / "
               "clients (the busiest client process) | Good |",
             "|---:|" + "---:|" * len(actions) + "---:|---:|---:|---:|---|"]
    for step in steps:
        p95s = (f"{percentiles(step.times[a])[1]:.0f}" if len(step.times.get(a, [])) > 1 else "—"
                for a in actions)
        lines.append(f"| {step.online:,} | " + " | ".join(p95s)
                     + f" | {sum(step.errors.values())} | {step.failed} | {step.worker_kib:.0f} | "
                       f"{step.worker_cores:.2f} / {step.client_cores:.2f} "
                       f"({step.busiest_client:.2f}) | "
                       f"{'yes' if step.good(args) else '**no**'} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Share:
    """What one client process did in a step."""

    online: int  # its learners connected at the end
    failed: int  # its new learners' log-ins that failed
    times: dict[str, list[float]]
    errors: Counter[str]
    first_error: dict[str, str]


async def clients(url: str, batches: list[list[Seat]], staff: list[Instructor],
                  args: argparse.Namespace, seed: int, conn: Connection) -> None:
    """One client process: on each "go" from the ramp, the next batch of learners arrives (and,
    the first time, the instructors), everyone keeps going for the step, and what it measured goes
    back; "stop" ends the day for all of them. Waiting for the ramp never holds the event loop."""
    rng = random.Random(seed)
    stop, recorder = asyncio.Event(), Recorder()
    days: list[asyncio.Task] = []
    learners: list[Learner] = []

    async def arrive(person: Learner | Instructor, delay: float) -> bool:
        await asyncio.sleep(delay)
        name = "log in" if isinstance(person, Learner) else "instructor: log in"
        if not await recorder.timed(name, person.log_in):
            return False
        days.append(asyncio.create_task(live(person, random.Random(rng.random()), args.think,
                                             recorder, stop)))
        return True

    for step, seats in enumerate(batches):
        if await asyncio.to_thread(conn.recv) != "go":
            break
        recorder.start()
        spread = args.arrival_seconds / max(len(seats), 1)
        new = [Learner(url, seat, random.Random(rng.random())) for seat in seats]
        learners += new
        arrivals = [arrive(learner, i * spread) for i, learner in enumerate(new)]
        results = await asyncio.gather(*arrivals, *(arrive(person, 0.0)
                                                    for person in (staff if step == 0 else [])))
        await asyncio.sleep(args.step_seconds)
        recorder.open = False
        conn.send(Share(sum(learner.tab.client.connected for learner in learners),
                        results.count(False), recorder.times, recorder.errors,
                        recorder.first_error))
    else:
        await asyncio.to_thread(conn.recv)  # every step done: the ramp's "stop"
    stop.set()
    await asyncio.gather(*days)
    await asyncio.gather(*(person.tab.close() for person in [*learners, *staff]),
                         return_exceptions=True)


def run_clients(*arguments: Any) -> None:
    asyncio.run(clients(*arguments))


async def warm_up(url: str, seats: list[Seat], instructor: Instructor | None) -> None:
    """A few learners through one round of the day, and an instructor's payment queue, before
    anything is measured: each worker's first events (imports, connection pools, caches) are not
    what the first step should show. Any failure here means the run cannot work: it stops."""
    async def learner(seat: Seat) -> None:
        person = Learner(url, seat, random.Random(0))
        await person.log_in()
        for _, act in person.day():
            await act()
        await person.tab.close()

    async def staff(person: Instructor) -> None:
        await person.log_in()
        await person.review_payments()
        await person.tab.close()

    await asyncio.gather(*map(learner, seats), *([staff(instructor)] if instructor else []))


def ramp(url: str, data: DataSet, args: argparse.Namespace, monitor: Monitor) -> list[Step]:
    """Start the client processes, each with its share of every step's new learners (and the
    first with the instructors), then step by step: let them go, gather what they measured, and
    stop after the first step where something failed or an action got hopelessly slow."""
    count = args.client_processes
    batches: list[list[list[Seat]]] = [[] for _ in range(count)]
    for before, target in pairwise((0, *args.steps)):
        for index in range(count):
            batches[index].append(data.seats[before:target][index::count])
    staff = [Instructor(url, email, courses, args.broadcast_every)
             for email, courses in list(data.instructors.items())[:args.instructors]]
    asyncio.run(warm_up(url, data.seats[args.steps[-1]:], Instructor(
        url, *next(iter(data.instructors.items())), args.broadcast_every) if staff else None))
    # fork: the children need nothing but what this process already holds
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe() for _ in range(count)]
    processes = [context.Process(target=run_clients, daemon=True, args=(
        url, batches[index], staff if index == 0 else [], args, 21 + index, pipes[index][1]))
        for index in range(count)]
    for process in processes:
        process.start()
    client_pids = [process.pid for process in processes if process.pid is not None]
    workers = workers_of(url)
    base_kib = sum(rss_kib(pid) for pid in workers)
    steps: list[Step] = []
    try:
        for target in args.steps:
            with monitor.phase(f"{target:,} learners"):
                began = time.perf_counter()
                cpu_before = cpu_seconds_all(workers), cpu_seconds_all(client_pids)
                for ours, _ in pipes:
                    ours.send("go")
                shares: list[Share] = [ours.recv() for ours, _ in pipes]
                seconds = time.perf_counter() - began
                used = [{pid: cpu - before.get(pid, cpu) for pid, cpu in cpu_seconds_all(pids).items()}
                        for pids, before in zip((workers, client_pids), cpu_before, strict=True)]
            step = merge(target, shares, seconds, used,
                         (sum(rss_kib(pid) for pid in workers) - base_kib))
            steps.append(step)
            print(f"\n{target:,} learners ({step.online:,} online, {len(staff)} instructors), "
                  f"{seconds:.0f} s:\n{step_table(step, args)}\nworkers' memory "
                  f"{step.worker_kib:.0f} KiB per learner; CPU cores: workers "
                  f"{step.worker_cores:.2f}, clients {step.client_cores:.2f} in {count} "
                  f"process(es), the busiest {step.busiest_client:.2f}\n"
                  f"{monitor.phases[-1].during.line()}", flush=True)
            for action, error in step.first_error.items():
                print(f"  first error of {action}: {error}")
            if not step.good(args):
                print("  not good: " + "; ".join(step.problems(args)), flush=True)
            if step.hopeless(args):
                print("  stop: the next step would say nothing more", flush=True)
                break
        for ours, _ in pipes:
            ours.send("stop")
        for process in processes:
            process.join(REPLY_TIMEOUT + 30)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    return steps


def merge(target: int, shares: list[Share], seconds: float, used: list[dict[int, float]],
          worker_kib: float) -> Step:
    """One step from what each client process measured."""
    times: dict[str, list[float]] = {}
    errors: Counter[str] = Counter()
    first_error: dict[str, str] = {}
    for share in shares:
        for action, values in share.times.items():
            times.setdefault(action, []).extend(values)
        errors.update(share.errors)
        for action, error in share.first_error.items():
            first_error.setdefault(action, error)
    online = sum(share.online for share in shares)
    workers, client_processes = used
    return Step(target, online, sum(share.failed for share in shares), times, errors,
                first_error, worker_kib / max(online, 1), sum(workers.values()) / seconds,
                sum(client_processes.values()) / seconds,
                max(client_processes.values(), default=0.0) / seconds, seconds)


def parse_steps(text: str) -> tuple[int, ...]:
    steps = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not steps or any(b <= a for a, b in pairwise(steps)) or steps[0] < 1:
        raise argparse.ArgumentTypeError("steps must be rising numbers of learners, e.g. 500,1000")
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=parse_steps, default=STEPS,
                        help="learners online at each step (default 500,1000,2000,4000,8000)")
    parser.add_argument("--think", type=float, default=20.0,
                        help="mean think time between two actions, seconds (exponential)")
    parser.add_argument("--step-seconds", type=float, default=120.0,
                        help="how long every learner keeps going once a step's have arrived")
    parser.add_argument("--arrival-seconds", type=float, default=60.0,
                        help="a step's new learners log in spread over this many seconds")
    parser.add_argument("--instructors", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=1, metavar="N",
                        help="spread the learners over N client processes, for when one client "
                             "process is the limit (its CPU near one core)")
    parser.add_argument("--broadcast-every", type=int, default=5, metavar="N",
                        help="an instructor broadcasts an update on one round in N")
    parser.add_argument("--threshold-ms", type=float, default=THRESHOLD_MS,
                        help="p95 above which an action fails its step")
    parser.add_argument("--slow-threshold-ms", type=float, default=SLOW_THRESHOLD_MS,
                        help=f"the same for {', '.join(SLOW_ACTIONS)}")
    parser.add_argument("--give-up-ms", type=float, default=GIVE_UP_MS,
                        help="p95 past which the ramp stops (slower steps only draw the curve)")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the table into docs/benchmarks.md (refused on a busy machine)")
    args = parser.parse_args()
    raise_open_file_limit()
    users = max(SEED_CONCURRENT_USERS * DATA_SCALE, 2 * args.steps[-1])
    size = LEARNING.scaled(users, PENDING_PAYMENTS)
    monitor = Monitor()
    print(f"One host: Academy with REFLEX_OPLOCK_ENABLED and {CORES} backend workers (one per "
          f"core), PostgreSQL and Redis local, the clients in {args.client_processes} "
          f"process(es) on the same machine; "
          f"steps {', '.join(f'{n:,}' for n in args.steps)}; think time {args.think:g} s (mean)",
          flush=True)
    with throwaway_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        migrate(database_url)
        data = build_data_set(database_url, capacity_sessions=0,
                              seats_wanted=args.steps[-1] + WARM_UP_LEARNERS, size=size)
        print(f"Data set built in {data.seconds:.1f} s: "
              + ", ".join(f"{count:,} {name}" for name, count in data.counts.items()), flush=True)
        if len(data.seats) < args.steps[-1] + WARM_UP_LEARNERS:
            raise SystemExit(f"only {len(data.seats)} learners can take part")
        redis.Redis.from_url(REDIS_ACADEMY).flushdb()
        os.environ["REFLEX_OPLOCK_ENABLED"] = "true"
        from tests.appserver import running_app

        with running_app(Path(tmp), redis_url=REDIS_ACADEMY, backend_only=True,
                         database_url=database_url,
                         extra_env={"ACADEMY_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
                                    "WEB_CONCURRENCY": str(CORES)}) as app:
            steps = ramp(app.url, data, args, monitor)
    last_good = served(steps, args)
    text = (f"Data set: {data.counts['users']:,} users, {data.counts['courses']} courses, "
            f"{data.counts['enrollments']:,} enrollments, {data.counts['lesson_progress']:,} "
            f"lesson-progress rows, {data.counts['payments']:,} payments waiting. {CORES} workers "
            f"with oplock, PostgreSQL, Redis and the clients ({args.client_processes} "
            f"process(es)) on this one host; think time "
            f"{args.think:g} s, {args.step_seconds:g} s per step after "
            f"{args.arrival_seconds:g} s of arrivals, {args.instructors} instructors.\n\n"
            + summary_table(steps, args)
            + f"\n\nLearners one host serves (the last step where every action's p95 stayed "
              f"within its limit, {args.threshold_ms:.0f} ms or {args.slow_threshold_ms:.0f} ms "
              f"for {', '.join(SLOW_ACTIONS)}, with nothing failed): "
            + (f"**{last_good.online:,}**" if last_good else "none of the steps"))
    publish("day", text + f"\n\n![p95 of each action against learners online]({PLOT.name})",
            monitor, write=args.update_docs)
    # Reached with --update-docs only when the docs took the table (a busy machine exits above).
    plot(steps, args, PLOT if args.update_docs else Path(tempfile.gettempdir()) / PLOT.name)


def plot(steps: list[Step], args: argparse.Namespace, path: Path) -> None:
    """p95 of each action against the learners online, with the limits, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 5.5), dpi=110)
    colours = pyplot.get_cmap("tab20").colors  # more actions than the default cycle's 10
    for index, action in enumerate(sorted({action for step in steps for action in step.times})):
        points = [(step.online, percentiles(step.times[action])[1]) for step in steps
                  if len(step.times.get(action, [])) > 1]
        axes.plot(*zip(*points, strict=True), marker="osD^v<>"[index % 7], label=action,
                  color=colours[index % len(colours)])
    for limit, label in ((args.threshold_ms, "limit"), (args.slow_threshold_ms,
                                                       "limit for log-ins and broadcasts")):
        axes.axhline(limit, color="black", linestyle="--", linewidth=0.8)
        axes.annotate(f"{label} ({limit:.0f} ms)", (steps[0].online, limit), fontsize=8,
                      xytext=(0, 3), textcoords="offset points")
    axes.set(xscale="log", yscale="log", xlabel="learners online", ylabel="p95 (ms)",
             title="A day at the academy: one host, 2 cores")
    axes.set_xticks([step.online for step in steps], [f"{step.online:,}" for step in steps])
    axes.set_xticks([], minor=True)  # the steps only, not a log scale's 6x10^2
    axes.legend(fontsize=7, ncol=2)
    axes.grid(True, which="both", linewidth=0.3)
    figure.tight_layout()
    figure.savefig(path)
    print(f"plotted into {path}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
