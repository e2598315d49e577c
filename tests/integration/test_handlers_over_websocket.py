"""Crafted events over Reflex's own WebSocket protocol, against the backend with its state in Redis.

Any connected client can call any public handler with any payload, so these tests do exactly that:
they prove the handlers re-check the session on the server, validate their arguments, never let the
client pick what to act on, and log what they refuse.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
import socketio
from sqlmodel import Session, select

from academy_app.admin.certificates import certificate_page
from academy_app.admin.course_editor import CourseEditorState
from academy_app.admin.courses import course_page
from academy_app.admin.jobs import JobsState
from academy_app.admin.pacing import PacingState
from academy_app.admin.payments import payment_page
from academy_app.admin.question_bank import QuestionBankState
from academy_app.admin.quiz_editor import QuizEditorState
from academy_app.admin.study_groups import study_groups
from academy_app.admin.users import user_page
from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.infra.cache import PREFIX as CACHE_PREFIX
from academy_app.models import (
    Course,
    Lesson,
    Module,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    Role,
    User,
    utcnow,
)
from academy_app.services import accounts, attempts, enrollment, payments, quizzes
from academy_app.state.account import AccountFormState
from academy_app.state.catalog import CatalogState
from academy_app.state.course import CourseState
from academy_app.state.learn import LearnState
from academy_app.state.quiz import QuizState
from tests.appserver import RunningApp, redis_backend
from tests.wsclient import ReflexTab, handler_name, handoff_ticket, iter_vars, run

REDIS_URL = "redis://127.0.0.1:6379/13"
# The admin kit's states of /admin/payments, /admin/certificates and /admin/users.
PAYMENTS, CERTIFICATES, USERS = payment_page.state, certificate_page.state, user_page.state


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with redis_backend(tmp_path_factory, REDIS_URL, "backend") as app:
        yield app


def forget_cached_reads() -> None:
    """After a test writes to the database behind the backend's back (a write through the app
    would replace the cache versions it touches): the backend's cached reads are dropped."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{CACHE_PREFIX}:*"):
        client.delete(key)


