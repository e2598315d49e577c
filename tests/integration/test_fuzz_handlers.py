"""Random and hostile payloads to every public event handler, over Reflex's real WebSocket.

Any connected client can send any event name with any payload, so Hypothesis does exactly that, as
an anonymous visitor, a student and an instructor, to every handler of every academy_app state
(found by walking the State tree: a new handler is fuzzed without touching this file), against the
backend on PostgreSQL (it refuses text SQLite accepts). For each handler and role the tab opens the
page the handler lives on, then sends payloads with wrong types, missing and extra arguments, huge,
NUL, control-character and lone-surrogate strings, nested structures, huge and negative numbers,
real ids of other people's things, SQL and HTML fragments, some under a hostile page address; then
sequences of the handlers of one page (open a dialog, fill it in, confirm). After every event the
server must answer the tab; after each handler or page:

- the app's log holds no traceback (nothing the handler failed to expect reached Reflex),
- the tab still loads its page (hydrate and on_load) as the same person,
- the database shows nothing the role may not do: no course, lesson, coupon, payment decision, role
  change, certificate revocation, email retry or audit entry by a student or a visitor, and nothing
  an instructor may not touch (another instructor's course, admin-only actions).

Deterministic (derandomized Hypothesis, fixed seed data) and bounded: about a minute and a half.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

import pytest
import reflex as rx
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Course, Role, User
from academy_app.services import (
    accounts,
    authoring,
    coupons,
    emails,
    enrollment,
    notifications,
    payments,
)
from academy_app.settings import PROJECT_ROOT
from academy_app.state.account import AccountFormState
from academy_app.state.certificates import VerifyState
from tests.appserver import RunningApp, running_app
from tests.conftest import PostgresServer
from tests.wsclient import HYDRATE_AND_LOAD, ReflexTab, handler_name, iter_vars

T = TypeVar("T")
EXAMPLES_PER_HANDLER = 8  # Hypothesis examples per handler and role, after the fixed shapes
EXAMPLES_PER_SEQUENCE = 4  # sequences of 2 to 6 events per page and role
ANSWER_SECONDS = 20
ROLES = {  # role: (email, the name the navbar shows)
    "visitor": (None, ""),
    "student": ("student@academy.test", "Sam Student"),
    "instructor": ("instructor@academy.test", "Iris Instructor"),
}
OTHER_INSTRUCTOR = "other-instructor@example.com"
# Handlers that end the tab's login when they work: afterwards the tab may show nobody.
ENDS_THE_SESSION = {"logout", "logout_everywhere", "set_new_password"}
# Handlers with which a person renames themselves: afterwards the tab may show another name.
RENAMES_THE_CALLER = {"save_name"}
ADMIN_ONLY_ACTIONS = ("user.%", "certificate.%", "email.%")

# Words the app's handlers compare arguments with, so fuzzing also reaches past the first check.
VOCABULARY = [
    "title", "slug", "subtitle", "description", "category", "level", "price", "currency",
    "cover_image_url", "kind", "body", "video_url", "duration_minutes", "code", "value", "course",
    "max_uses", "expires_on", "module", "lesson", "admin", "instructor", "student", "all",
    "pending", "approved", "rejected", "failed", "queued", "sent", "valid", "revoked", "name",
    "email", "percent", "activity", "popular", "newest", "any", "free", "paid", "beginner", "text",
    "video", "session_token", "_course_id", "_user_id", "is_hydrated", "password", "full_name",
    "course_updates", "discussions", "releases", "reminders", "payments", "new_email",
]
HOSTILE_STRINGS = [
    "", " ", "'; DROP TABLE users; --", "' OR '1'='1", "1); UPDATE users SET role='admin'; --",
    "<script>window.__xss=1</script>", '"><img src=x onerror="window.__xss=1">',
    "javascript:window.__xss=1", "{{7*7}}${7*7}", "%s%n%x{0}{self.__class__}",
    "../../../../etc/passwd", "//evil.example/", "\x00", "\x00\x01\x07\x1b[31m\r\n\t\x7f",
    "\u202eevil\u202c\u200b\ufeff", "\ud800", "a\udfffb", "𝕏🙂👩‍👩‍👧" * 200,
    "é" * 60_000, "A" * 200_000, "NaN", "-1", "1e999", "99999999999999999999999", "null",
]
HOSTILE_NUMBERS = [0, -1, -(2**31), 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 10**300,
                   0.5, -0.0, 1e308, float("inf"), float("-inf"), float("nan")]
UNSENDABLE_IN_JSON = re.compile("[\ud800-\udfff]")
# What some arguments name, so that many payloads are requests the handler would carry out.
ID_TABLES = {"user_id": "users", "payment_id": "payments", "certificate_id": "certificates",
             "lesson_id": "lessons", "module_id": "modules", "item_id": "lessons",
             "email_id": "email_log", "course_id": "courses", "post_id": "discussion_posts",
             "thread_id": "discussion_threads"}
WORDS = {"role": ["admin", "instructor", "student"], "kind": ["module", "lesson"],
         "direction": ["1", "-1"], "column": ["name", "email", "percent", "activity"]}
DEEP = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{"x": [1]}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]


# -- the handlers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    state: type[rx.State]
    handler: str

    @property
    def event(self) -> str:
        return handler_name(self.state, self.handler)

    @property
    def params(self) -> list[inspect.Parameter]:
        fn = self.state.event_handlers[self.handler].fn
        return list(inspect.signature(fn, eval_str=True).parameters.values())[1:]

    def __str__(self) -> str:
        return f"{self.state.__name__}.{self.handler}"


def _states(root: type[rx.State]) -> Iterator[type[rx.State]]:
    for sub in sorted(root.get_substates(), key=lambda cls: cls.get_full_name()):
        yield sub
        yield from _states(sub)


STATE_PACKAGES = ("academy_app.state", "academy_app.admin", "academy_app.pages",
                  "academy_app.components")


def public_handlers() -> list[Target]:
    """Every handler a client can name on the app's own states (Reflex's internal states and the
    `setvar` Reflex adds to every state left out: they are Reflex's, not the app's).

    The states are found by importing every module of the packages that define them, not the
    composition root: building the app here would configure this process's logging and error
    reporting for every test that runs after. `test_every_app_state_is_fuzzed` checks against the
    app itself that none is missed."""
    for package in STATE_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    return [Target(state, name) for state in _states(rx.State)
            if state.__module__.startswith("academy_app.")
            for name in state.event_handlers if name != "setvar"]


TARGETS = public_handlers()
# What the app itself says, from a process of its own: its states, and each page's on_load events.
DESCRIBE_THE_APP = """
import json, reflex as rx
from reflex_base.utils.format import format_event_handler
import academy_app.academy_app as composition
def walk(state):
    for sub in state.get_substates():
        yield sub
        yield from walk(sub)
