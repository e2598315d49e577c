"""Failure drills on the scale-out test bed: two web hosts and a worker host behind HAProxy
(tests/scale_out/testbed.py), learners as socket clients speaking Reflex's protocol.

They run in the order written, on one bed. The Redis and PostgreSQL drills stop and restart the
machine's shared services (every other test's too, and Redis keeps nothing on disk: all its data
goes), so they come last, and they start them again with scripts/ensure_services.sh whatever
happens.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from academy_app.admin.broadcast import BroadcastState
from academy_app.db import make_engine
from academy_app.models import Certificate, EmailLog, LessonProgress, Notification, Role, User
from academy_app.services import accounts
from academy_app.services.catalog import course_outline
from academy_app.settings import PROJECT_ROOT
from academy_app.state.learn import LearnState
from tests.factories import logged_in_learners, make_course, make_user
from tests.integration.test_certificate_worker import waiting_on_a_lock
from tests.integration.workers import Inbox, wait_until
from tests.scale_out.testbed import HAPROXY_CONFIG, TestBed
from tests.wsclient import ReflexTab, handler_name, iter_vars, open_page, run, wait_for_var

pytestmark = pytest.mark.scale_out
SET_COMPLETED = handler_name(LearnState, "set_completed")
CLICK_TIMEOUT = 5.0  # an unanswered click after this: the tab's connection is taken for dead


@dataclass
class Classroom:
    engine: Engine
    course_id: int
    slug: str
    lessons: list[int]
    instructor_token: str

    def path(self, lesson: int) -> str:
        return f"/learn/{self.slug}/{lesson}"

    def learners(self, count: int, label: str) -> list[tuple[User, str]]:
        with Session(self.engine, expire_on_commit=False) as db:
            return logged_in_learners(db, self.course_id, count, label)

    def completed(self, user_id: int) -> list[int]:
        """The lessons the database has as completed by this learner (one row each, or the same
        lesson twice if it were ever saved twice)."""
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(LessonProgress.lesson_id).where(
                LessonProgress.user_id == user_id)).scalars())

    def unread(self, user_id: int) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(Notification).where(
                Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


@pytest.fixture(scope="module")
def classroom(bed: TestBed, inbox: Inbox) -> Classroom:
    """A course of 20 lessons and its instructor. The SMTP sink is up from here on: the worker
    host sends every email the drills cause (a broadcast emails each learner) at once."""
    engine = make_engine(bed.database_url)
    with Session(engine, expire_on_commit=False) as db:
        instructor = make_user(db, Role.INSTRUCTOR, name="Iris Instructor")
        course = make_course(db, instructor, title="Scale-out drills", lessons_per_module=(10, 10))
        lessons = [lesson.id for lesson in course_outline(db, course.slug, instructor).lessons]
        token = accounts.start_session(db, instructor)
        db.commit()
    return Classroom(engine, course.id, course.slug, lessons, token)


async def through_balancer(bed: TestBed, token: str) -> tuple[ReflexTab, str]:
    """A learner's tab connected through HAProxy, and which host it landed on (web_a or web_b):
    the server whose connection count went up. Tabs connect one at a time for that."""
    before = bed.balancer.connections_so_far()
    tab = ReflexTab(bed.url, login_token=token)
    await tab.connect()
    after = bed.balancer.connections_so_far()
    landed = [server for server, count in after.items() if count > before[server]]
    assert len(landed) == 1, (before, after)
    return tab, landed[0]


def says_completed(message: dict) -> bool:
    """The answer to "Mark as complete": the lesson shows as completed."""
    return any(key == "is_completed" and value is True for _, key, value in iter_vars(message))


async def emit_click(tab: ReflexTab, completed: bool) -> None:
    """Click "Mark as complete" (or "Mark as not complete") without waiting for the answer."""
    await tab.client.emit("event", {
        "name": SET_COMPLETED, "payload": {"completed": completed},
        "router_data": {"pathname": tab.path, "asPath": tab.path, "query": {}},
    }, namespace="/_event")


async def collect(tab: ReflexTab, seconds: float) -> list[dict]:
    """What the tab receives in the next `seconds`."""
    got = []
    end = asyncio.get_running_loop().time() + seconds
    while (left := end - asyncio.get_running_loop().time()) > 0:
        try:
            got.append(await asyncio.wait_for(tab.messages.get(), left))
        except TimeoutError:
            break
    return got


async def loaded(tab: ReflexTab, path: str) -> list[dict]:
    """A lesson page loaded, its notification count refreshed after it (every page's last on_load),
    and nothing more to come."""
    replies = await open_page(tab, path, LearnState)
    while more := await collect(tab, 1.0):  # the refresh, whenever it comes
        replies += more
    return replies


# --- Spread and push -----------------------------------------------------------------------------

def test_learners_spread_over_both_hosts_and_a_broadcast_from_a_reaches_each_once(
        bed: TestBed, classroom: Classroom) -> None:
    seats = classroom.learners(40, "spread")
    title = "New module: scaling out"

    async def scenario() -> None:
        tabs = [(user, *await through_balancer(bed, token)) for user, token in seats]
        hosts = Counter(host for _, _, host in tabs)
        assert hosts == {"web_a": 20, "web_b": 20}  # round robin, one tab at a time
        pages = await asyncio.gather(*(loaded(tab, classroom.path(classroom.lessons[0]))
                                       for _, tab, _ in tabs))
        before = [ReflexTab.var(replies, "unread") for replies in pages]

        instructor = ReflexTab(bed.web_a.url, origin=bed.url,
                               login_token=classroom.instructor_token)
        await instructor.connect()  # straight to host A, not through the balancer
        await instructor.open(f"/admin/courses/{classroom.course_id}")
        await instructor.send(handler_name(BroadcastState, "set_title"), {"value": title})
        await instructor.send(handler_name(BroadcastState, "set_message"),
                              {"value": "Two hosts now."})
        replies = await instructor.send(handler_name(BroadcastState, "send"), {})
        assert "Update sent to 40 learners" in str(replies)

        # Each tab shows the update once (one toast naming it), and its bell counts it once.
        arrived = await asyncio.gather(*(collect(tab, 5.0) for _, tab, _ in tabs))
        for (user, _, host), messages, unread in zip(tabs, arrived, before, strict=True):
            toasts = [event for message in messages for event in message.get("events") or []
                      if title in str(event.get("payload"))]
            counts = {value for message in messages for _, key, value in iter_vars(message)
                      if key == "unread"}
            assert len(toasts) == 1, (user.email, host, toasts)
            assert counts == {unread + 1}, (user.email, host, counts)
        for _, tab, _ in tabs:
            await tab.close()
        await instructor.close()

    run(scenario())


# --- A host dies ---------------------------------------------------------------------------------

def _config_seconds(name: str) -> float:
    """A duration of deploy/haproxy.cfg's default-server line (inter 1s → 1.0)."""
    line = next(line for line in HAPROXY_CONFIG.read_text().splitlines()
                if line.strip().startswith("default-server"))
    value = re.search(rf"\b{name} (\d+)(ms|s)?\b", line)
    assert value, name
    return float(value.group(1)) / (1000 if value.group(2) == "ms" else 1)


@dataclass
class Walk:
    """One learner going through the lessons, clicking "Mark as complete" on each."""

    user: User
    tab: ReflexTab
    host: str
    acknowledged: list[int] = field(default_factory=list)  # before and after any reconnect
    after_reconnect: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)  # sent, no answer: either outcome is fine
    checked_state: bool = False  # reconnected, and the page it showed agreed with the database