def rows(app: RunningApp, sql: str) -> int:
    with sqlite3.connect(app.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(sql).fetchone()[0]


async def anonymous_tab(app: RunningApp, path: str) -> ReflexTab:
    tab = ReflexTab(app.url)
    await tab.connect()
    await tab.open(path)
    return tab


async def logged_in_tab(app: RunningApp, email: str = "student@academy.test") -> ReflexTab:
    tab = await anonymous_tab(app, "/login")
    replies = await tab.send(handler_name(AccountFormState, "login"),
                             {"form_data": {"email": email, "password": DEMO_PASSWORD}})
    assert await tab.finish_login(replies)
    return tab


def test_login_over_the_websocket_keeps_the_tab_state_in_redis(backend):
    async def scenario() -> None:
        tab = await logged_in_tab(backend)
        replies = await tab.open("/dashboard")
        assert ReflexTab.var(replies, "user_name") == "Sam Student"
        await tab.close()
        keys = redis.Redis.from_url(REDIS_URL).keys(f"{tab.token}*")
        assert keys, "the tab's state should live in Redis"

    run(scenario())


def test_wrong_password_over_the_websocket_gets_the_generic_message(backend):
    async def scenario() -> None:
        tab = await anonymous_tab(backend, "/login")
        replies = await tab.send(handler_name(AccountFormState, "login"), {
            "form_data": {"email": "student@academy.test", "password": "guess-guess-guess"}})
        assert ReflexTab.var(replies, "form_error") == "Email or password is incorrect"
        assert handoff_ticket(replies) is None
        await tab.close()

    run(scenario())


@pytest.mark.parametrize("payload", [
    {"form_data": "not a dict"},
    {"form_data": {"email": ["a"], "password": {"x": 1}}},
    {"form_data": {"email": "a" * 100_000, "password": "b" * 100_000}},
])
def test_hostile_login_payloads_are_answered_without_a_session(backend, payload):
    async def scenario() -> None:
        tab = await anonymous_tab(backend, "/login")
        replies = await tab.send(handler_name(AccountFormState, "login"), payload)
        assert handoff_ticket(replies) is None
        await tab.close()

    run(scenario())


def test_a_logged_out_tab_cannot_enroll_and_is_sent_to_log_in(backend):
    enrollments = rows(backend, "SELECT count(*) FROM enrollments")  # the demo's reviewers have some

    async def scenario() -> None:
        tab = await anonymous_tab(backend, "/courses/python-foundations")
        replies = await tab.send(handler_name(CourseState, "enroll"))
        redirects = [event for message in replies for event in message.get("events", [])
                     if event.get("name") == "_redirect"]
        assert redirects and "/login?next=/courses/python-foundations" in str(redirects)
        await tab.close()

    run(scenario())
    assert rows(backend, "SELECT count(*) FROM enrollments") == enrollments


def test_a_search_answers_with_its_results_and_puts_the_words_in_the_address(backend):
    """One event brings the results and the redirect; the on_load that the address change then
    runs reads nothing again, and a later visit to the same address (Back, a reload) reads afresh."""
    from reflex.state import OnLoadInternalState

    async def scenario() -> None:
        tab = await anonymous_tab(backend, "/courses")
        replies = await tab.send(handler_name(CatalogState, "search"), {"text": "sql"})
        redirects = [event["payload"]["path"] for message in replies
                     for event in message.get("events") or [] if event.get("name") == "_redirect"]
        assert redirects == ["/courses?q=sql"]
        assert "SQL for Analysts" in [card["title"] for card in ReflexTab.var(replies, "courses")]
        tab.path = redirects[0]
        replies = await tab.send(handler_name(OnLoadInternalState, "on_load_internal"))
        assert ReflexTab.var(replies, "is_hydrated") is True
        with pytest.raises(KeyError):
            ReflexTab.var(replies, "courses")
        replies = await tab.send(handler_name(OnLoadInternalState, "on_load_internal"))
        assert "SQL for Analysts" in [card["title"] for card in ReflexTab.var(replies, "courses")]
        await tab.close()

    run(scenario())


def test_repeated_enroll_events_create_one_enrollment(backend):
    async def scenario() -> None:
        tab = await logged_in_tab(backend, "student2@academy.test")
        await tab.open("/courses/sql-for-analysts")
        for _ in range(3):
            await tab.send(handler_name(CourseState, "enroll"), settle=0.1, expect_reply=False)
        await tab.close()

    run(scenario())
    assert rows(backend, "SELECT count(*) FROM enrollments e JOIN users u ON u.id = e.user_id "
                         "WHERE u.email = 'student2@academy.test'") == 1


def test_crafted_events_cannot_pick_what_they_act_on(backend):
    """Handlers act on server-held ids; arguments that try to steer them are ignored or refused."""
    progress_rows = rows(backend, "SELECT count(*) FROM lesson_progress")  # the demo reviewers'

    async def scenario() -> None:
        tab = await logged_in_tab(backend)
        # set_filter only touches the four filter vars, whatever name it is given.
        replies = await tab.send(handler_name(CatalogState, "set_filter"),
                                 {"name": "user_role", "value": "admin"}, expect_reply=False)
        with pytest.raises(KeyError):
            ReflexTab.var(replies, "user_role")
        # No lesson opened in this tab: there is nothing to mark, whatever the payload says.
        for completed in (True, "yes", None):
            await tab.send(handler_name(LearnState, "set_completed"), {"completed": completed},
                           expect_reply=False)
        # No course opened: enrolling refers to no course and is refused, not guessed.
        replies = await tab.send(handler_name(CourseState, "enroll"))
        assert any("not found" in str(message.get("events", "")).lower() for message in replies)
        await tab.close()

    run(scenario())
    assert rows(backend, "SELECT count(*) FROM lesson_progress") == progress_rows
    assert rows(backend, "SELECT count(*) FROM enrollments e JOIN users u ON u.id = e.user_id "
                         "WHERE u.email = 'student@academy.test'") == 0
    assert "refused enroll" in backend.log_text()


@pytest.fixture
def pending_payment(backend: RunningApp) -> int:
    """A learner's pending payment for the instructor's paid demo course, made through services."""
    engine = make_engine(backend.database_url)
    with Session(engine) as session:
        learner = accounts.register(session, accounts.SignupForm(
            "Crafty Learner", f"crafty-{uuid.uuid4().hex[:6]}@example.com", "long-enough-password"))
        course = session.exec(select(Course).where(Course.slug == "accessible-interfaces")).one()
        payment = payments.submit_payment(session, learner, course.id, reference="TRX-CRAFTED")
        session.commit()
        payment_id = payment.id
    engine.dispose()
    return payment_id


@pytest.fixture
def other_instructor(backend: RunningApp) -> str:
    engine = make_engine(backend.database_url)
    email = f"other-{uuid.uuid4().hex[:6]}@example.com"
    with Session(engine) as session:
        accounts.register(session, accounts.SignupForm("Other Instructor", email,
                                                       DEMO_PASSWORD), role=Role.INSTRUCTOR)
        session.commit()
    engine.dispose()
    return email


@pytest.mark.parametrize("caller", ["student", "other instructor"])
def test_crafted_admin_events_from_outsiders_are_refused_logged_and_change_nothing(
        backend, pending_payment, other_instructor, caller):
    email = "student@academy.test" if caller == "student" else other_instructor
    audited = rows(backend, "SELECT count(*) FROM audit_log")  # the demo's quizzes, authored

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, email)
        tab.path = "/admin/payments"
        replies = await tab.send(handler_name(PAYMENTS, "run_action"),
                                 {"name": "approve", "row_id": pending_payment})
        replies += await tab.send(handler_name(PAYMENTS, "run_action"),
                                  {"name": "reject", "row_id": pending_payment})
        await tab.send(handler_name(PAYMENTS, "set_reason"), {"text": "crafted rejection"},
                       expect_reply=False)
        replies += await tab.send(handler_name(PAYMENTS, "confirm_reason"), expect_reply=False)
        await tab.close()
        return replies

    replies = run(scenario())
    toasts = str([message.get("events") for message in replies])
    assert "You can only manage your own courses" in toasts or "Only instructors" in toasts
    assert rows(backend, f"SELECT count(*) FROM payments WHERE id = {pending_payment} "
                         "AND status = 'pending'") == 1
    assert rows(backend, "SELECT count(*) FROM audit_log") == audited
    log = backend.log_text()
    assert "refused payment.approve" in log and "refused payment.reject" in log


