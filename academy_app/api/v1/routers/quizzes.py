"""The caller's quizzes: a course's quizzes with their status, start (or resume) an attempt, answer
its questions one at a time, submit, read the result. The same services as the lesson page, so
the same rules and refusals: not enrolled (403), not the caller's attempt (404), past the deadline
or submitted (409), an answer that does not fit its question (422). Submitting twice returns the
same result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from academy_app.api.v1.deps import CurrentUser, DbSession
from academy_app.api.v1.errors import problems
from academy_app.api.v1.schemas import (
    QuizAnswerIn,
    QuizAnswerSaved,
    QuizAttemptOut,
    QuizResultOut,
    QuizStatusOut,
)
from academy_app.services import attempts, catalog
from academy_app.services.authoring import SLUG_PATTERN
from academy_app.text import MAX_ID

router = APIRouter(prefix="/me/quizzes", tags=["quizzes"], responses=problems(401))
QuizId = Annotated[int, Path(ge=1, le=MAX_ID)]
AttemptId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionId = Annotated[int, Path(ge=1, le=MAX_ID, description="A question's `version_id`.")]


@router.get("", response_model=list[QuizStatusOut], responses=problems(403, 404))
def course_quizzes(
    session: DbSession, user: CurrentUser,
    course: Annotated[str, Query(max_length=120, pattern=SLUG_PATTERN.pattern,
                                 description="The course's address, like intro-to-sql.")],
) -> list[QuizStatusOut]:
    """Every quiz of a course the caller is enrolled in, in course order, with their record."""
    outline = catalog.course_outline(session, course, user)
    return [QuizStatusOut.model_validate(status) for status in
            attempts.course_quiz_statuses(session, user, outline.course.id)]


@router.get("/{quiz_id}", response_model=QuizStatusOut, responses=problems(403, 404))
def quiz_status(quiz_id: QuizId, session: DbSession, user: CurrentUser) -> QuizStatusOut:
    """A quiz's settings and the caller's attempts at it."""
    return QuizStatusOut.model_validate(attempts.quiz_status(session, user, quiz_id))


@router.post("/{quiz_id}/attempts", response_model=QuizAttemptOut,
             responses=problems(403, 404, 409))
def start_attempt(quiz_id: QuizId, session: DbSession, user: CurrentUser) -> QuizAttemptOut:
    """Start an attempt, or get the open one back (a retry resumes, never starts a second)."""
    return QuizAttemptOut.model_validate(attempts.start_attempt(session, user, quiz_id))


@router.get("/attempts/{attempt_id}", response_model=QuizAttemptOut,
            responses=problems(403, 404))
def attempt(attempt_id: AttemptId, session: DbSession, user: CurrentUser) -> QuizAttemptOut:
    """The caller's attempt with the answers saved so far (graded first if its time ran out)."""
    return QuizAttemptOut.model_validate(attempts.attempt_view(session, user, attempt_id))


@router.put("/attempts/{attempt_id}/answers/{version_id}", response_model=QuizAnswerSaved,
            responses=problems(403, 404, 409))
def answer(attempt_id: AttemptId, version_id: VersionId, body: QuizAnswerIn, session: DbSession,
           user: CurrentUser) -> QuizAnswerSaved:
    """Save (or replace) the answer to one question of the caller's open attempt."""
    stored = attempts.save_answer(session, user, attempt_id, version_id, body.response)
    return QuizAnswerSaved(version_id=version_id, response=stored)


@router.post("/attempts/{attempt_id}/submit", response_model=QuizResultOut,
             responses=problems(403, 404))
def submit(attempt_id: AttemptId, session: DbSession, user: CurrentUser) -> QuizResultOut:
    """Grade the attempt (after its deadline: what was saved by then). Idempotent: a second
    submit returns the same result."""
    return QuizResultOut.model_validate(attempts.submit_attempt(session, user, attempt_id))


@router.get("/attempts/{attempt_id}/result", response_model=QuizResultOut,
            responses=problems(403, 404, 409))
def result(attempt_id: AttemptId, session: DbSession, user: CurrentUser) -> QuizResultOut:
    """A submitted attempt's score and, as the quiz allows, the keys and explanations."""
    return QuizResultOut.model_validate(attempts.attempt_result(session, user, attempt_id))