print("\\n" + json.dumps({
    "states": sorted(s.get_full_name() for s in walk(rx.State)
                     if s.__module__.startswith("academy_app.") and s.event_handlers.keys() - {"setvar"}),
    "routes": {route: [format_event_handler(e) for e in events]
               for route, events in composition.app._load_events.items()},
}))
"""


@dataclass(frozen=True)
class AppFacts:
    states: list[str]
    routes: dict[str, list[str]]

    def route_of(self, state: type[rx.State]) -> str:
        """The page whose on_load runs a handler of this state (or of its nearest parent)."""
        for cls in state.__mro__:
            if not (isinstance(cls, type) and issubclass(cls, rx.State)) or cls is rx.State:
                continue
            prefix = cls.get_full_name() + "."
            for route, events in self.routes.items():
                if any(event.startswith(prefix) for event in events):
                    return route
        return "index"


@pytest.fixture(scope="module")
def app_facts() -> AppFacts:
    done = subprocess.run([sys.executable, "-c", DESCRIBE_THE_APP], capture_output=True, text=True,
                          check=True, timeout=120, cwd=PROJECT_ROOT)
    return AppFacts(**json.loads(done.stdout.strip().splitlines()[-1]))


# -- the world the fuzz runs in --------------------------------------------------------------------

@dataclass
class World:
    app: RunningApp
    engine: Engine
    ids: list[int] = field(default_factory=list)  # every id in the database: real targets
    ids_of: dict[str, list[int]] = field(default_factory=dict)  # by table
    route_values: dict[str, str] = field(default_factory=dict)
    other_course_id: int = 0
    failed_email_id: int = 0
    certificate_code: str = ""
    logins: dict[str, str] = field(default_factory=dict)  # role: the browser's login cookie

    def path(self, route: str) -> str:
        if route == "index":
            return "/"
        if route == "404":
            return "/no-such-page"
        parts = [self.route_values.get(part, part) for part in route.split("/")]
        return "/" + "/".join(parts)

    def sql(self, query: str, **params: Any) -> list[tuple]:
        with self.engine.begin() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query), params)]


def seed(app: RunningApp) -> World:
    """Things to aim at, made through the services: another instructor's course with a lesson, a
    coupon and a pending payment; a pending payment on the demo instructor's course; an enrolment
    and a notification for the student; a certificate and a failed email for the admin pages."""
    world = World(app, make_engine(app.database_url))
    with Session(world.engine) as session:
        other = accounts.register(session, accounts.SignupForm(
            "Olga Other", OTHER_INSTRUCTOR, DEMO_PASSWORD), role=Role.INSTRUCTOR)
        learner = accounts.register(session, accounts.SignupForm(
            "Paula Payer", "paula@example.com", DEMO_PASSWORD))
        student = session.exec(select(User).where(User.email == "student@academy.test")).one()
        session.flush()
        course = authoring.create_course(session, other, authoring.CourseForm(
            title="Olga's private course", slug="olga-private", price="19"))
        module = authoring.add_module(session, other, course.id, "Olga's module")
        authoring.add_lesson(session, other, module.id, authoring.LessonForm(
            title="Olga's lesson", body="Only Olga edits this."))
        authoring.set_published(session, other, course.id, True)
        coupons.create_coupon(session, other, coupons.CouponForm(
            code="OLGA10", value="10", course=str(course.id)))
        payments.submit_payment(session, learner, course.id, reference="TRX-OLGA")
        demo = {c.slug: c for c in session.exec(select(Course))}
        payments.submit_payment(session, learner, demo["accessible-interfaces"].id,
                                reference="TRX-IRIS")
        enrollment.enroll_free(session, student, demo["python-foundations"].id)
        notifications.notify(session, student.id, "test", "Welcome back", "A notification.")
        session.commit()
        world.other_course_id = course.id
        world.route_values = {"[slug]": "python-foundations",
                              "[course_id]": str(demo["python-foundations"].id),
                              "[token]": "not-a-real-token"}
    world.certificate_code = "FUZZ0CERT0000001"
    world.sql("INSERT INTO certificates (code, user_id, course_id, student_name, course_title, "
              "instructor_name, issued_at, revoked_reason) SELECT :code, id, 1, full_name, "
              "'Course', 'Iris', CURRENT_TIMESTAMP, '' FROM users "
              "WHERE email = 'paula@example.com' RETURNING id", code=world.certificate_code)
    world.failed_email_id = world.sql(
        "INSERT INTO email_log (kind, dedupe_key, to_address, subject, context, status, attempts, "
        "last_error, created_at, claimed_by) VALUES ('course.update', 'fuzz:1', "
        "'someone@example.com', 'Failed', '{}', 'failed', 6, 'down', CURRENT_TIMESTAMP, '') "
        "RETURNING id")[0][0]
    world.route_values["[lesson]"] = str(world.sql(
        "SELECT min(l.id) FROM lessons l JOIN modules m ON m.id = l.module_id JOIN courses c "
        "ON c.id = m.course_id WHERE c.slug = 'python-foundations'")[0][0])
    world.route_values["[code]"] = world.certificate_code
    world.ids_of = {table: sorted(row[0] for row in world.sql(f"SELECT id FROM {table}")) for table in (
        "users", "courses", "modules", "lessons", "payments", "coupons", "certificates",
        "email_log", "notifications", "enrollments", "discussion_threads", "discussion_posts")}
    world.ids = sorted({id_ for ids in world.ids_of.values() for id_ in ids})
    return world


def guarded(world: World, role: str) -> dict[str, list[tuple]]:
    """What the role must not be able to change, read straight from the database."""
    other = world.other_course_id
    own = ROLES[role][0] or ""
    checks = {
        "roles and active flags": "SELECT id, role, is_active FROM users ORDER BY id",
        "other people's names, addresses, pictures and email switches":
            "SELECT id, full_name, email, avatar, email_course_updates, email_discussions, "
            f"email_releases, email_reminders, email_payments FROM users WHERE email != '{own}' "
            f"AND id <= {max(world.ids_of['users'])} ORDER BY id",  # not who signed up meanwhile
        "certificates": "SELECT id, revoked_at, revoked_reason, revoked_by FROM certificates",
        "the failed email": f"SELECT status FROM email_log WHERE id = {world.failed_email_id}",
        "admin-only audit entries": "SELECT id, action FROM audit_log WHERE "
                                    + " OR ".join(f"action LIKE '{a}'" for a in ADMIN_ONLY_ACTIONS),
        "the other instructor's course": f"SELECT * FROM courses WHERE id = {other}",
        "the other instructor's modules": f"SELECT * FROM modules WHERE course_id = {other}",
        "the other instructor's lessons": "SELECT l.* FROM lessons l JOIN modules m ON "
                                          f"m.id = l.module_id WHERE m.course_id = {other}",
        "the other instructor's payments": "SELECT id, status, reviewer_id, reason FROM payments "
                                           f"WHERE course_id = {other}",
        "site-wide and the other instructor's coupons": "SELECT id, code, kind, value, course_id, "
                                                        "max_uses, expires_at FROM coupons WHERE "
                                                        f"course_id IS NULL OR course_id = {other}",
        "the other instructor's due date extensions": "SELECT * FROM deadline_extensions "
                                                       f"WHERE course_id = {other}",
        # Nobody here may review: the student has done 0 % of their course, the instructor is staff.
        "reviews": "SELECT id, course_id, user_id, rating, body FROM course_reviews ORDER BY id",
    }
    if role != "instructor":
        checks |= {
            "courses": "SELECT * FROM courses ORDER BY id",
            "modules": "SELECT * FROM modules ORDER BY id",
            "lessons": "SELECT * FROM lessons ORDER BY id",
            "coupons": "SELECT id, code, kind, value, course_id, max_uses, expires_at FROM coupons",
            "payment decisions": "SELECT id, status, reviewer_id, reason FROM payments "
                                 "WHERE status != 'pending' ORDER BY id",
            "audit log": "SELECT * FROM audit_log",
            "course updates sent": "SELECT count(*) FROM notifications WHERE kind = 'course.update'",
            "hidden discussions": "SELECT 'thread', id FROM discussion_threads WHERE hidden_at IS "
                                  "NOT NULL UNION ALL SELECT 'post', id FROM discussion_posts "
                                  "WHERE hidden_at IS NOT NULL ORDER BY 1, 2",
            "resolved flags": "SELECT id FROM discussion_flags WHERE resolved_at IS NOT NULL",
            "replies to reviews": "SELECT id, reply, reply_author_id FROM course_reviews ORDER BY id",
            "due date extensions": "SELECT * FROM deadline_extensions ORDER BY id",
        }
    return {name: world.sql(query) for name, query in checks.items()}


def assert_nothing_gained(world: World, role: str, before: dict[str, list[tuple]]) -> None:
    after = guarded(world, role)
    old_ids = {row[0] for row in before["roles and active flags"]}
    newcomers = [row for row in after["roles and active flags"] if row[0] not in old_ids]
    assert all(role_ == "student" for _, role_, _ in newcomers), newcomers
    after["roles and active flags"] = [r for r in after["roles and active flags"] if r[0] in old_ids]
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"the {role} changed what only others may change: {changed}"


# -- talking to the server -------------------------------------------------------------------------

class LoopThread:
    """One event loop for the whole module, on its own thread: a tab's socket lives on one loop,
    while Hypothesis calls the (synchronous) test body many times."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def __call__(self, scenario: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(scenario, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