def test_kit_lists_show_another_instructor_none_of_the_demo_instructors_rows(
        backend, pending_payment, other_instructor):
    async def scenario() -> dict[str, list[str]]:
        tab = await logged_in_tab(backend, other_instructor)
        shown = {path: listed(await tab.open(path), state) for path, state in (
            ("/admin/courses", course_page.state), ("/admin/payments", PAYMENTS))}
        await tab.close()
        return shown

    assert run(scenario()) == {"/admin/courses": [], "/admin/payments": []}


def test_the_courses_instructor_can_approve_over_the_websocket(backend, pending_payment):
    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, "instructor@academy.test")
        opened = await tab.open("/admin/payments")
        await tab.send(handler_name(PAYMENTS, "run_action"),
                       {"name": "approve", "row_id": pending_payment})
        await tab.close()
        return opened

    assert "payment of Crafty Learner" in listed(run(scenario()), PAYMENTS)
    assert rows(backend, f"SELECT count(*) FROM payments WHERE id = {pending_payment} "
                         "AND status = 'approved'") == 1


def test_oversized_uploads_are_refused_before_they_are_read(backend):
    """The body is never sent: the declared size alone gets the refusal."""
    host, port = backend.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"POST /_upload HTTP/1.1\r\nHost: {host}\r\n"
                           "Content-Type: multipart/form-data; boundary=x\r\n"
                           f"Content-Length: {7 * 1024 * 1024}\r\n\r\n".encode())
        status_line = connection.recv(200).split(b"\r\n")[0]
    assert b" 413 " in status_line + b" "


def test_crafted_authoring_events_against_another_instructors_course_change_nothing(
        backend, other_instructor):
    """Another instructor names the demo course's lesson and module ids directly."""
    lesson_id, module_id = (rows(backend, f"SELECT min(l.{column}) FROM lessons l JOIN modules m ON "
                                          "m.id = l.module_id JOIN courses c ON c.id = m.course_id "
                                          "WHERE c.slug = 'python-foundations'")
                            for column in ("id", "module_id"))
    lessons_before = rows(backend, "SELECT count(*) FROM lessons")
    cover = "SELECT cover_key FROM courses WHERE slug = 'python-foundations'"
    cover_before = rows(backend, cover)

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, other_instructor)
        await tab.open("/admin/courses/new")
        replies = []
        for handler, payload in [
            ("ask_delete", {"kind": "lesson", "item_id": lesson_id, "title": "x"}),
            ("confirm_delete", {}),
            ("ask_delete", {"kind": "module", "item_id": module_id, "title": "x"}),
            ("confirm_delete", {}),
            ("open_lesson", {"lesson_id": lesson_id}),
            ("move_lesson", {"lesson_id": lesson_id, "direction": 1}),
            ("open_new_lesson", {"module_id": module_id}),
            ("set_lesson_field", {"name": "title", "value": "Injected"}),
            ("save_lesson", {}),
            ("reload_outline", {}),
            ("upload_cover", {"files": [{"name": "cover.png", "data": "iVBORw0KGgo="}]}),
            ("remove_cover", {}),
        ]:
            replies += await tab.send(handler_name(CourseEditorState, handler), payload,
                                      expect_reply=False)
        await tab.close()
        return replies

    replies = run(scenario())
    assert "You can only manage your own courses" in str(replies)
    assert rows(backend, "SELECT count(*) FROM lessons") == lessons_before
    assert rows(backend, "SELECT count(*) FROM lessons WHERE title = 'Injected'") == 0
    log = backend.log_text()
    assert rows(backend, cover) == cover_before != ""
    for handler in ("delete_lesson", "delete_module", "open_lesson", "move_lesson", "save_lesson",
                    "reload_outline", "remove_cover"):
        assert f"refused {handler}" in log