async def walk(bed: TestBed, classroom: Classroom, learner: Walk, killed: asyncio.Event,
               clicks_after: int = 2) -> None:
    """Open lesson after lesson and complete each, until `clicks_after` clicks were answered after
    the kill. A click whose answer does not come means the connection died: reconnect (same
    token, through the balancer), check the tab's state against the database, go on."""
    position = 0
    while len(learner.after_reconnect) < clicks_after or not killed.is_set():
        lesson = classroom.lessons[position]
        tab = learner.tab
        try:
            await open_page(tab, classroom.path(lesson), LearnState, timeout=CLICK_TIMEOUT)
            replies: list[dict] = []
            await emit_click(tab, True)
            learner.unanswered.append(lesson)
            await wait_for_var(tab, replies, says_completed, CLICK_TIMEOUT)
        except Exception as exc:  # a dead connection: a timeout, or socketio's own errors
            if not killed.is_set() and not isinstance(exc, TimeoutError):
                raise
            await reconnect(bed, classroom, learner, lesson)
            continue
        learner.unanswered.remove(lesson)
        learner.acknowledged.append(lesson)
        if killed.is_set() and (learner.checked_state or learner.host == "web_b"):
            learner.after_reconnect.append(lesson)
        position += 1
        await asyncio.sleep(0.05)