PROBE = handler_name(VerifyState, "set_typed_code")


async def _emit(tab: ReflexTab, name: str, payload: Any) -> None:
    await tab.client.emit("event", {
        "name": name, "payload": payload,
        "router_data": {"pathname": tab.path, "asPath": tab.path, "query": {}},
    }, namespace="/_event")


async def _until(tab: ReflexTab, done: Any, what: str) -> list[dict]:
    """Messages until one satisfies `done`; fails if the server stops answering."""
    messages: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_SECONDS
    while True:
        try:
            message = await asyncio.wait_for(tab.messages.get(), max(deadline - loop.time(), 0))
        except TimeoutError:
            connected = "still connected" if tab.client.connected else "the socket was dropped"
            pytest.fail(f"no answer within {ANSWER_SECONDS} s after {what} ({connected})")
        messages.append(message)
        if done(message):
            return messages


async def exchange(tab: ReflexTab, name: str, payload: Any, path: str | None = None) -> list[dict]:
    """Send one event, then a probe event that always answers: once the probe's answer is back,
    the server has finished the event (one tab's events run in order) and still serves the tab."""
    page, tab.path = tab.path, path or tab.path
    nonce = uuid.uuid4().hex
    try:
        await _emit(tab, name, payload)
        await _emit(tab, PROBE, {"value": nonce})
        return await _until(tab, lambda m: any(
            key == "typed_code" and value == nonce for _, key, value in iter_vars(m)),
            f"{name} with {_short(payload)} at {tab.path[:80]!r}")
    finally:
        tab.path = page