@pytest.mark.parametrize("email", ["instructor@academy.test", "student2@academy.test"])
def test_crafted_account_admin_events_from_non_admins_are_refused(backend, email):
    """Promoting oneself or deactivating someone else takes an admin, whatever the client sends."""
    caller_id = rows(backend, f"SELECT id FROM users WHERE email = '{email}'")
    victim_id = rows(backend, "SELECT id FROM users WHERE email = 'student@academy.test'")

    async def scenario() -> None:
        tab = await logged_in_tab(backend, email)
        tab.path = "/admin/users"
        await tab.send(handler_name(USERS, "choose"),
                       {"name": "role", "row_id": caller_id, "value": "admin"})
        await tab.send(handler_name(USERS, "run_action"),
                       {"name": "deactivate", "row_id": victim_id})
        await tab.close()

    run(scenario())
    assert rows(backend, f"SELECT role = 'admin' FROM users WHERE id = {caller_id}") == 0
    assert rows(backend, f"SELECT is_active FROM users WHERE id = {victim_id}") == 1
    log = backend.log_text()
    assert "refused user.role" in log and "refused user.deactivate" in log


def test_a_crafted_retry_of_a_failed_email_from_a_non_admin_is_refused(backend):
    with sqlite3.connect(backend.database_url.removeprefix("sqlite:///")) as connection:
        email_id = connection.execute(
            "INSERT INTO email_log (kind, dedupe_key, to_address, subject, context, status, "
            "attempts, last_error, created_at) VALUES ('course.update', 'crafted:1', "
            "'someone@example.com', 'Failed', '{}', 'failed', 6, 'down', CURRENT_TIMESTAMP)"
        ).lastrowid

    async def scenario() -> None:
        tab = await logged_in_tab(backend, "instructor@academy.test")
        tab.path = "/admin/jobs"
        await tab.send(handler_name(JobsState, "retry"), {"email_id": email_id})
        await tab.close()

    run(scenario())
    assert rows(backend, f"SELECT status = 'failed' FROM email_log WHERE id = {email_id}") == 1
    assert "refused retry_email" in backend.log_text()