async def reconnect(bed: TestBed, classroom: Classroom, learner: Walk, lesson: int) -> None:
    """What the page does when its socket drops: connect again with the same token until it is
    through (host A has no process left: it can only be B), then load the page it was on and
    compare what it shows with the database."""
    for _ in range(60):
        try:
            await learner.tab.reconnect()
            break
        except Exception:  # refused while HAProxy still sends to A, or A's lock in Redis
            await asyncio.sleep(0.25)
    else:
        raise AssertionError(f"{learner.user.email} could not reconnect")
    # The tab's token may still be locked in Redis by the dead host: up to its lock expiry.
    replies = await open_page(learner.tab, classroom.path(lesson), LearnState, timeout=30)
    completed = classroom.completed(learner.user.id)
    assert ReflexTab.var(replies, "is_completed") is (lesson in completed)
    assert ReflexTab.var(replies, "done") == len(set(completed))
    assert ReflexTab.var(replies, "unread") == classroom.unread(learner.user.id)
    assert learner.tab.path == classroom.path(lesson)
    learner.checked_state = True


def test_a_host_killed_mid_lesson_loses_no_acknowledged_click_and_rejoins(
        bed: TestBed, classroom: Classroom) -> None:
    seats = classroom.learners(16, "failover")
    down_within = _config_seconds("inter") * 2 + 2.0  # fall 2 checks, plus HAProxy's 2 s connect

    async def scenario() -> list[Walk]:
        learners = [Walk(user, *await through_balancer(bed, token)) for user, token in seats]
        assert Counter(learner.host for learner in learners) == {"web_a": 8, "web_b": 8}
        killed = asyncio.Event()
        walks = [asyncio.create_task(walk(bed, classroom, learner, killed))
                 for learner in learners]
        await asyncio.sleep(2.0)  # everyone mid-lesson, clicking
        assert all(learner.acknowledged for learner in learners)
        killed_at = bed.web_a.kill()
        killed.set()
        down_at = await asyncio.to_thread(bed.balancer.wait_status, "web_a", "DOWN", 30)
        assert down_at - killed_at <= down_within, down_at - killed_at
        await asyncio.wait_for(asyncio.gather(*walks), 120)
        # Every learner's socket, A's reconnected ones too, is now held through HAProxy by B.
        servers = bed.balancer.servers()
        assert int(servers["web_a"]["scur"]) == 0, servers["web_a"]
        assert int(servers["web_b"]["scur"]) >= len(learners), servers["web_b"]
        for learner in learners:
            await learner.tab.close()
        return learners

    learners = run(scenario())
    for learner in learners:
        completed = classroom.completed(learner.user.id)
        assert len(completed) == len(set(completed))  # none saved twice
        assert set(learner.acknowledged) <= set(completed), learner.user.email
        assert set(completed) <= set(learner.acknowledged) | set(learner.unanswered)
        assert len(learner.after_reconnect) >= 2
        if learner.host == "web_a":
            assert learner.checked_state, learner.user.email

    # A comes back, HAProxy takes it in again, and new tabs land on it.
    bed.start_web(bed.web_a)
    bed.balancer.wait_status("web_a", "UP")
    late = classroom.learners(4, "rejoin")

    async def rejoin() -> Counter:
        landed = Counter()
        for user, token in late:
            tab, host = await through_balancer(bed, token)
            replies = await open_page(tab, classroom.path(classroom.lessons[0]), LearnState)
            assert ReflexTab.var(replies, "is_enrolled"), user.email
            landed[host] += 1
            await tab.close()
        return landed

    assert run(rejoin())["web_a"] == 2