async def open_page(tab: ReflexTab, path: str) -> list[dict]:
    """Load a page as the browser does, up to the end of its on_load handlers."""
    tab.path = path
    await _emit(tab, HYDRATE_AND_LOAD, {"vars": {}})
    return await _until(tab, lambda m: any(
        key == "is_hydrated" and value is True for _, key, value in iter_vars(m)),
        f"loading {path}")


def _short(payload: Any) -> str:
    text = json.dumps(payload, default=str)
    return text if len(text) < 300 else f"{text[:300]}… ({len(text)} characters)"


def _error_toasts(messages: list[dict]) -> list[str]:
    """What Reflex's default exception handler shows: "An error occurred." (a handler raised)."""
    return [str(event)[:300] for message in messages for event in message.get("events") or []
            if "An error occurred" in json.dumps(event, default=str)]


def _user_name(messages: list[dict]) -> str | None:
    names = [value for message in messages for _, key, value in iter_vars(message)
             if key == "user_name"]
    return names[-1] if names else None


async def tab_as(world: World, role: str, path: str) -> ReflexTab:
    """A fresh tab on `path`, logged in as the role (reusing the role's cookie while it works)."""
    email, name = ROLES[role]
    tab = ReflexTab(world.app.url, login_token=world.logins.get(role, ""))
    await tab.connect()
    if email and _user_name(await open_page(tab, "/login")) != name:
        assert await tab.finish_login(await exchange(
            tab, handler_name(AccountFormState, "login"),
            {"form_data": {"email": email, "password": DEMO_PASSWORD}}))
        world.logins[role] = tab.login_token
    replies = await open_page(tab, path)
    assert (_user_name(replies) or "") == name, f"{role} could not open {path}"
    return tab