@pytest.mark.parametrize("email", ["student@academy.test", "instructor@academy.test"])
def test_crafted_certificate_revocations_from_non_admins_are_refused(backend, email):
    learner_id = rows(backend, "SELECT id FROM users WHERE email = 'student2@academy.test'")
    with sqlite3.connect(backend.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM certificates")
        valid, revoked = (connection.execute(
            "INSERT INTO certificates (code, user_id, course_id, student_name, course_title, "
            "instructor_name, issued_at, revoked_at, revoked_reason) VALUES "
            "(?, ?, ?, 'Alex Student', 'Course', 'Iris', CURRENT_TIMESTAMP, ?, ?)",
            (code, learner_id, course_id, revoked_at, reason)).lastrowid
            for code, course_id, revoked_at, reason in [
                ("A" * 16, 1, None, ""), ("B" * 16, 2, "2026-11-01 00:00:00", "Fraud")])

    async def scenario() -> None:
        tab = await logged_in_tab(backend, email)
        tab.path = "/admin/certificates"
        await tab.send(handler_name(CERTIFICATES, "run_action"), {"name": "revoke", "row_id": valid})
        await tab.send(handler_name(CERTIFICATES, "set_reason"), {"text": "crafted"},
                       expect_reply=False)
        await tab.send(handler_name(CERTIFICATES, "confirm_reason"), {}, expect_reply=False)
        await tab.send(handler_name(CERTIFICATES, "run_action"),
                       {"name": "reinstate", "row_id": revoked})
        await tab.close()

    run(scenario())
    assert rows(backend, f"SELECT revoked_at IS NULL FROM certificates WHERE id = {valid}") == 1
    assert rows(backend, f"SELECT revoked_reason FROM certificates WHERE id = {revoked}") == "Fraud"
    log = backend.log_text()
    assert "refused certificate.revoke" in log and "refused certificate.reinstate" in log


def test_a_websocket_from_a_foreign_origin_is_refused(backend: RunningApp):
    """A page on another site cannot open Academy's socket with the visitor's cookies."""
    async def scenario() -> None:
        foreign = ReflexTab(backend.url, origin="https://evil.example")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await foreign.connect()
        own = ReflexTab(backend.url)
        await own.connect()
        await own.close()

    run(scenario())


# --- an admin-kit page: the kit's service checks the row's owner, whatever the client sends ------

STUDY_GROUPS = study_groups.state  # the admin kit's state of /admin/study-groups


def kit_event(name: str) -> str:
    return handler_name(STUDY_GROUPS, name)


def table(app: RunningApp, sql: str) -> list[tuple]:
    with sqlite3.connect(app.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(sql).fetchall()


def listed(replies: list[dict], state: type = STUDY_GROUPS) -> list[str]:
    """The labels of the rows a kit list last showed (this state's `rows` only)."""
    found = [value for message in replies for path, key, value in iter_vars(message)
             if path == state.get_full_name() and key == "rows"]
    assert found, "the list was not loaded"
    return [row["label"] for row in found[-1]]


def test_crafted_kit_events_against_another_instructors_group_are_refused_and_logged(
        backend, other_instructor):
    [(group_id, course_id)] = table(backend, "SELECT id, course_id FROM study_groups "
                                             "WHERE name = 'Python Circle'")
    before = table(backend, "SELECT * FROM study_groups ORDER BY id")
    log_start = backend.log_size()

    async def scenario() -> tuple[list[dict], list[dict]]:
        tab = await logged_in_tab(backend, other_instructor)
        opened = await tab.open("/admin/study-groups")
        replies = []
        for handler, payload in [
            ("open_edit", {"row_id": group_id}),
            ("set_field", {"name": "name", "value": "Hijacked"}),
            ("save", {}),  # the form was never opened for that row: at most a create, refused
            ("ask_delete", {"row_id": group_id}),
            ("confirm_delete", {}),
            ("run_action", {"name": "close", "row_id": group_id}),
            ("open_create", {}),  # a new group, in the other instructor's course
            ("set_field", {"name": "name", "value": "Squatters"}),
            ("set_field", {"name": "course_id", "value": str(course_id)}),
            ("set_field", {"name": "created_by_id", "value": "1"}),
            ("save", {}),
            ("set_filter", {"name": "course_id", "value": str(course_id)}),
            ("sort_by", {"name": "created_by_id"}),
            ("open_edit", {"row_id": "1 OR 1=1"}),
            ("run_action", {"name": "__init__", "row_id": group_id}),
        ]:
            replies += await tab.send(kit_event(handler), payload, expect_reply=False)
        await tab.close()
        return opened, replies

    opened, replies = run(scenario())
    assert listed(opened) == []  # the list shows none of the other instructor's groups
    assert "You can only manage your own courses" in str(replies)
    assert table(backend, "SELECT * FROM study_groups ORDER BY id") == before
    assert table(backend, "SELECT count(*) FROM audit_log WHERE action LIKE 'study_group.%'") == [(0,)]
    log = backend.log_text(log_start)
    for refused in ("study_group.open_edit", "study_group.create", "study_group.ask_delete",
                    "study_group.close"):
        assert f"refused {refused}" in log
    assert "Traceback" not in log


def test_the_groups_own_instructor_can_close_it_over_the_websocket(backend):
    [(group_id,)] = table(backend, "SELECT id FROM study_groups WHERE name = 'SQL Study Hall'")

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, "instructor@academy.test")
        opened = await tab.open("/admin/study-groups")
        await tab.send(kit_event("run_action"), {"name": "close", "row_id": group_id})
        await tab.close()
        return opened

    opened = run(scenario())
    assert set(listed(opened)) == {"Python Circle", "Weekend Pythonistas", "SQL Study Hall"}
    assert table(backend, f"SELECT is_open FROM study_groups WHERE id = {group_id}") == [(0,)]
    assert table(backend, "SELECT action FROM audit_log WHERE action LIKE 'study_group.%'") == [
        ("study_group.close",)]


@pytest.fixture(scope="module")
def demo_quiz(backend: RunningApp) -> tuple[int, int]:
    """A quiz with one question in the demo instructor's Python course: (quiz id, question id)."""
    engine = make_engine(backend.database_url)
    with Session(engine) as session:
        instructor = session.exec(select(User).where(User.email == "instructor@academy.test")).one()
        course = session.exec(select(Course).where(Course.slug == "python-foundations")).one()
        module = session.exec(select(Module).where(Module.course_id == course.id)).first()
        quiz = quizzes.create_quiz(session, instructor, module.id, "Crafted quiz")
        question = quizzes.add_quiz_question(session, instructor, quiz.id, quizzes.QuestionForm(
            "true_false", "Is this quiz yours?", {"answer": True}))
        session.commit()
        ids = quiz.id, question.id
    engine.dispose()
    return ids


@pytest.mark.parametrize("caller", ["student", "other instructor"])
def test_crafted_quiz_editor_events_are_refused_logged_and_change_nothing(
        backend, demo_quiz, other_instructor, caller):
    """A learner or another course's instructor calls the quiz editor's and the question bank's
    handlers directly, naming the demo quiz and its question: every one is refused and logged."""
    email = "student2@academy.test" if caller == "student" else other_instructor
    quiz_id, question_id = demo_quiz
    log_start = backend.log_size()
    before = [table(backend, f"SELECT * FROM quizzes WHERE id = {quiz_id}"),
              table(backend, "SELECT count(*) FROM questions"),
              table(backend, "SELECT count(*) FROM question_versions"),
              table(backend, f"SELECT * FROM quiz_questions WHERE quiz_id = {quiz_id}")]

    def editor(handler: str) -> str:
        return handler_name(QuizEditorState, handler)

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, email)
        replies = await tab.open(f"/admin/quizzes/{quiz_id}")
        for name, payload in [
            ("set_setting", {"name": "pass_percent", "value": "0"}),
            ("save_settings", {}),
            ("move", {"question_id": question_id, "direction": 1}),
            ("remove", {"question_id": question_id}),
            ("edit", {"question_id": question_id}),
            ("set_q", {"name": "stem", "value": "Injected"}),
            ("set_kind", {"kind": "true_false"}),
            ("save_question", {}),
            ("ask_regrade", {}),
            ("confirm_regrade", {}),
            ("choose_from_bank", {"value": str(question_id)}),
            ("add_from_bank", {}),
        ]:
            replies += await tab.send(editor(name), payload, expect_reply=False)
        tab.path = "/admin/courses/1/questions"
        await tab.send(handler_name(QuestionBankState, "set_gift_text"),
                       {"text": "Injected? {T}"}, expect_reply=False)
        await tab.send(handler_name(QuestionBankState, "preview_gift"), expect_reply=False)
        replies += await tab.send(handler_name(QuestionBankState, "import_gift"),
                                  expect_reply=False)
        await tab.close()
        return replies

    replies = run(scenario())
    assert "Injected" not in str(table(backend, "SELECT stem FROM question_versions"))
    assert [table(backend, f"SELECT * FROM quizzes WHERE id = {quiz_id}"),
            table(backend, "SELECT count(*) FROM questions"),
            table(backend, "SELECT count(*) FROM question_versions"),
            table(backend, f"SELECT * FROM quiz_questions WHERE quiz_id = {quiz_id}")] == before
    assert '"error"' in str(replies)  # told, as a toast
    log = backend.log_text(log_start)
    for refused in ("quiz_editor.save_settings", "quiz_editor.move", "quiz_editor.remove",
                    "quiz_editor.save_question", "quiz_editor.ask_regrade",
                    "quiz_editor.regrade"):
        assert f"refused {refused}" in log
    assert "Traceback" not in log


