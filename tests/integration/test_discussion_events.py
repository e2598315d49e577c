"""Crafted discussion events over the WebSocket: a learner cannot accept an answer to someone
else's question, edit someone else's post nor moderate (nor approve a post held for review, their
own included), whatever the event says; posting too fast is refused; and an anonymous author's name
never reaches another learner's tab, nor hidden text, whether the tab asked or a live change reached
it (checked in the state deltas themselves)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import redis
from sqlmodel import Session, col, select

from academy_app.admin.discussions import InboxState
from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Course, DiscussionPost, Lesson, Module, User
from academy_app.services import accounts, discussions, enrollment
from academy_app.settings import get_settings
from academy_app.state.discussions import DiscussionState
from tests.appserver import RunningApp
from tests.integration.test_handlers_over_websocket import (  # noqa: F401
    REDIS_URL,
    backend,
    logged_in_tab,
    rows,
)
from tests.wsclient import ReflexTab, handler_name, iter_vars, run, wait_for_var


class Question(NamedTuple):
    path: str
    thread_id: int
    opening_id: int
    reply_id: int  # the attacker's own reply to it
    asker_email: str


@pytest.fixture
def question(backend: RunningApp) -> Iterator[Question]:  # noqa: F811
    """An anonymous question by a new learner, and a reply to it by the demo's student2."""
    engine = make_engine(backend.database_url)
    with Session(engine, expire_on_commit=False) as session:
        course = session.exec(select(Course).where(Course.slug == "python-foundations")).one()
        lesson_id = session.exec(select(Lesson.id).join(Module).where(
            Module.course_id == course.id).order_by(col(Module.position), col(Lesson.position))
        ).first()
        asker = accounts.register(session, accounts.SignupForm(
            "Secret Asker", f"asker-{uuid.uuid4().hex[:6]}@example.com", DEMO_PASSWORD))
        attacker = session.exec(select(User).where(User.email == "student2@academy.test")).one()
        for learner in (asker, attacker):
            enrollment.enroll_free(session, learner, course.id)
        thread = discussions.start_thread(
            session, asker, lesson_id, kind="question", title="Crafted target",
            body="original words", anonymous=True, request_id=uuid.uuid4().hex)
        reply = discussions.reply(session, attacker, thread.id, body="my own answer",
                                  anonymous=False, request_id=uuid.uuid4().hex)
        opening = session.exec(select(DiscussionPost).where(
            DiscussionPost.thread_id == thread.id, col(DiscussionPost.is_opening))).one()
        session.commit()
        yield Question(f"/learn/{course.slug}/{lesson_id}", thread.id, opening.id, reply.id,
                       asker.email)
    engine.dispose()


def test_a_learner_cannot_accept_or_edit_over_the_websocket(backend, question):  # noqa: F811
    async def scenario() -> str:
        tab = await logged_in_tab(backend, "student2@academy.test")
        await tab.open(question.path)
        seen = await tab.send(handler_name(DiscussionState, "open_thread"),
                              {"thread_id": question.thread_id})
        await tab.send(handler_name(DiscussionState, "accept"), {"post_id": question.reply_id})
        await tab.send(handler_name(DiscussionState, "start_edit"),
                       {"post_id": question.opening_id})
        await tab.send(handler_name(DiscussionState, "set_edit_body"), {"value": "defaced"},
                       expect_reply=False)
        await tab.send(handler_name(DiscussionState, "save_edit"), expect_reply=False)
        for hostile in ({"post_id": "1 OR 1=1"}, {"post_id": -5}, {"post_id": 2**40}):
            await tab.send(handler_name(DiscussionState, "accept"), hostile, expect_reply=False)
        await tab.close()
        return str(seen)

    seen = run(scenario())
    assert "Anonymous" in seen and "Secret Asker" not in seen
    assert rows(backend, f"SELECT count(*) FROM discussion_threads WHERE id = {question.thread_id} "
                         "AND accepted_post_id IS NULL") == 1
    assert rows(backend, f"SELECT count(*) FROM discussion_posts WHERE id = {question.opening_id} "
                         "AND body = 'original words' AND edited_at IS NULL") == 1
    log = backend.log_text()
    assert "refused accept" in log and "refused start_edit" in log