# -- payloads ---------------------------------------------------------------------------------------

def hostile_values(world: World) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(),
        st.text(max_size=40), st.sampled_from(HOSTILE_STRINGS), st.sampled_from(HOSTILE_NUMBERS),
        st.sampled_from(VOCABULARY), st.sampled_from(world.ids),
    )
    keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
    nested = st.recursive(scalars, lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)), max_leaves=10)
    return st.one_of(scalars, nested, st.just(DEEP))


def plausible(world: World, param: inspect.Parameter) -> st.SearchStrategy[Any]:
    """A value of the type the handler declares, often one it acts on (a real id of what the
    argument names, a word it knows): those reach the rules behind the type checks, and would show
    a privilege gained."""
    annotation = param.annotation
    origin = get_origin(annotation) or annotation
    if origin is bool:
        return st.booleans()
    if origin is int:
        return st.sampled_from(world.ids_of.get(ID_TABLES.get(param.name, ""), world.ids))
    if origin is str:
        return (st.sampled_from(WORDS[param.name]) if param.name in WORDS
                else st.one_of(st.sampled_from(VOCABULARY), st.text()))
    if origin is dict or dict in get_args(annotation):
        return st.dictionaries(st.sampled_from(VOCABULARY), st.one_of(
            st.sampled_from(VOCABULARY), st.sampled_from(HOSTILE_STRINGS), st.text()), max_size=4)
    return hostile_values(world)