def test_crafted_quiz_events_reach_only_the_learners_own_attempt_and_submit_grades_once(backend):
    """A learner's tab answers only the attempt the server holds for it: a question of another
    quiz (or another learner's attempt) is refused and logged, extra arguments naming an attempt
    are dropped, and submitting twice leaves one graded attempt."""
    engine = make_engine(backend.database_url)
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == "sql-for-analysts")).one()
        learners = [session.exec(select(User).where(User.email == email)).one()
                    for email in ("student@academy.test", "student2@academy.test")]
        for learner in learners:
            enrollment.enroll_free(session, learner, course.id)
        quiz_id = session.exec(select(Quiz.id).join(Lesson, Lesson.id == Quiz.lesson_id)
                               .join(Module).where(Module.course_id == course.id)).one()
        lesson_id = session.get(Quiz, quiz_id).lesson_id
        theirs = attempts.start_attempt(session, learners[1], quiz_id)
        elsewhere = session.exec(select(QuizQuestion.question_id).join(Quiz).join(Lesson).join(
            Module).join(Course).where(Course.slug == "python-foundations")).first()
        foreign_version = session.exec(select(QuestionVersion.id).where(
            QuestionVersion.question_id == elsewhere)).first()
        session.commit()
    engine.dispose()
    forget_cached_reads()

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend)
        await tab.open(f"/learn/sql-for-analysts/{lesson_id}")
        replies = await tab.send(handler_name(QuizState, "start"))
        questions = ReflexTab.var(replies, "questions")
        single = next(q for q in questions if q["kind"] == "single")
        crafted = [
            ("choose", {"version_id": foreign_version, "value": "0"}),  # another quiz's question
            ("choose", {"version_id": single["version_id"], "value": "99"}),  # no such option
            ("choose", {"version_id": single["version_id"], "value": "0",  # names their attempt
                        "attempt_id": theirs.attempt_id}),
            ("type_answer", {"version_id": single["version_id"], "text": "x" * 100_000}),
            ("move", {"version_id": single["version_id"], "position": 0, "step": 5}),
            ("choose", {"version_id": single["version_id"], "value": ["0"]}),  # wrong types
            ("toggle", {"version_id": True, "key": {"0": 1}, "checked": "yes"}),
            ("match", {"version_id": single["version_id"], "left": 0.0, "right": [1]}),
        ]
        for handler, payload in crafted:
            replies += await tab.send(handler_name(QuizState, handler), payload,
                                      expect_reply=False)
        replies += await tab.send(handler_name(QuizState, "choose"),
                                  {"version_id": single["version_id"], "value": "0"})
        for _ in range(2):  # a double click
            replies += await tab.send(handler_name(QuizState, "submit"), expect_reply=False)
        await tab.close()
        return replies

    replies = run(scenario())
    assert "This question is not part of your attempt" in str(replies)
    assert rows(backend, f"SELECT count(*) FROM attempt_answers WHERE attempt_id = "
                         f"{theirs.attempt_id}") == 0
    assert rows(backend, f"SELECT count(*) FROM quiz_attempts WHERE quiz_id = {quiz_id} AND "
                         "submitted_at IS NOT NULL") == 1
    assert rows(backend, f"SELECT count(*) FROM quiz_attempts WHERE quiz_id = {quiz_id}") == 2
    assert rows(backend, "SELECT count(*) FROM attempt_answers a JOIN quiz_attempts t ON "
                         f"t.id = a.attempt_id WHERE t.quiz_id = {quiz_id}") == 1
    log = backend.log_text()
    assert "refused quiz_answer" in log and "Traceback" not in log


