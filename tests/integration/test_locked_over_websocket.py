"""A locked lesson over Reflex's WebSocket (issue 19): its page load, a crafted "mark as complete"
and a crafted quiz start are refused with the reason, none of its content reaches the tab, and
nothing is recorded. Against the backend with its state in Redis, on the demo's paced course
(Statistics You Can Use: module 1 in sequence, module 2 a week after the cohort starts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from academy_app.db import make_engine
from academy_app.demo import DEMO_VIDEO_URL, PACED_COHORT, PACED_COURSE, QUIZ_TITLE
from academy_app.models import (
    Cohort,
    Course,
    EnrollmentStatus,
    Lesson,
    Module,
    User,
    utcnow,
)
from academy_app.services import access, enrollment
from academy_app.state.learn import LearnState
from academy_app.state.quiz import QuizState
from tests.appserver import RunningApp, redis_backend
from tests.integration.test_handlers_over_websocket import logged_in_tab, rows
from tests.wsclient import ReflexTab, handler_name, iter_vars, open_page, run

REDIS_URL = "redis://127.0.0.1:6379/3"
LEARNER = "student2@academy.test"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with redis_backend(tmp_path_factory, REDIS_URL, "locked") as app:
        yield app


@pytest.fixture(scope="module")
def paced(backend: RunningApp) -> dict[str, int]:
    """The learner enrolled in the paced course's cohort (the payment step left out); the ids of
    its lessons and of the learner."""
    engine = make_engine(backend.database_url)
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == PACED_COURSE)).one()
        learner = session.exec(select(User).where(User.email == LEARNER)).one()
        enrollment.ensure_enrollment(session, learner.id, course.id, EnrollmentStatus.ACTIVE)
        cohort = session.exec(select(Cohort).where(Cohort.course_id == course.id,
                                                   Cohort.name == PACED_COHORT)).one()
        access.join_cohort(session, learner, cohort.id, utcnow())
        ids = session.exec(select(Lesson.id, Lesson.title).join(Module)
                           .where(Module.course_id == course.id)
                           .order_by(col(Module.position), col(Lesson.position))).all()
        found = {title: lesson_id for lesson_id, title in ids}
        found |= {"course": course.id, "learner": learner.id,
                  "module2": session.exec(select(Module.id).where(
                      Module.course_id == course.id, Module.position == 1)).one(),
                  "instructor": course.instructor_id}
        session.commit()
    engine.dispose()
    return found


def toasts(replies: list[dict]) -> str:
    return str([event for message in replies for event in message.get("events", [])])


def test_loading_a_locked_lesson_refuses_with_the_reason_and_sends_none_of_it(backend, paced):
    async def scenario() -> tuple[list[dict], list[dict]]:
        tab = await logged_in_tab(backend, LEARNER)
        dated = await tab.open(f"/learn/{PACED_COURSE}/{paced['Sampling']}")
        in_sequence = await tab.open(f"/learn/{PACED_COURSE}/{paced['Variance in pictures']}")
        await tab.close()
        return dated, in_sequence

    dated, in_sequence = run(scenario())
    assert "This lesson is locked: Opens " in toasts(dated)
    assert f"/courses/{PACED_COURSE}" in toasts(dated)
    # (the toast's JavaScript escapes the curly quotes)
    assert "This lesson is locked: Complete \\\\u201cMean, median and mode\\\\u201d to open" \
        in toasts(in_sequence)
    for replies in (dated, in_sequence):
        shown = [value for message in replies for _, key, value in iter_vars(message)
                 if key in ("body_html", "video_url", "captions_src", "transcript")]
        assert not any(shown), shown  # the hydrated defaults only
        assert DEMO_VIDEO_URL not in str(replies) and "captions.vtt" not in str(replies)
        assert "Welcome to **" not in str(replies) and "Welcome to <strong>" not in str(replies)


def test_crafted_mark_complete_and_quiz_start_on_a_lesson_locked_again_are_refused(backend,
                                                                                   paced):
    """The tab opened module 2 while an instructor's override held it open; once revoked, its
    crafted "mark as complete" and quiz start are refused with the reason, nothing recorded."""
    engine = make_engine(backend.database_url)

    def override(grant: bool) -> None:
        with Session(engine) as session:
            instructor = session.get(User, paced["instructor"])
            if grant:
                access.grant_overrides(session, instructor, [paced["learner"]],
                                       course_id=paced["course"], module_id=paced["module2"])
            else:
                ids = [o.id for o in access.learner_overrides(session, instructor,
                                                              paced["course"])]
                access.revoke_overrides(session, instructor, ids, utcnow())
            session.commit()

    quiz_lesson = paced[QUIZ_TITLE]
    override(grant=True)

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        tab = await logged_in_tab(backend, LEARNER)
        reading = await tab.open(f"/learn/{PACED_COURSE}/{paced['Sampling']}")
        quiz_tab = await logged_in_tab(backend, LEARNER)
        await quiz_tab.open(f"/learn/{PACED_COURSE}/{quiz_lesson}")
        override(grant=False)
        marked = await tab.send(handler_name(LearnState, "set_completed"), {"completed": True})
        started = await quiz_tab.send(handler_name(QuizState, "start"))
        await tab.close()
        await quiz_tab.close()
        return reading, marked, started

    try:
        reading, marked, started = run(scenario())
    finally:
        engine.dispose()
    assert "Welcome to" in str(ReflexTab.var(reading, "body_html"))  # open while overridden
    assert "Opens " in toasts(marked) and "Opens " in toasts(started)
    with pytest.raises(KeyError):
        ReflexTab.var(started, "questions")
    learner = paced["learner"]
    assert rows(backend, f"SELECT count(*) FROM lesson_progress WHERE user_id = {learner}") == 0
    assert rows(backend, f"SELECT count(*) FROM quiz_attempts WHERE user_id = {learner}") == 0
    log = backend.log_text()
    assert "refused set_completed" in log and "refused start_quiz" in log
    assert "Traceback" not in log


def test_completing_the_lesson_a_sequence_waits_for_opens_the_next_in_the_same_answer(backend,
                                                                                       paced):
    """Module 1 runs in sequence: marking its first lesson complete answers with the second one
    open in the outline and the Next link, and says so; marking it undone locks it again on the
    next page load, not in this answer (nothing opened)."""
    first, second = paced["Mean, median and mode"], paced["Variance in pictures"]

    def outline_row(replies: list[dict], lesson_id: int) -> dict:
        modules = ReflexTab.var(replies, "modules")
        return next(row for module in modules for row in module["lessons"] if row["id"] == lesson_id)

    async def scenario() -> tuple[list[dict], list[dict], list[dict]]:
        tab = await logged_in_tab(backend, LEARNER)
        opened = await open_page(tab, f"/learn/{PACED_COURSE}/{first}", LearnState)
        marked = await tab.send(handler_name(LearnState, "set_completed"), {"completed": True})
        undone = await tab.send(handler_name(LearnState, "set_completed"), {"completed": False})
        await tab.close()
        return opened, marked, undone

    opened, marked, undone = run(scenario())
    assert outline_row(opened, second)["locked"] is True
    assert ReflexTab.var(opened, "next_href") == ""
    assert outline_row(marked, second)["locked"] is False
    assert ReflexTab.var(marked, "next_href") == f"/learn/{PACED_COURSE}/{second}"
    assert "Now open: Variance in pictures" in toasts(marked)
    assert "Now open" not in toasts(undone)
    learner = paced["learner"]
    assert rows(backend, f"SELECT count(*) FROM lesson_progress WHERE user_id = {learner}") == 0