def typed_payloads(world: World, target: Target) -> st.SearchStrategy[dict[str, Any]]:
    """The handler's own argument names; three values in four of the declared type."""
    anything = hostile_values(world)
    return st.fixed_dictionaries({p.name: st.integers(0, 3).flatmap(
        lambda n, p=p: anything if n == 3 else plausible(world, p)) for p in target.params})


def payloads(world: World, target: Target) -> st.SearchStrategy[Any]:
    params = target.params
    anything = hostile_values(world)
    typed = typed_payloads(world, target)
    extra = st.dictionaries(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=20)), anything,
                            min_size=1, max_size=3)
    odd_shapes = [
        st.tuples(typed, st.sets(st.sampled_from([p.name for p in params] or ["-"]))).map(
            lambda pair: {k: v for k, v in pair[0].items() if k not in pair[1]}),  # missing
        st.tuples(typed, extra).map(lambda pair: {**pair[1], **pair[0]}),  # extra arguments
        anything.filter(lambda value: not isinstance(value, dict)),  # not an object at all
    ]
    # Three in four have the right names and odd values: those reach the handler's own checks
    # (the odd shapes are refused before any handler runs).
    return st.integers(0, 11).flatmap(lambda n: typed if n < 9 else odd_shapes[n - 9])


def fixed_payloads(target: Target) -> list[Any]:
    """Shapes every handler gets, whatever Hypothesis draws: the right argument names with values
    no form sends, then the wrong names, and payloads that are not arguments at all."""
    names = [p.name for p in target.params]
    right_names = [{name: value for name in names} for value in (
        None, "A" * 100_000, "\x00a\udfffb\u202e<img src=x onerror=alert(1)>'--", {"$gt": ""},
        -(2**63) - 1, 10**30, DEEP)] if names else []
    return [*right_names, {}, {**dict.fromkeys(names, 1), "unexpected": 1}, "not an object", None]


def hostile_paths(world: World, page: str) -> st.SearchStrategy[str]:
    """The page's own address, or one with a hostile segment (handlers read ids from it). No lone
    surrogates: a browser's address cannot hold one, and Reflex, which reads the address before
    any app code runs, drops the socket of a client that sends one (its own socket only)."""
    in_an_address = [text for text in HOSTILE_STRINGS
                     if len(text) < 2000 and not UNSENDABLE_IN_JSON.search(text)]
    segment = st.one_of(st.sampled_from(in_an_address), st.text(max_size=30),
                        st.integers(-(10**20), 10**20).map(str))
    return st.one_of(st.just(page), segment.map(lambda s: f"{page.rstrip('/')}/{s}"),
                     segment.map(lambda s: f"/learn/python-foundations/{s}"),
                     segment.map(lambda s: f"{page}?next={s}&category={s}&q={s}&notice={s}"))


# -- the test -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> Iterator[World]:
    """The backend alone on a PostgreSQL database of its own (what production runs: it refuses
    text SQLite takes), with Reflex's state on disk (the state store is not what is fuzzed)."""
    with running_app(tmp_path_factory.mktemp("fuzz"), backend_only=True,
                     database_url=postgres.create_database()) as app, \
            pytest.MonkeyPatch.context() as patch:
        # The seeding commits would send their emails from this process: the app's own do.
        patch.setattr(emails, "send_later", lambda _ids: None)
        made = seed(app)
        patch.undo()
        yield made
        made.engine.dispose()


def test_every_app_state_is_fuzzed(app_facts):
    """Every state of the app, as the app itself lists them, has its handlers fuzzed."""
    assert set(app_facts.states) <= {target.state.get_full_name() for target in TARGETS}
    assert {"AccountFormState.login", "CourseEditorState.save_lesson", "PaymentKitState.run_action",
            "UserKitState.choose", "CheckoutState.submit_payment"} <= set(map(str, TARGETS))