# --- The worker dies mid-certificate ---------------------------------------------------------------

def test_a_worker_host_killed_mid_certificate_leaves_each_certificate_and_email_once(
        bed: TestBed, inbox: Inbox) -> None:
    """Learners finish a course through the balancer while the worker host is down; each
    certificate row is locked, so the worker host, once up, draws the first PDF and waits to mark
    it ready: it is killed there (kill -9, beat too). RabbitMQ gives the task back; the worker host
    started again draws everything once and sends each email once."""
    engine = make_engine(bed.database_url)
    title = "Certificates under fire"
    with Session(engine, expire_on_commit=False) as db:
        instructor = make_user(db, Role.INSTRUCTOR, name="Iris Instructor")
        course = make_course(db, instructor, title=title, lessons_per_module=(1, 1))
        lessons = [lesson.id for lesson in course_outline(db, course.slug, instructor).lessons]
        seats = logged_in_learners(db, course.id, 3, "graduate")
    classroom = Classroom(engine, course.id, course.slug, lessons, "")
    bed.worker.kill()

    async def finish(token: str) -> None:
        tab, _ = await through_balancer(bed, token)
        for lesson in lessons:
            await open_page(tab, classroom.path(lesson), LearnState)
            replies = await tab.send(SET_COMPLETED, {"completed": True})
            await wait_for_var(tab, replies, says_completed)
        await tab.close()

    async def everyone() -> None:
        for _, token in seats:
            await finish(token)

    run(everyone())
    users = [user.id for user, _ in seats]
    with Session(engine) as db:
        certificates = db.exec(select(Certificate).where(col(Certificate.user_id).in_(users))).all()
    assert len(certificates) == 3
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT id FROM certificates WHERE id = ANY(:ids) FOR UPDATE"),
                       {"ids": [c.id for c in certificates]})
        bed.start_worker_host()
        wait_until(lambda: waiting_on_a_lock(engine), timeout=60)  # a PDF drawn, not yet ready
        bed.worker.kill()
        holder.rollback()
    bed.start_worker_host()

    def all_sent() -> bool:
        with Session(engine) as db:
            return db.exec(select(func.count()).select_from(EmailLog).where(
                col(EmailLog.user_id).in_(users), EmailLog.kind == "certificate.issued",
                EmailLog.status == "sent")).one() == 3
    wait_until(all_sent, timeout=90)
    wait_until(lambda: sum(title.encode() in raw for raw in inbox.messages) >= 3, timeout=30)
    time.sleep(1.0)  # a duplicate would come now
    with Session(engine) as db:
        for user in users:
            assert db.exec(select(func.count()).select_from(Certificate)
                           .where(Certificate.user_id == user)).one() == 1
            assert db.exec(select(func.count()).select_from(EmailLog).where(
                EmailLog.user_id == user, EmailLog.kind == "certificate.issued")).one() == 1
        assert all(db.exec(select(Certificate.file_ready_at)
                           .where(col(Certificate.user_id).in_(users))).all())
        emails = db.exec(select(User.email).where(col(User.id).in_(users))).all()
    sent_to = Counter(message_from_bytes(raw, policy=policy.default)["To"]
                      for raw in inbox.messages if title.encode() in raw)
    assert sent_to == Counter(emails)
    engine.dispose()


# --- Redis and PostgreSQL restart (the machine's shared services: these drills come last) ----------

ENSURE_SERVICES = PROJECT_ROOT / "scripts" / "ensure_services.sh"


def stop_redis() -> None:
    """The machine's Redis goes away (it keeps nothing on disk: every tab's state goes with it)."""
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True,
                   timeout=30)