def test_a_learner_cannot_moderate_over_the_websocket(backend, question):  # noqa: F811
    """The moderators' handlers, on the lesson page and the inbox, called by a learner: refused,
    logged, nothing hidden or audited. Their flag, sent twice, is stored once."""
    async def scenario() -> None:
        tab = await logged_in_tab(backend, "student2@academy.test")
        await tab.open(question.path)
        await tab.send(handler_name(DiscussionState, "open_thread"),
                       {"thread_id": question.thread_id})
        for name, payload in (("hide_thread", {"hidden": True}),
                              ("hide_post", {"post_id": question.reply_id, "hidden": True})):
            await tab.send(handler_name(DiscussionState, name), payload, expect_reply=False)
        for name, payload in (("hide_thread", {"thread_id": question.thread_id, "hidden": True}),
                              ("hide_post", {"post_id": question.reply_id, "hidden": True}),
                              ("dismiss_flags", {"post_id": question.opening_id}),
                              ("hide_post", {"post_id": "1; DROP TABLE users", "hidden": "yes"})):
            await tab.send(handler_name(InboxState, name), payload, expect_reply=False)
        await tab.send(handler_name(DiscussionState, "start_flag"), {"post_id": question.opening_id})
        await tab.send(handler_name(DiscussionState, "set_flag_reason"), {"value": "Off topic"},
                       expect_reply=False)
        for _click in range(2):
            await tab.send(handler_name(DiscussionState, "send_flag"), expect_reply=False)
        await tab.close()

    run(scenario())
    assert rows(backend, "SELECT count(*) FROM discussion_posts WHERE thread_id = "
                         f"{question.thread_id} AND hidden_at IS NOT NULL") == 0
    assert rows(backend, "SELECT count(*) FROM discussion_threads WHERE id = "
                         f"{question.thread_id} AND hidden_at IS NULL") == 1
    assert rows(backend, "SELECT count(*) FROM audit_log WHERE action LIKE 'discussion.%'") == 0
    assert rows(backend, "SELECT count(*) FROM discussion_flags WHERE post_id = "
                         f"{question.opening_id} AND reason = 'Off topic'") == 1
    log = backend.log_text()
    assert "refused hide_thread" in log and "refused hide_post" in log
    assert "refused dismiss_flags" in log


def test_a_learner_cannot_approve_a_held_post_over_the_websocket(
        backend, question, monkeypatch):  # noqa: F811
    """A new learner's reply with a link waits for review. Its author and another learner send the
    moderators' review event, approve and reject: refused and logged, the post still held, nothing
    audited."""
    # The reply is written in this process, under its settings.
    monkeypatch.setattr(get_settings(), "discussion_hold_links_days", 7)
    engine = make_engine(backend.database_url)
    with Session(engine, expire_on_commit=False) as session:
        email = f"newcomer-{uuid.uuid4().hex[:6]}@example.com"
        newcomer = accounts.register(session, accounts.SignupForm("Nina Newcomer", email,
                                                                  DEMO_PASSWORD))
        course = session.exec(select(Course).where(Course.slug == "python-foundations")).one()
        enrollment.enroll_free(session, newcomer, course.id)
        held = discussions.reply(session, newcomer, question.thread_id,
                                 body="Cheap answers at [this site](https://spam.example)",
                                 anonymous=False, request_id=uuid.uuid4().hex)
        session.commit()
    engine.dispose()
    assert held.held_at is not None

    async def scenario() -> None:
        for attacker in (email, "student2@academy.test"):
            tab = await logged_in_tab(backend, attacker)
            await tab.open(question.path)
            for approve in (True, False):
                await tab.send(handler_name(InboxState, "review_post"),
                               {"post_id": held.id, "approve": approve}, expect_reply=False)
            await tab.close()

    run(scenario())
    assert rows(backend, f"SELECT count(*) FROM discussion_posts WHERE id = {held.id} "
                         "AND held_at IS NOT NULL AND deleted_at IS NULL") == 1
    assert rows(backend, "SELECT count(*) FROM audit_log WHERE action LIKE 'discussion.%'") == 0
    assert backend.log_text().count("refused review_post") >= 4


