"""A learner's submitted attempt reaches the instructor's open results page without the page
asking: the submit runs in another process (this test, as the learner's worker would), publishes on
Redis, and the backend that holds the instructor's tab reruns the page's `refresh` (state/live.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Role, User
from academy_app.services import accounts, attempts, authoring, emails, enrollment, quizzes
from academy_app.settings import get_settings
from tests.appserver import RunningApp, redis_backend
from tests.integration.test_handlers_over_websocket import logged_in_tab
from tests.wsclient import ReflexTab, iter_vars, run

REDIS_URL = "redis://127.0.0.1:6379/10"
DEADLINE = 5.0  # seconds; generous on a shared machine: "live" here means "without asking"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with redis_backend(tmp_path_factory, REDIS_URL, "results") as app:
        yield app


@pytest.fixture
def quiz(backend: RunningApp) -> Iterator[tuple[int, int, Session]]:
    """A one-question quiz of the demo instructor and an enrolled learner: (quiz id, learner id,
    a session on the app's database). This process publishes on the app's Redis."""
    engine = make_engine(backend.database_url)
    with pytest.MonkeyPatch.context() as patch, Session(engine, expire_on_commit=False) as session:
        patch.setenv("REFLEX_REDIS_URL", REDIS_URL)
        get_settings.cache_clear()
        patch.setattr(emails, "send_later", lambda _ids: None)
        instructor = session.exec(select(User).where(
            User.email == "instructor@academy.test")).one()
        course = authoring.create_course(session, instructor, authoring.CourseForm(
            title=f"Live Lab {uuid.uuid4().hex[:4]}"))
        module = authoring.add_module(session, instructor, course.id, "Only module")
        quiz = quizzes.create_quiz(session, instructor, module.id, "Live quiz")
        quizzes.add_quiz_question(session, instructor, quiz.id, quizzes.QuestionForm(
            "true_false", "Is this live?", {"answer": True}))
        authoring.set_published(session, instructor, course.id, True)
        learner = accounts.register(session, accounts.SignupForm(
            "Lou Learner", f"live-{uuid.uuid4().hex[:6]}@example.com", DEMO_PASSWORD),
            role=Role.STUDENT)
        session.flush()
        enrollment.enroll_free(session, learner, course.id)
        session.commit()
        yield quiz.id, learner.id, session
    get_settings.cache_clear()
    engine.dispose()


def submit(session: Session, learner_id: int, quiz_id: int) -> None:
    learner = session.get_one(User, learner_id)
    view = attempts.start_attempt(session, learner, quiz_id)
    attempts.save_answer(session, learner, view.attempt_id, view.questions[0].version_id,
                         {"value": True})
    attempts.submit_attempt(session, learner, view.attempt_id)
    session.commit()


def test_a_submitted_attempt_is_pushed_to_the_open_results_page(backend, quiz):
    quiz_id, learner_id, session = quiz

    async def scenario() -> tuple[list, float]:
        tab: ReflexTab = await logged_in_tab(backend, "instructor@academy.test")
        opened = await tab.open(f"/admin/quizzes/{quiz_id}/results")
        await asyncio.to_thread(submit, session, learner_id, quiz_id)
        start = time.monotonic()
        while (left := DEADLINE - (time.monotonic() - start)) > 0:
            try:
                message = await asyncio.wait_for(tab.messages.get(), left)
            except TimeoutError:
                break
            recent = [value for _, key, value in iter_vars(message) if key == "recent"]
            if recent and any(row["learner"] == "Lou Learner" for row in recent[-1]):
                await tab.close()
                return opened, time.monotonic() - start
        await tab.close()
        pytest.fail(f"the results page heard nothing within {DEADLINE}s")

    opened, took = run(scenario())
    assert ReflexTab.var(opened, "recent") == []  # the page had no attempt when it was opened
    assert took < DEADLINE