def test_the_server_clock_ends_an_open_attempt_and_the_tab_shows_its_result(backend):
    """A timed attempt resumed in a tab: the server sends the seconds left once (the browser
    counts them down itself, pages/quiz.py), not a frame a second; at zero the tab gets the result
    without any event of its own (graded with what was saved by the deadline)."""
    engine = make_engine(backend.database_url)
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == "design-systems-101")).one()
        learner = session.exec(select(User).where(User.email == "student2@academy.test")).one()
        enrollment.enroll_free(session, learner, course.id)
        quiz = session.exec(select(Quiz).join(Lesson, Lesson.id == Quiz.lesson_id).join(Module)
                            .where(Module.course_id == course.id)).one()
        quiz.time_limit_minutes = 1
        session.add(quiz)
        session.flush()
        view = attempts.start_attempt(session, learner, quiz.id)
        attempt = session.get(QuizAttempt, view.attempt_id)
        attempt.deadline = utcnow() + timedelta(seconds=3)
        session.add(attempt)
        lesson_id, attempt_id = quiz.lesson_id, view.attempt_id
        session.commit()
    engine.dispose()
    forget_cached_reads()

    async def scenario() -> list[dict]:
        tab = await logged_in_tab(backend, "student2@academy.test")
        replies = await tab.open(f"/learn/design-systems-101/{lesson_id}")
        while not any(value == "result" for message in replies
                      for _, key, value in iter_vars(message) if key == "mode"):
            replies.append(await asyncio.wait_for(tab.messages.get(), 15))
        await tab.close()
        return replies

    replies = run(scenario())
    assert ReflexTab.var(replies, "result_score") == "0%"
    shown = [value for message in replies for _, key, value in iter_vars(message)
             if key == "seconds_left"]
    counted = shown[next(i for i, left in enumerate(shown) if left > 0):]
    assert len(counted) == 2 and 0 < counted[0] <= 3 and counted[1] == -1, shown  # sent once
    assert rows(backend, f"SELECT count(*) FROM quiz_attempts WHERE id = {attempt_id} AND "
                         "submitted_at IS NOT NULL") == 1


