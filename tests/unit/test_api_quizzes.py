"""/api/v1/me/quizzes: a course's quizzes with their status, start, answer, submit and result,
with the site's rules and refusals. In process against the real API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from academy_app.api.v1.app import api
from academy_app.api.v1.limits import MAX_BODY_BYTES
from academy_app.models import AttemptAnswer, Certificate, Module, QuizAttempt
from academy_app.services import enrollment
from tests.factories import make_course, make_user
from tests.unit.test_api import V1, assert_problem, bearer, count, lesson_ids, log_in
from tests.unit.test_quizzes import FORMS, RIGHT, WRONG, make_quiz

QUIZZES = f"{V1}/me/quizzes"


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(api)


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python", slug="python", lessons_per_module=(1,))


@pytest.fixture
def quiz(db, instructor, course):
    module = db.exec(select(Module).where(Module.course_id == course.id)).one()
    return make_quiz(db, instructor, module, pass_percent="60", max_attempts="3")


@pytest.fixture
def learner(db, student, course, quiz, client) -> dict[str, str]:
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    return bearer(log_in(client, student.email))


def start(client: TestClient, headers: dict, quiz_id: int) -> dict:
    response = client.post(f"{QUIZZES}/{quiz_id}/attempts", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def answer_all(client: TestClient, headers: dict, attempt: dict, responses: dict) -> None:
    for question in attempt["questions"]:
        response = client.put(
            f"{QUIZZES}/attempts/{attempt['attempt_id']}/answers/{question['version_id']}",
            headers=headers, json={"response": responses[question["kind"]]})
        assert response.status_code == 200, response.text


def test_list_start_answer_submit_and_read_the_result(client, engine, learner, quiz, course):
    listed = client.get(QUIZZES, params={"course": "python"}, headers=learner).json()
    assert [(q["quiz_id"], q["can_start"], q["attempts"]) for q in listed] == [(quiz.id, True, [])]
    attempt = start(client, learner, quiz.id)
    assert start(client, learner, quiz.id)["attempt_id"] == attempt["attempt_id"]  # resumed
    assert {q["kind"] for q in attempt["questions"]} == set(FORMS)
    text = str(attempt)
    for secret in ("correct", "accepted", "tolerance", "Guido", "explanation"):
        assert secret not in text
    answer_all(client, learner, attempt, WRONG)
    kept = client.get(f"{QUIZZES}/attempts/{attempt['attempt_id']}", headers=learner).json()
    assert all(q["response"] is not None for q in kept["questions"])

    first = client.post(f"{QUIZZES}/attempts/{attempt['attempt_id']}/submit", headers=learner)
    assert first.status_code == 200 and first.json()["passed"] is False
    second = client.post(f"{QUIZZES}/attempts/{attempt['attempt_id']}/submit", headers=learner)
    assert second.json() == first.json()  # idempotent: graded once
    assert count(engine, QuizAttempt) == 1
    shown = client.get(f"{QUIZZES}/attempts/{attempt['attempt_id']}/result", headers=learner)
    assert shown.json() == first.json() and shown.json()["answers_shown"] is True
    assert any(q["key"] for q in shown.json()["questions"])

    again = start(client, learner, quiz.id)
    assert again["number"] == 2
    answer_all(client, learner, again, RIGHT)
    passed = client.post(f"{QUIZZES}/attempts/{again['attempt_id']}/submit", headers=learner)
    assert passed.json()["quiz_passed"] is True and passed.json()["percent"] == 100
    status = client.get(f"{QUIZZES}/{quiz.id}", headers=learner).json()
    assert status["passed"] and [a["passed"] for a in status["attempts"]] == [False, True]
    # The course's other lesson is not done: no certificate yet, whatever the quiz says.
    assert count(engine, Certificate) == 0
    client.put(f"{V1}/me/progress/lessons/{lesson_ids(engine, 'python')[0]}", headers=learner)
    assert count(engine, Certificate) == 1


def test_a_learner_not_enrolled_is_refused_and_nothing_is_recorded(client, engine, db, quiz):
    outsider = make_user(db)
    headers = bearer(log_in(client, outsider.email))
    assert_problem(client.post(f"{QUIZZES}/{quiz.id}/attempts", headers=headers), 403)
    assert_problem(client.get(QUIZZES, params={"course": "python"}, headers=headers), 403)
    assert_problem(client.get(QUIZZES, params={"course": "nope"}, headers=headers), 404)
    assert_problem(client.get(f"{QUIZZES}/{quiz.id}"), 401)
    assert count(engine, QuizAttempt) == 0


def test_another_learners_attempt_is_not_found_and_not_answered(client, engine, db, learner,
                                                                quiz, course):
    attempt = start(client, learner, quiz.id)
    other = make_user(db)
    enrollment.enroll_free(db, other, course.id)
    db.commit()
    theirs = bearer(log_in(client, other.email))
    question = attempt["questions"][0]
    base = f"{QUIZZES}/attempts/{attempt['attempt_id']}"
    assert_problem(client.get(base, headers=theirs), 404)
    assert_problem(client.put(f"{base}/answers/{question['version_id']}", headers=theirs,
                              json={"response": RIGHT[question["kind"]]}), 404)
    assert_problem(client.post(f"{base}/submit", headers=theirs), 404)
    assert_problem(client.get(f"{base}/result", headers=theirs), 404)
    assert count(engine, AttemptAnswer) == 0


def test_bad_answers_are_refused_with_a_reason_and_not_stored(client, engine, learner, quiz):
    attempt = start(client, learner, quiz.id)
    base = f"{QUIZZES}/attempts/{attempt['attempt_id']}/answers"
    numeric = next(q for q in attempt["questions"] if q["kind"] == "numeric")
    body = assert_problem(client.put(f"{base}/{numeric['version_id']}", headers=learner,
                                     json={"response": {"value": "seven"}}), 422)
    assert body["errors"] == {"response": "Enter a number, like 42 or 3.14"}
    matching = next(q for q in attempt["questions"] if q["kind"] == "matching")
    assert_problem(client.put(f"{base}/{matching['version_id']}", headers=learner,
                              json={"response": {"matches": {"²": 0}}}), 422)
    short = next(q for q in attempt["questions"] if q["kind"] == "short_text")
    assert_problem(client.put(f"{base}/{short['version_id']}", headers=learner,
                              json={"response": {"text": "a\x00b"}}), 422)
    assert_problem(client.put(f"{base}/{short['version_id']}", headers=learner,
                              json={"response": {"text": "x" * 201}}), 422)
    assert_problem(client.put(f"{base}/999999", headers=learner,
                              json={"response": {"choice": 0}}), 422)  # not in this attempt
    assert_problem(client.put(f"{base}/{short['version_id']}", headers=learner,
                              json={"answer": "def"}), 422)
    huge = assert_problem(client.put(f"{base}/{short['version_id']}", headers=learner,
                                     json={"response": {"text": "x" * MAX_BODY_BYTES}}), 413)
    assert "too large" in huge["detail"]
    assert count(engine, AttemptAnswer) == 0


def test_answers_after_the_deadline_are_refused_and_the_attempt_graded(client, engine, db,
                                                                        instructor, course):
    module = db.exec(select(Module).where(Module.course_id == course.id)).one()
    timed = make_quiz(db, instructor, module, kinds=("single",), time_limit_minutes="5")
    student = make_user(db)
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    headers = bearer(log_in(client, student.email))
    attempt = start(client, headers, timed.id)
    assert attempt["deadline"] is not None
    row = db.get(QuizAttempt, attempt["attempt_id"])
    row.deadline = row.started_at - timedelta(seconds=1)  # time ran out
    db.add(row)
    db.commit()
    question = attempt["questions"][0]
    body = assert_problem(client.put(
        f"{QUIZZES}/attempts/{attempt['attempt_id']}/answers/{question['version_id']}",
        headers=headers, json={"response": {"choice": 0}}), 409)
    assert "deadline" in body["detail"]
    result = client.get(f"{QUIZZES}/attempts/{attempt['attempt_id']}/result", headers=headers)
    assert result.status_code == 200 and result.json()["percent"] == 0
