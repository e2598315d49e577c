"""Live updates across processes: two backend workers sharing Redis and PostgreSQL, clients speaking
Reflex's WebSocket protocol, and a separate Python process standing in for a Celery worker.

A change made through one worker (or outside any worker) must reach the affected user's open tabs
on every worker, once each, without the tabs asking.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
import sqlalchemy as sa
from sqlmodel import Session, func, select

from academy_app.admin.payments import payment_page
from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Course, Lesson, Module, User
from academy_app.services import accounts, payments
from academy_app.services.notifications import notify
from academy_app.settings import PROJECT_ROOT
from academy_app.state.account import AccountFormState
from academy_app.state.course import CourseState
from academy_app.state.learn import LearnState
from tests.appserver import RunningApp, running_app
from tests.wsclient import ReflexTab, handler_name, iter_vars, run

REDIS_URL = "redis://127.0.0.1:6379/12"
PASSWORD = "long-enough-password"
DEADLINE = 2.0  # seconds: what "live" means for these tests


class Cluster:
    def __init__(self, a: RunningApp, b: RunningApp, database_url: str) -> None:
        self.a, self.b, self.database_url = a, b, database_url
        self.engine = make_engine(database_url)

    def learner(self) -> tuple[int, str]:
        email = f"live-{uuid.uuid4().hex[:8]}@example.com"
        with Session(self.engine) as session:
            user = accounts.register(session, accounts.SignupForm("Lee Live", email, PASSWORD))
            session.commit()
            return user.id, email

    def scalar(self, statement: sa.Select):
        with Session(self.engine) as session:
            return session.exec(statement).first()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres) -> Iterator[Cluster]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}. Run `make services`.")
    database_url = postgres.create_database()
    # As the production checklist says: Redis state with Reflex's opportunistic locks.
    options = {"redis_url": REDIS_URL, "backend_only": True, "database_url": database_url,
               "extra_env": {"REFLEX_OPLOCK_ENABLED": "true"}}
    with running_app(tmp_path_factory.mktemp("worker-a"), **options) as a, \
            running_app(tmp_path_factory.mktemp("worker-b"), **options) as b:
        cluster = Cluster(a, b, database_url)
        yield cluster
        cluster.engine.dispose()
    client.flushdb()


async def tab_for(app: RunningApp, email: str, path: str, password: str = PASSWORD) -> ReflexTab:
    tab = ReflexTab(app.url)
    await tab.connect()
    await tab.open("/login")
    assert await tab.finish_login(await tab.send(
        handler_name(AccountFormState, "login"), {"form_data": {"email": email, "password": password}}))
    await tab.open(path)
    return tab


async def wait_for(tab: ReflexTab, found: Callable[[dict], bool],
                   timeout: float = DEADLINE) -> float:
    """Seconds until the server pushes a message that satisfies `found`; fails after `timeout`."""
    start = time.monotonic()
    while (left := timeout - (time.monotonic() - start)) > 0:
        try:
            message = await asyncio.wait_for(tab.messages.get(), left)
        except TimeoutError:
            break
        if found(message):
            return time.monotonic() - start
    pytest.fail(f"nothing pushed within {timeout}s")


def sets(name: str, check: Callable[[object], bool] = lambda _: True) -> Callable[[dict], bool]:
    return lambda message: any(key == name and check(value)
                               for _, key, value in iter_vars(message))


def toasts(message: dict) -> list[str]:
    return [str(event.get("payload")) for event in message.get("events") or []
            if "__toast" in str(event.get("payload"))]


async def drain(tab: ReflexTab, seconds: float) -> list[dict]:
    messages = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            messages.append(await asyncio.wait_for(tab.messages.get(), left))
        except TimeoutError:
            break
    return messages


def test_progress_made_in_a_tab_on_one_worker_shows_in_a_tab_on_the_other(cluster):
    _, email = cluster.learner()
    first_lesson = cluster.scalar(
        select(Lesson.id).join(Module).join(Course).where(Course.slug == "python-foundations")
        .order_by(Module.position, Lesson.position))
    lessons = cluster.scalar(select(func.count()).select_from(Lesson).join(Module).join(Course)
                             .where(Course.slug == "python-foundations"))  # the quiz included

    async def scenario() -> float:
        learning = await tab_for(cluster.a, email, "/courses/python-foundations")
        await learning.send(handler_name(CourseState, "enroll"))
        dashboard = await tab_for(cluster.b, email, "/dashboard")
        await learning.open(f"/learn/python-foundations/{first_lesson}")
        await learning.send(handler_name(LearnState, "set_completed"), {"completed": True})
        took = await wait_for(dashboard, sets("courses", lambda rows: any(
            row["slug"] == "python-foundations" and row["percent"] == 100 // lessons for row in rows)))
        await learning.close()
        await dashboard.close()
        return took

    assert run(scenario()) < DEADLINE


def test_an_approval_on_one_worker_unlocks_the_course_for_the_learner_on_the_other(cluster):
    user_id, email = cluster.learner()
    with Session(cluster.engine) as session:
        course = session.exec(select(Course).where(Course.slug == "web-apps-with-reflex")).one()
        payment = payments.submit_payment(session, session.get(User, user_id), course.id,
                                          reference="TRX-LIVE-1")
        session.commit()
        payment_id = payment.id

    async def scenario() -> list[dict]:
        learner = await tab_for(cluster.a, email, "/courses/web-apps-with-reflex")
        admin = await tab_for(cluster.b, "admin@academy.test", "/admin/payments", DEMO_PASSWORD)
        await admin.send(handler_name(payment_page.state, "run_action"),
                         {"name": "approve", "row_id": payment_id})
        pushed = await drain(learner, DEADLINE)
        await learner.close()
        await admin.close()
        return pushed

    pushed = run(scenario())
    assert any(sets("is_enrolled", lambda value: value is True)(message) for message in pushed)
    shown = [toast for message in pushed for toast in toasts(message)]
    assert len(shown) == 1 and "Payment approved" in shown[0], shown


def test_a_notification_from_another_process_reaches_each_tab_once(cluster):
    user_id, email = cluster.learner()

    async def scenario() -> tuple[list[dict], list[dict]]:
        on_a = await tab_for(cluster.a, email, "/dashboard")
        on_b = await tab_for(cluster.b, email, "/courses")
        # A separate Python process, as a Celery worker would be: it only shares Redis and the DB.
        subprocess.run([sys.executable, "-c", (
            "from academy_app.db import session_scope\n"
            "from academy_app.services.notifications import notify\n"
            "with session_scope() as session:\n"
            f"    notify(session, {user_id}, 'course.update', 'New module out', 'Go and see')\n")],
            cwd=PROJECT_ROOT, check=True, timeout=60,
            env={**os.environ, "REFLEX_DB_URL": cluster.database_url, "REFLEX_REDIS_URL": REDIS_URL})
        heard = await asyncio.gather(drain(on_a, DEADLINE), drain(on_b, DEADLINE))
        await on_a.close()
        await on_b.close()
        return heard

    for messages in run(scenario()):
        shown = [toast for message in messages for toast in toasts(message)]
        assert len(shown) == 1 and "New module out" in shown[0], shown
        assert any(sets("unread", lambda value: value == 1)(message) for message in messages)


def test_a_tab_that_reconnects_elsewhere_catches_up_from_the_database(cluster):
    user_id, email = cluster.learner()

    async def scenario() -> int:
        tab = await tab_for(cluster.a, email, "/dashboard")
        await tab.close()  # offline: nobody is there to push to
        with Session(cluster.engine) as session:
            notify(session, user_id, "course.update", "Sent while offline")
            session.commit()
        # Back online, and the load balancer picks the other worker: the browser reconnects with
        # the same tab token and re-sends the page's load events, as Reflex's client does.
        back = ReflexTab(cluster.b.url, login_token=tab.login_token)
        back.token = tab.token
        await back.connect()
        replies = await back.open("/dashboard")
        await back.close()
        return ReflexTab.var(replies, "unread")

    assert run(scenario()) == 1