PACING_TABLES = ["SELECT * FROM release_rules ORDER BY id", "SELECT * FROM cohorts ORDER BY id",
                 "SELECT * FROM course_prerequisites ORDER BY id",
                 "SELECT * FROM access_overrides ORDER BY id",
                 "SELECT id, cohort_id FROM enrollments ORDER BY id",
                 "SELECT id, time_zone FROM courses ORDER BY id"]


@pytest.mark.parametrize("caller", ["student", "other instructor"])
def test_crafted_pacing_events_are_refused_logged_and_change_nothing(backend, other_instructor,
                                                                     caller):
    """A learner or another course's instructor opens the paced demo course's pacing page and
    calls its handlers directly, naming its module, cohort and a learner: the page shows nothing,
    every call that reaches a service is refused and logged, and no table changes."""
    email = "student2@academy.test" if caller == "student" else other_instructor
    [(course_id, module_id, cohort_id)] = table(
        backend, "SELECT c.id, min(m.id), min(h.id) FROM courses c JOIN modules m ON "
                 "m.course_id = c.id JOIN cohorts h ON h.course_id = c.id "
                 "WHERE c.slug = 'statistics-you-can-use' GROUP BY c.id")
    [(learner_id,)] = table(backend, "SELECT id FROM users WHERE email = 'student@academy.test'")
    before = [table(backend, query) for query in PACING_TABLES]
    log_start = len(backend.log_text())

    async def scenario() -> tuple[list[dict], list[dict]]:
        tab = await logged_in_tab(backend, email)
        opened = await tab.open(f"/admin/courses/{course_id}/pacing")
        replies = []
        for handler, payload in [
            ("open_rule", {"target": "module", "target_id": module_id}),
            ("set_rule_field", {"name": "kind", "value": "in_sequence"}),
            ("save_rule", {}),
            ("clear_rule", {}),
            ("set_zone_input", {"value": "Asia/Tokyo"}),
            ("save_zone", {}),
            ("set_prerequisite_field", {"name": "course", "value": "1"}),
            ("add_prerequisite", {}),
            ("remove_prerequisite", {"prerequisite_id": 1}),
            ("open_cohort", {"cohort_id": cohort_id}),
            ("set_cohort_field", {"name": "name", "value": "Hijacked"}),
            ("save_cohort", {}),
            ("ask_delete_cohort", {"cohort_id": cohort_id}),
            ("confirm_delete_cohort", {}),
            ("place", {"user_id": learner_id, "cohort": str(cohort_id)}),
            ("toggle_learner", {"user_id": learner_id, "on": True}),
            ("set_override_field", {"name": "reason", "value": "Let me in"}),
            ("grant", {}),
            ("ask_revoke", {"override_id": 1}),
            ("confirm_revoke", {}),
        ]:
            replies += await tab.send(handler_name(PacingState, handler), payload,
                                      expect_reply=False)
        await tab.close()
        return opened, replies

    opened, replies = run(scenario())
    shown = {key: value for message in opened for path, key, value in iter_vars(message)
             if path == PacingState.get_full_name()}
    assert not shown.get("modules") and not shown.get("cohorts")  # nothing of the course shown
    assert [table(backend, query) for query in PACING_TABLES] == before
    assert '"error"' in str(replies)  # told, as a toast
    log = backend.log_text()[log_start:]
    for refused in ("pacing.open_rule", "pacing.time_zone", "pacing.add_prerequisite",
                    "pacing.remove_prerequisite", "pacing.open_cohort", "pacing.place"):
        assert f"refused {refused}" in log
    assert "Traceback" not in log
