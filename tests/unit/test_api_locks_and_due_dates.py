"""The REST API tells a learner what the site does: which lessons of a course are locked to them
(why, and when they open) and when its quizzes close, without a word of what a locked lesson holds;
a closed quiz refuses a new attempt with the reason. In process, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from academy_app.api.v1.app import api
from academy_app.models import Lesson, Module, ReleaseKind
from academy_app.services import access, deadlines, enrollment
from academy_app.services import quizzes as quiz_settings
from academy_app.services.access import RuleSpec
from academy_app.services.quizzes import QuizSettingsForm
from tests.factories import make_course
from tests.unit.test_api import V1, assert_problem, bearer, log_in
from tests.unit.test_quizzes import make_quiz

COURSE = f"{V1}/courses/paced"


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(api)


@pytest.fixture
def paced(db, instructor):
    """Two lessons, the second opening on 1 Jan 2099 at 09:00 Paris time, then a quiz that
    closes on 1 Jun 2099 at 17:00 Paris time."""
    course = make_course(db, instructor, title="Paced", slug="paced", lessons_per_module=(2,))
    access.set_time_zone(db, instructor, course.id, "Europe/Paris")
    module = db.exec(select(Module).where(Module.course_id == course.id)).one()
    second = db.exec(select(Lesson).where(Lesson.module_id == module.id,
                                          Lesson.title == "Lesson 1.2")).one()
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=datetime(2099, 1, 1, 9, 0)),
                    lesson_id=second.id)
    quiz = make_quiz(db, instructor, module, kinds=("single",), closes_at="2099-06-01T17:00")
    db.commit()
    return course, quiz


def lessons(body: dict) -> dict[str, dict]:
    return {lesson["title"]: lesson for module in body["modules"] for lesson in module["lessons"]}


def test_a_learner_reads_which_lessons_wait_and_when_quizzes_close(client, db, student, paced):
    course, _ = paced
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    found = lessons(client.get(COURSE, headers=bearer(log_in(client, student.email))).json())
    first = found["Lesson 1.1"]
    assert set(first) == {"id", "title", "kind", "duration_minutes", "locked", "reason",
                          "opens_at", "due_at", "closed"}  # titles only: no body, no video
    assert (first["locked"], first["reason"], first["opens_at"], first["due_at"]) == (
        False, None, None, None)
    locked = found["Lesson 1.2"]
    assert (locked["locked"], locked["reason"], locked["opens_at"]) == (
        True, "Opens Thu 1 Jan, 09:00", "2099-01-01T08:00:00Z")
    assert (found["Checkpoint"]["due_at"], found["Checkpoint"]["closed"]) == (
        "2099-06-01T15:00:00Z", False)


def test_an_extension_is_the_learners_due_date_and_nobody_elses(client, db, instructor, student,
                                                                paced):
    course, quiz = paced
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    deadlines.extend(db, instructor, quiz.id, [student.id], datetime(2099, 6, 8, 17, 0),
                     datetime(2099, 1, 1, tzinfo=access.zone_of(course)))
    db.commit()
    headers = bearer(log_in(client, student.email))
    assert lessons(client.get(COURSE, headers=headers).json())["Checkpoint"]["due_at"] == \
        "2099-06-08T15:00:00Z"
    [status] = client.get(f"{V1}/me/quizzes", params={"course": "paced"}, headers=headers).json()
    assert (status["due_at"], status["extended"], status["closed"]) == (
        "2099-06-08T15:00:00Z", True, False)


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_whoever_is_not_learning_the_course_is_told_no_locks(client, db, instructor, paced, who):
    headers = bearer(log_in(client, instructor.email)) if who == "staff" else {}
    found = lessons(client.get(COURSE, headers=headers).json())
    assert {(lesson["locked"], lesson["due_at"]) for lesson in found.values()} == {(None, None)}


def test_a_closed_quiz_refuses_a_new_attempt_with_the_reason(client, db, instructor, student,
                                                             paced):
    course, quiz = paced
    enrollment.enroll_free(db, student, course.id)
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        closes_at="2001-02-03T17:00"))
    db.commit()
    headers = bearer(log_in(client, student.email))
    body = assert_problem(client.post(f"{V1}/me/quizzes/{quiz.id}/attempts", headers=headers), 409)
    assert body["detail"] == "“Checkpoint” closed on Sat 3 Feb, 17:00: no new attempt can start"
    assert lessons(client.get(COURSE, headers=headers).json())["Checkpoint"]["closed"] is True