def stop_postgresql() -> None:
    """The machine's PostgreSQL crashes, as far as its clients can tell (immediate: no goodbye)."""
    # The newest installed version's cluster, as scripts/ensure_services.sh picks it.
    version = max(os.listdir("/etc/postgresql"), key=lambda name: [int(x) for x in name.split(".")])
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop",
                    "-m", "immediate"], check=True, capture_output=True, timeout=60)


def start_services() -> None:
    """Start what is down exactly as `make services` does: scripts/ensure_services.sh."""
    result = subprocess.run(["bash", str(ENSURE_SERVICES)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


async def click(tab: ReflexTab, completed: bool) -> list[dict]:
    """One "Mark as complete" (or not) and everything that answers it within a few seconds."""
    await emit_click(tab, completed)
    return await collect(tab, 3.0)


async def back_on_the_page(bed: TestBed, classroom: Classroom, user: User, tab: ReflexTab,
                           lesson: int) -> list[dict]:
    """The page as the learner sees it once the service is back: the same socket if it lived,
    else reconnected through the balancer (same token, as the browser does). Checked against the
    database."""
    for _ in range(120):
        try:
            if not tab.client.connected:
                await tab.reconnect()
            replies = await open_page(tab, classroom.path(lesson), LearnState, timeout=15)
            break
        except Exception:  # refused until HAProxy has a host up again
            await asyncio.sleep(0.25)
    else:
        raise AssertionError(f"{user.email} could not load the lesson again")
    completed = classroom.completed(user.id)
    assert ReflexTab.var(replies, "is_completed") is (lesson in completed), user.email
    assert ReflexTab.var(replies, "done") == len(set(completed)), user.email
    return replies


def outage_drill(bed: TestBed, classroom: Classroom, label: str, stop: Callable[[], None],
                 says: str) -> None:
    """Learners on both hosts complete a lesson (acknowledged), the service stops, each clicks on
    the next lesson and is told `says` (or loses its socket, which the page shows as
    "Reconnecting…"), the service is started again as `make services` does, and each learner
    finds every acknowledged click saved and completes the next lesson: with the same app
    processes, none restarted."""
    seats = classroom.learners(8, label)
    first, second = classroom.lessons[0], classroom.lessons[1]
    processes = [process.pid for host in (bed.web_a, bed.web_b) for process in host.processes]

    async def scenario() -> None:
        tabs = [await through_balancer(bed, token) for _, token in seats]
        assert Counter(host for _, host in tabs) == {"web_a": 4, "web_b": 4}
        for tab, _ in tabs:
            await open_page(tab, classroom.path(first), LearnState)
            replies = await tab.send(SET_COMPLETED, {"completed": True})
            await wait_for_var(tab, replies, says_completed)
            await open_page(tab, classroom.path(second), LearnState)
        stop()
        try:
            during = await asyncio.gather(*(click(tab, True) for tab, _ in tabs))
            for (tab, host), replies in zip(tabs, during, strict=True):
                assert says in str(replies) or not tab.client.connected, (host, replies)
        finally:
            start_services()
        for (user, _), (tab, _) in zip(seats, tabs, strict=True):
            assert first in classroom.completed(user.id), user.email  # acknowledged: saved
            await back_on_the_page(bed, classroom, user, tab, second)
            replies = await tab.send(SET_COMPLETED, {"completed": True})
            await wait_for_var(tab, replies, says_completed)
            assert set(classroom.completed(user.id)) == {first, second}, user.email
            await tab.close()

    run(scenario())
    assert [process.pid for host in (bed.web_a, bed.web_b) for process in host.processes
            if process.poll() is None] == processes  # the same processes, still running


def test_a_redis_restart_loses_nothing_acknowledged_and_resumes_without_restarting_hosts(
        bed: TestBed, classroom: Classroom) -> None:
    outage_drill(bed, classroom, "redis", stop_redis, "Reconnecting")


def test_a_postgresql_restart_loses_nothing_acknowledged_and_resumes_without_restarting_hosts(
        bed: TestBed, classroom: Classroom) -> None:
    outage_drill(bed, classroom, "postgres", stop_postgresql, "Not saved")