CASES = [(role, target) for role in ROLES for target in TARGETS]
FUZZ_SETTINGS = settings(derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("role", "target"), CASES, ids=[f"{r}-{t}" for r, t in CASES])
def test_hostile_payloads_are_answered_and_change_nothing_they_should_not(world, loop, app_facts,
                                                                          role, target):
    page = world.path(app_facts.route_of(target.state))
    tab = loop(tab_as(world, role, page))
    before, log_start = guarded(world, role), world.app.log_size()
    raised = [_short(payload) for payload in fixed_payloads(target)
              if _error_toasts(loop(exchange(tab, target.event, payload)))]

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_HANDLER)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        payload = data.draw(payloads(world, target), label="payload")
        path = data.draw(hostile_paths(world, page), label="path")
        replies = loop(exchange(tab, target.event, payload, path))
        assert not _error_toasts(replies), f"the handler raised on {_short(payload)} at {path!r}"

    fuzz()
    assert not raised, f"the handler raised on {raised}"
    assert_still_sound(world, loop, tab, role, page, before, log_start,
                       may_log_out=target.handler in ENDS_THE_SESSION,
                       may_rename=target.handler in RENAMES_THE_CALLER)


# Pages whose handlers work together (open a dialog, fill it in, confirm): sequences of them, with
# the right argument names and odd values, as a student and an instructor (a visitor is refused at
# the first step of each). A single handler at a time never confirms what another one opened.
STATES = sorted({target.state for target in TARGETS
                 if sum(t.state is target.state for t in TARGETS) > 1}, key=lambda s: s.__name__)
SEQUENCES = [(role, state) for role in ("student", "instructor") for state in STATES]


@pytest.mark.parametrize(("role", "state"), SEQUENCES,
                         ids=[f"{r}-{s.__name__}" for r, s in SEQUENCES])
def test_hostile_sequences_on_one_page_are_answered_and_change_nothing_they_should_not(
        world, loop, app_facts, role, state):
    targets = [target for target in TARGETS if target.state is state]
    page = world.path(app_facts.route_of(state))
    tab = loop(tab_as(world, role, page))
    before, log_start = guarded(world, role), world.app.log_size()
    step = st.sampled_from(targets).flatmap(
        lambda target: typed_payloads(world, target).map(lambda payload: (target, payload)))

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_SEQUENCE)
    @given(steps=st.lists(step, min_size=2, max_size=6))
    def fuzz(steps: list[tuple[Target, dict[str, Any]]]) -> None:
        for target, payload in steps:
            replies = loop(exchange(tab, target.event, payload))
            assert not _error_toasts(replies), f"{target} raised on {_short(payload)}"

    fuzz()
    assert_still_sound(world, loop, tab, role, page, before, log_start,
                       may_log_out=any(t.handler in ENDS_THE_SESSION for t in targets),
                       may_rename=any(t.handler in RENAMES_THE_CALLER for t in targets))


def assert_still_sound(world: World, loop: LoopThread, tab: ReflexTab, role: str, page: str,
                       before: dict[str, list[tuple]], log_start: int, *, may_log_out: bool,
                       may_rename: bool = False) -> None:
    """The tab still loads its page as the same person; the log holds no traceback; the
    database shows nothing the role may not do. (A person may rename themselves: their name is
    put back first, so the tab is known by it again.)"""
    email, name = ROLES[role]
    if may_rename and email:
        with world.engine.begin() as connection:
            connection.execute(sa.text("UPDATE users SET full_name = :name WHERE email = :email"),
                               {"name": name, "email": email})
    replies = loop(open_page(tab, page))
    assert not _error_toasts(replies)
    name = _user_name(replies) or ""
    assert name == ROLES[role][1] or (may_log_out and name == ""), name
    loop(tab.close())
    log = world.app.log_text(log_start)
    assert "Traceback" not in log and "Backend Exception" not in log, log[-6000:]
    assert_nothing_gained(world, role, before)