def test_posting_too_fast_is_refused_with_a_clear_message(backend, question):  # noqa: F811
    """Learners' posts are counted in Redis (the backend's limiter); the one over the limit is
    refused with a message saying so, and is not stored."""
    limits = redis.Redis.from_url(REDIS_URL)
    for key in limits.scan_iter("academy:rl:discussion:*"):  # ids repeat across test databases
        limits.delete(key)
    limit = get_settings().discussion_posts_per_window

    async def scenario() -> str:
        tab = await logged_in_tab(backend, "student2@academy.test")
        await tab.open(question.path)
        await tab.send(handler_name(DiscussionState, "open_thread"),
                       {"thread_id": question.thread_id})
        answers = []
        for number in range(limit + 1):
            await tab.send(handler_name(DiscussionState, "set_reply_body"),
                           {"value": f"Thought number {number}"}, expect_reply=False)
            answers.append(await tab.send(handler_name(DiscussionState, "post_reply")))
        await tab.close()
        return str(answers[-1])

    refusal = run(scenario())
    assert "please wait before posting again" in refusal
    assert rows(backend, "SELECT count(*) FROM discussion_posts p JOIN users u ON u.id = "
                         "p.author_id WHERE u.email = 'student2@academy.test' AND p.thread_id = "
                         f"{question.thread_id}") == 1 + limit
    assert "refused post_reply" in backend.log_text()


def discussion_deltas(messages: list[dict]) -> list[dict]:
    """What of these server messages changed the discussion's state (not the bell's)."""
    key = DiscussionState.get_full_name()
    return [(message.get("delta") or {})[key] for message in messages
            if key in (message.get("delta") or {})]


def has_var(name: str, found) -> object:
    return lambda message: any(key == name and found(value) for _, key, value in
                               iter_vars(message))


def test_a_live_change_reaches_each_tab_as_its_viewer_may_see_it(backend, question):  # noqa: F811
    """The asker posts anonymously while a peer and the instructor watch the lesson with the
    question open: the change, read once in the backend for every tab, reaches each tab written
    for its viewer. The peer's deltas never carry the asker's name, the instructor's do; a new
    reply waits behind the marker; once the instructor hides the thread, the peer's tab gets
    none of its text."""
    def send(tab: ReflexTab, handler: str, payload: dict | None = None) -> object:
        return tab.send(handler_name(DiscussionState, handler), payload)

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        peer = await logged_in_tab(backend, "student2@academy.test")
        staff = await logged_in_tab(backend, "instructor@academy.test")
        asker = await logged_in_tab(backend, question.asker_email)
        for tab in (peer, staff, asker):
            await tab.open(question.path)
            await send(tab, "open_thread", {"thread_id": question.thread_id})
        seen, staff_seen = [], []
        for handler, value in (("set_title", "Second secret question"),
                               ("set_body", "asked without my name"), ("set_anonymous", True)):
            await send(asker, handler, {"value": value})
        await send(asker, "post_thread")
        titled = has_var("threads", lambda threads: "Second secret question" in str(threads))
        await wait_for_var(peer, seen, titled)
        await wait_for_var(staff, staff_seen, titled)

        await send(asker, "open_thread", {"thread_id": question.thread_id})
        await send(asker, "set_reply_body", {"value": "still stuck, anyone?"})
        await send(asker, "set_reply_anonymous", {"value": True})
        await send(asker, "post_reply")
        await wait_for_var(peer, seen, has_var("new_replies", lambda count: count == 1))

        await send(staff, "hide_thread", {"hidden": True})
        after_hiding: list[dict] = []
        await wait_for_var(peer, after_hiding, has_var(
            "opened", lambda line: line.get("title") == discussions.HIDDEN))
        for tab in (peer, staff, asker):
            await tab.close()
        return seen, staff_seen, after_hiding

    seen, staff_seen, after_hiding = run(scenario())
    pushed = discussion_deltas(seen + after_hiding)
    assert "Secret Asker" not in str(pushed)
    threads = next(delta["threads_rx_state_"] for delta in discussion_deltas(seen)
                   if "Second secret question" in str(delta.get("threads_rx_state_")))
    assert {"title": "Second secret question", "author": "Anonymous"}.items() <= \
        threads[0].items()
    assert "Secret Asker (anonymous to learners)" in str(discussion_deltas(staff_seen))
    hidden = discussion_deltas(after_hiding)
    assert "original words" not in str(hidden) and "still stuck" not in str(hidden)
    # (other tests' questions share its title, so the hidden one is told by its id)
    assert all(line["id"] != question.thread_id for delta in hidden
               for line in delta.get("threads_rx_state_", []))
