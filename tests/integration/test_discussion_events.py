"""Crafted discussion events over the WebSocket: a learner cannot accept an answer to someone
else's question nor edit someone else's post, whatever the event says, and an anonymous author's
name never reaches another learner's tab (checked in the state deltas themselves)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from sqlmodel import Session, col, select

from academy_app.db import make_engine
from academy_app.models import Course, DiscussionPost, Lesson, Module, User
from academy_app.services import accounts, discussions, enrollment
from academy_app.state.discussions import DiscussionState
from tests.appserver import RunningApp
from tests.integration.test_handlers_over_websocket import backend, logged_in_tab, rows  # noqa: F401
from tests.wsclient import handler_name, run


class Question(NamedTuple):
    path: str
    thread_id: int
    opening_id: int
    reply_id: int  # the attacker's own reply to it


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
            "Secret Asker", f"asker-{uuid.uuid4().hex[:6]}@example.com", "long-enough-password"))
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
        yield Question(f"/learn/{course.slug}/{lesson_id}", thread.id, opening.id, reply.id)
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
