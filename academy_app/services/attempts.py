"""Taking a quiz: start (or resume) an attempt, save answers as they are given, submit, read the
result; and regrading the attempts of a question whose key was fixed.

The clock is the server's. An attempt with a time limit, or at a quiz that closes
(services/deadlines.py), has a deadline, the earlier of the two: answers are refused after it, a
late submit is graded with what was saved by then, and an attempt left open past it is graded by
whichever call reads it next (the learner's next visit, the results summary). Every function
takes `now` so tests can move the clock instead of sleeping.

What a learner sees of an open attempt (`AttemptView`) carries no answer key: option and item texts
only, never which is correct, the accepted answers, the tolerance, or which right side belongs to
which left one (matching's right sides and ordering's items are always shown shuffled).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from academy_app.db import insert_or_get
from academy_app.infra import bus, clock
from academy_app.models import (
    AttemptAnswer,
    AttemptScoring,
    Certificate,
    Course,
    Enrollment,
    Lesson,
    Module,
    Question,
    QuestionKind,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    ShowAnswers,
    User,
    as_utc,
)
from academy_app.services import access, certificate_rule, deadlines, grading, progress, unlocks
from academy_app.services.accounts import require_user
from academy_app.services.authoring import lesson_for_editing
from academy_app.services.certificate_rule import QuizOutcome, reaches
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import Conflict, Invalid, Locked, NotFound, PermissionDenied
from academy_app.services.notifications import notify
from academy_app.services.permissions import require_staff

# Open lists of quiz results reload when an attempt is submitted or regraded (the live page).
RESULTS_RESOURCE = "quiz_results"
_random = random.SystemRandom()


@dataclass(frozen=True)
class Choice:
    index: int  # the position in the spec: what a response names
    text: str


@dataclass(frozen=True)
class QuestionView:
    """One question as the learner sees it while answering: no answer key."""

    version_id: int
    kind: QuestionKind
    stem: str  # Markdown, rendered sanitised like lessons
    points: float
    choices: tuple[Choice, ...]  # options or items in the order shown; matching: the left sides
    targets: tuple[Choice, ...]  # matching: the right sides, shuffled; else empty
    response: dict[str, Any] | None  # what the learner saved


@dataclass(frozen=True)
class AttemptView:
    attempt_id: int
    quiz_id: int
    lesson_id: int
    title: str
    number: int
    started_at: datetime
    deadline: datetime | None
    submitted: bool
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True)
class QuestionResult:
    question: QuestionView  # as it was shown, with the learner's answer
    points: float
    max_points: float
    correct: bool
    # Shown only when the quiz's show_answers allows it; else empty.
    key: str
    explanation: str
    feedback: tuple[str, ...]


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    quiz_id: int
    number: int
    submitted_at: datetime
    points: float
    max_points: float
    percent: float
    passed: bool  # this attempt reached the pass mark
    kept_percent: float | None  # the learner's score on the quiz, by its attempt scoring
    quiz_passed: bool
    answers_shown: bool
    questions: tuple[QuestionResult, ...]


@dataclass(frozen=True)
class AttemptSummary:
    attempt_id: int
    number: int
    started_at: datetime
    submitted_at: datetime | None
    percent: float | None
    passed: bool | None


@dataclass(frozen=True)
class QuizStatus:
    """A quiz lesson's page for a learner, before or between attempts."""

    quiz_id: int
    lesson_id: int
    title: str
    pass_percent: int
    max_attempts: int | None
    attempt_scoring: AttemptScoring
    time_limit_minutes: int | None
    show_answers: ShowAnswers
    attempts: tuple[AttemptSummary, ...]
    kept_percent: float | None
    passed: bool
    open_attempt_id: int | None
    can_start: bool  # an attempt is left (or one is open to resume), and the quiz has not closed
    due_at: datetime | None  # UTC: when the quiz closes for this learner (None: never)
    extended: bool  # that close is the learner's own extension
    closed: bool  # it has closed: no new attempt


@dataclass(frozen=True)
class RegradeReport:
    question_id: int
    version_id: int
    attempts: int  # attempts moved to the fixed version
    newly_passed: tuple[int, ...]  # user ids
    newly_failed: tuple[int, ...]
    # Newly failed learners who keep the certificate issued before (see quizzes.regrade_question).
    keeping_certificate: tuple[int, ...]


def quiz_id_for_lesson(session: Session, lesson_id: int) -> int | None:
    return session.exec(select(Quiz.id).where(Quiz.lesson_id == lesson_id)).first()


def quiz_status(session: Session, actor: User | None, quiz_id: int, *,
                now: datetime | None = None) -> QuizStatus:
    user = require_user(actor)
    now = now or clock.now()
    quiz, lesson, course = _quiz_for_learner(session, user, quiz_id)
    _close_expired(session, quiz, user.id, now)
    due = deadlines.due_for(session, quiz, course, user.id)
    closed = due is not None and due.closed(now)
    taken = list(session.exec(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
        .order_by(col(QuizAttempt.number))))
    outcome = certificate_rule.quiz_outcome(session, quiz, user.id, lesson.title)
    open_attempt = next((a for a in taken if a.submitted_at is None), None)
    submitted = len(taken) - (open_attempt is not None)
    return QuizStatus(
        quiz_id=quiz.id, lesson_id=lesson.id, title=lesson.title, pass_percent=quiz.pass_percent,
        max_attempts=quiz.max_attempts, attempt_scoring=quiz.attempt_scoring,
        time_limit_minutes=quiz.time_limit_minutes, show_answers=quiz.show_answers,
        attempts=tuple(AttemptSummary(attempt_id=a.id, number=a.number,
                                      started_at=as_utc(a.started_at),
                                      submitted_at=_utc(a.submitted_at), percent=a.percent,
                                      passed=a.passed) for a in taken),
        kept_percent=outcome.kept_percent, passed=outcome.passed,
        open_attempt_id=open_attempt.id if open_attempt else None,
        can_start=open_attempt is not None or (not closed and (
            quiz.max_attempts is None or submitted < quiz.max_attempts)),
        due_at=due.due_at if due else None, extended=bool(due and due.extended), closed=closed)


def course_quiz_statuses(session: Session, actor: User | None, course_id: int, *,
                         now: datetime | None = None) -> list[QuizStatus]:
    """The learner's status on every quiz of a course, in course order (the API's list)."""
    quiz_ids = session.exec(select(Quiz.id).join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                            .join(Module, col(Module.id) == Lesson.module_id)
                            .where(Module.course_id == course_id)
                            .order_by(col(Module.position), col(Module.id),
                                      col(Lesson.position), col(Lesson.id))).all()
    return [quiz_status(session, actor, quiz_id, now=now) for quiz_id in quiz_ids]


def start_attempt(session: Session, actor: User | None, quiz_id: int, *,
                  now: datetime | None = None) -> AttemptView:
    """A new attempt, or the open one: a double click, a second tab or a reload resumes it.
    Refused for a learner not enrolled, once every allowed attempt is used, and once the quiz has
    closed for them (`Closed`). Its deadline is the earlier of the time limit and the close."""
    user = require_user(actor)
    now = now or clock.now()
    quiz, lesson, course = _quiz_for_learner(session, user, quiz_id, now)
    _close_expired(session, quiz, user.id, now)
    open_attempt = _open_attempt(session, quiz.id, user.id)
    if open_attempt is not None:
        return _view(session, open_attempt, lesson)
    used = session.exec(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)).one()
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise Conflict(f"You have used all {quiz.max_attempts} attempts at this quiz")
    due = deadlines.due_for(session, quiz, course, user.id)
    deadlines.refuse_if_closed(due, lesson.title, course, now)
    drawn = _draw(session, quiz, course.id)
    if not drawn:
        raise Conflict("This quiz has no questions yet")
    layout = [{"version": version.id, "order": _shown_order(kind, version.spec, quiz)}
              for version, kind in drawn]
    time_limit_at = deadlines.time_limit_end(quiz, now)
    attempt = QuizAttempt(
        quiz_id=quiz.id, user_id=user.id, number=used + 1, started_at=now,
        time_limit_at=time_limit_at, deadline=deadlines.attempt_deadline(time_limit_at, due),
        max_points=sum(version.points for version, _ in drawn), layout=layout)
    attempt, _ = insert_or_get(session, attempt, lambda: _open_attempt(session, quiz.id, user.id))
    return _view(session, attempt, lesson)


def attempt_view(session: Session, actor: User | None, attempt_id: int, *,
                 now: datetime | None = None) -> AttemptView:
    """The learner's own attempt as they answer it (closed first if its time ran out)."""
    user = require_user(actor)
    attempt, quiz, lesson = _attempt_for_learner(session, user, attempt_id, now=now)
    _close_if_expired(session, attempt, quiz, now or clock.now())
    return _view(session, attempt, lesson)


def save_answer(session: Session, actor: User | None, attempt_id: int, version_id: int,
                response: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Save (or replace) the answer to one question of the learner's open attempt, before its
    deadline: the stored response. Saving the same answer twice leaves one row."""
    user = require_user(actor)
    now = now or clock.now()
    attempt, _, _ = _attempt_for_learner(session, user, attempt_id, lock=True, now=now)
    if attempt.submitted_at is not None:
        raise Conflict("This attempt was submitted: its answers can no longer change")
    if attempt.deadline is not None and now > as_utc(attempt.deadline):
        raise Conflict("Time is up (the time limit or the quiz's close): answers after the "
                       "deadline are not saved")
    if not isinstance(version_id, int) or version_id not in _layout_versions(attempt):
        raise Invalid({"question": "This question is not part of your attempt"})
    version, kind = _versions(session, [version_id])[version_id]
    stored = grading.validate_response(kind, version.spec, response)
    answer = _answer(session, attempt.id, version_id)
    if answer is None:
        answer, created = insert_or_get(
            session, AttemptAnswer(attempt_id=attempt.id, question_version_id=version_id,
                                   response=stored, saved_at=now),
            lambda: _answer(session, attempt.id, version_id))
        if created:
            return stored
    answer.response, answer.saved_at = stored, now
    session.add(answer)
    return stored


def submit_attempt(session: Session, actor: User | None, attempt_id: int, *,
                   now: datetime | None = None) -> AttemptResult:
    """Grade the attempt and record the learner's outcome on the quiz (passing completes the quiz
    lesson, and may earn the certificate). Submitting again returns the same result; after the
    deadline, only what was saved by the deadline is graded."""
    user = require_user(actor)
    now = now or clock.now()
    course_id = session.exec(select(Module.course_id).join(Lesson, col(Lesson.module_id) == Module.id)
                             .join(Quiz, col(Quiz.lesson_id) == Lesson.id)
                             .join(QuizAttempt, col(QuizAttempt.quiz_id) == Quiz.id)
                             .where(QuizAttempt.id == attempt_id)).first() \
        if isinstance(attempt_id, int) and not isinstance(attempt_id, bool) else None
    # In a gated course, what passing opens is told to the learner's tabs: the outline before.
    before = access.outline_access(session, user, course_id, now) \
        if course_id is not None and access.is_gated(session, course_id) else None
    attempt, quiz, lesson = _attempt_for_learner(session, user, attempt_id, lock=True, now=now,
                                                 accesses=before)
    if attempt.submitted_at is None:
        closed_at = now if attempt.deadline is None else min(now, as_utc(attempt.deadline))
        _close(session, attempt, quiz, closed_at)
        if before is not None:
            after = access.outline_access(session, user, course_id, now)
            unlocks.tell_opened(session, user.id, access.newly_opened(before, after))
    return _result(session, attempt, quiz, lesson)


def attempt_result(session: Session, actor: User | None, attempt_id: int, *,
                   now: datetime | None = None) -> AttemptResult:
    """The learner's submitted attempt: score, pass or fail, and per question what they answered;
    the key, explanation and feedback only as the quiz's show_answers setting allows."""
    user = require_user(actor)
    attempt, quiz, lesson = _attempt_for_learner(session, user, attempt_id, now=now)
    _close_if_expired(session, attempt, quiz, now or clock.now())
    if attempt.submitted_at is None:
        raise Conflict("Submit the attempt to see its result")
    return _result(session, attempt, quiz, lesson)


def attempt_for_staff(session: Session, actor: User | None, attempt_id: int, *,
                      now: datetime | None = None) -> AttemptResult:
    """A learner's submitted attempt as the course's instructor (or an admin) sees it: every answer
    with the key, whatever the quiz shows learners."""
    attempt = session.get(QuizAttempt, attempt_id) if isinstance(attempt_id, int) else None
    if attempt is None:
        require_staff(actor)
        raise NotFound("attempt", attempt_id)
    quiz = session.get_one(Quiz, attempt.quiz_id)
    lesson, _ = lesson_for_editing(session, actor, quiz.lesson_id)
    _close_if_expired(session, attempt, quiz, now or clock.now())
    if attempt.submitted_at is None:
        raise Conflict("This attempt is still being taken")
    return _result(session, attempt, quiz, lesson, reveal=True)


def regrade_to_version(session: Session, question: Question,
                       version: QuestionVersion) -> RegradeReport:
    """Move every attempt that had an older version of `question` to `version` (the fixed key,
    same shape), grade the submitted ones again, and recompute each affected learner's outcome.
    Called by quizzes.regrade_question, which checks who may and audits it."""
    old_ids = set(session.exec(select(QuestionVersion.id).where(
        QuestionVersion.question_id == question.id, QuestionVersion.id != version.id)))
    rows = session.exec(select(QuizAttempt, Quiz).join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
                        .join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                        .join(Module, col(Module.id) == Lesson.module_id)
                        .where(Module.course_id == question.course_id)
                        .order_by(col(QuizAttempt.id)).with_for_update(of=QuizAttempt)).all()
    affected = [(a, q) for a, q in rows if _layout_versions(a) & old_ids]
    quizzes = {quiz.id: quiz for _, quiz in affected}
    learners = sorted({(quiz.id, attempt.user_id) for attempt, quiz in affected})
    before = {key: _outcome(session, quizzes[key[0]], key[1]).passed for key in learners}
    for attempt, quiz in affected:
        attempt.layout = [{**entry, "version": version.id if entry["version"] in old_ids
                           else entry["version"]} for entry in attempt.layout]
        for answer in session.exec(select(AttemptAnswer).where(
                AttemptAnswer.attempt_id == attempt.id,
                col(AttemptAnswer.question_version_id).in_(old_ids))):
            answer.question_version_id = version.id
            session.add(answer)
        session.flush()
        if attempt.submitted_at is not None:
            _grade(session, attempt, quiz)
        else:
            attempt.max_points = _max_points(session, attempt)
            session.add(attempt)
    flips = _settle(session, quizzes, before, "A question's answer key was corrected")
    return RegradeReport(question_id=question.id, version_id=version.id, attempts=len(affected),
                         **flips)


def passes_before_change(session: Session, quiz: Quiz) -> dict[tuple[int, int], bool]:
    """Whether each learner who submitted an attempt passes the quiz now, by (quiz id, user id):
    read before a settings change that may flip it (`settle_settings_change`)."""
    users = session.exec(select(QuizAttempt.user_id).where(
        QuizAttempt.quiz_id == quiz.id, col(QuizAttempt.submitted_at).is_not(None)).distinct())
    return {(quiz.id, user_id): _outcome(session, quiz, user_id).passed for user_id in users}


def settle_settings_change(session: Session, quiz: Quiz,
                           before: dict[tuple[int, int], bool]) -> dict[str, tuple[int, ...]]:
    """After the pass mark, the attempt scoring or whether the quiz is graded changed: every
    submitted attempt's pass flag, each learner's outcome, quiz-lesson progress and certificate
    follow the new rule, and learners whose pass or fail changed are told."""
    for attempt in session.exec(select(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz.id, col(QuizAttempt.submitted_at).is_not(None))):
        attempt.passed = reaches(attempt.percent or 0.0, quiz.pass_percent)
        session.add(attempt)
    return _settle(session, {quiz.id: quiz}, before, "The quiz's pass mark or scoring changed")


# Drawing and showing

def _draw(session: Session, quiz: Quiz, course_id: int) -> list[tuple[QuestionVersion,
                                                                      QuestionKind]]:
    """The questions of a new attempt, with their latest versions, in the order shown."""
    statement = select(QuestionVersion, Question).join(
        Question, (col(Question.id) == QuestionVersion.question_id)
        & (col(QuestionVersion.number) == Question.latest_version))
    if quiz.draw_tag:  # the course's bank by tag (a JSON list: filtered here, banks are small)
        statement = statement.where(Question.course_id == course_id,
                                    col(Question.archived).is_(False)).order_by(col(Question.id))
        pool = [(v, q.kind) for v, q in session.exec(statement) if quiz.draw_tag in q.tags]
    else:
        statement = statement.join(QuizQuestion, col(QuizQuestion.question_id) == Question.id) \
            .where(QuizQuestion.quiz_id == quiz.id) \
            .order_by(col(QuizQuestion.position), col(QuizQuestion.id))
        pool = [(v, q.kind) for v, q in session.exec(statement)]
    if quiz.draw_count is not None and quiz.draw_count < len(pool):
        kept = sorted(_random.sample(range(len(pool)), quiz.draw_count))
        pool = [pool[i] for i in kept]
    if quiz.shuffle_questions:
        _random.shuffle(pool)
    return pool


def _shown_order(kind: QuestionKind, spec: dict[str, Any], quiz: Quiz) -> list[int]:
    """The order the options (items, right sides) are shown in, as spec indexes. Items to order
    and sides to match are always shuffled, never left in the right order: that order is the key."""
    order = list(range(grading.choice_count(kind, spec)))
    if kind in grading.CHOICE_KINDS and quiz.shuffle_options:
        _random.shuffle(order)
    elif kind in (QuestionKind.ORDERING, QuestionKind.MATCHING):
        while order == sorted(order):
            _random.shuffle(order)
    return order


def _choices(kind: QuestionKind, spec: dict[str, Any], order: Sequence[int]
             ) -> tuple[tuple[Choice, ...], tuple[Choice, ...]]:
    if kind in grading.CHOICE_KINDS:
        return tuple(Choice(i, spec["options"][i]["text"]) for i in order), ()
    if kind is QuestionKind.ORDERING:
        return tuple(Choice(i, spec["items"][i]) for i in order), ()
    if kind is QuestionKind.MATCHING:
        pairs = spec["pairs"]
        return (tuple(Choice(i, left) for i, (left, _) in enumerate(pairs)),
                tuple(Choice(i, pairs[i][1]) for i in order))
    return (), ()


def _shown(session: Session, attempt: QuizAttempt
           ) -> list[tuple[QuestionVersion, QuestionKind, list[int]]]:
    """The attempt's questions in the order shown, with the order of their options."""
    versions = _versions(session, [entry["version"] for entry in attempt.layout])
    return [(*versions[entry["version"]], entry["order"]) for entry in attempt.layout]


def _question_view(version: QuestionVersion, kind: QuestionKind, order: Sequence[int],
                   answer: AttemptAnswer | None) -> QuestionView:
    choices, targets = _choices(kind, version.spec, order)
    return QuestionView(version_id=version.id, kind=kind, stem=version.stem,
                        points=version.points, choices=choices, targets=targets,
                        response=answer.response if answer else None)


def _view(session: Session, attempt: QuizAttempt, lesson: Lesson) -> AttemptView:
    answers = _answers(session, attempt.id)
    questions = [_question_view(version, kind, order, answers.get(version.id))
                 for version, kind, order in _shown(session, attempt)]
    return AttemptView(attempt_id=attempt.id, quiz_id=attempt.quiz_id, lesson_id=lesson.id,
                       title=lesson.title, number=attempt.number, started_at=as_utc(attempt.started_at),
                       deadline=_utc(attempt.deadline), submitted=attempt.submitted_at is not None,
                       questions=tuple(questions))


def _result(session: Session, attempt: QuizAttempt, quiz: Quiz, lesson: Lesson, *,
            reveal: bool = False) -> AttemptResult:
    outcome = _outcome(session, quiz, attempt.user_id)
    shown = reveal or quiz.show_answers is ShowAnswers.AFTER_SUBMIT or (
        quiz.show_answers is ShowAnswers.AFTER_PASS and outcome.passed)
    answers = _answers(session, attempt.id)
    questions = []
    for version, kind, order in _shown(session, attempt):
        answer = answers.get(version.id)
        counted = answer is not None and answer.points is not None
        feedback = grading.grade(kind, version.spec, answer.response).feedback if counted else ()
        questions.append(QuestionResult(
            question=_question_view(version, kind, order, answer),
            points=answer.points if counted else 0.0, max_points=version.points,
            correct=bool(counted and answer.correct),
            key=grading.describe_key(kind, version.spec) if shown else "",
            explanation=version.explanation if shown else "",
            feedback=feedback if shown else ()))
    return AttemptResult(
        attempt_id=attempt.id, quiz_id=quiz.id, number=attempt.number,
        submitted_at=as_utc(attempt.submitted_at), points=attempt.points or 0.0,
        max_points=attempt.max_points, percent=attempt.percent or 0.0,
        passed=bool(attempt.passed), kept_percent=outcome.kept_percent,
        quiz_passed=outcome.passed, answers_shown=shown, questions=tuple(questions))


# Grading and outcomes

def close_expired_attempts(session: Session, quiz: Quiz, now: datetime | None = None) -> int:
    """Grade every attempt at the quiz whose time ran out unsubmitted (for the results summary)."""
    now = now or clock.now()
    expired = list(session.exec(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, col(QuizAttempt.submitted_at).is_(None),
        col(QuizAttempt.deadline).is_not(None), col(QuizAttempt.deadline) < now)
        .with_for_update()))
    for attempt in expired:
        _close(session, attempt, quiz, as_utc(attempt.deadline))
    return len(expired)


def _close_expired(session: Session, quiz: Quiz, user_id: int, now: datetime) -> None:
    attempt = _open_attempt(session, quiz.id, user_id)
    if attempt is not None:
        _close_if_expired(session, attempt, quiz, now)


def _close_if_expired(session: Session, attempt: QuizAttempt, quiz: Quiz, now: datetime) -> None:
    if attempt.submitted_at is None and attempt.deadline is not None \
            and now > as_utc(attempt.deadline):
        _close(session, attempt, quiz, as_utc(attempt.deadline))


def _close(session: Session, attempt: QuizAttempt, quiz: Quiz, closed_at: datetime) -> None:
    """Submit: grade, then record the learner's outcome on the quiz."""
    attempt.submitted_at = closed_at
    _grade(session, attempt, quiz)
    _record_outcome(session, quiz, attempt.user_id)
    bus.changed(session, RESULTS_RESOURCE)


def _grade(session: Session, attempt: QuizAttempt, quiz: Quiz) -> None:
    """Grade the attempt's saved answers (those saved by its deadline) with their versions."""
    versions = _versions(session, [entry["version"] for entry in attempt.layout])
    deadline = as_utc(attempt.deadline) if attempt.deadline is not None else None
    points = 0.0
    for answer in _answers(session, attempt.id).values():
        if deadline is not None and as_utc(answer.saved_at) > deadline:
            answer.points, answer.correct = None, None  # too late: not counted
        else:
            version, kind = versions[answer.question_version_id]
            result = grading.grade(kind, version.spec, answer.response)
            answer.points, answer.correct = result.fraction * version.points, result.correct
            points += answer.points
        session.add(answer)
    attempt.max_points = sum(version.points for version, _ in versions.values())
    attempt.points = points
    attempt.percent = 100 * points / attempt.max_points if attempt.max_points else 0.0
    attempt.passed = reaches(attempt.percent, quiz.pass_percent)
    session.add(attempt)
    session.flush()


def _record_outcome(session: Session, quiz: Quiz, user_id: int) -> QuizOutcome:
    """The learner's kept score on the quiz, and the quiz lesson complete exactly while a graded
    quiz is passed, or once a practice (ungraded) quiz is submitted: it counts for no grade, so
    taking it is what completes it. A cancelled learner's progress is left as it was."""
    outcome = _outcome(session, quiz, user_id)
    status = session.exec(select(Enrollment.status).join(
        Module, col(Module.course_id) == Enrollment.course_id)
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .where(Lesson.id == quiz.lesson_id, Enrollment.user_id == user_id)).first()
    if status in LEARNING_STATUSES:
        done = outcome.passed if quiz.is_graded else outcome.attempts > 0
        progress.record_quiz_result(session, user_id, quiz.lesson_id, done)
    return outcome


def _outcome(session: Session, quiz: Quiz, user_id: int) -> QuizOutcome:
    return certificate_rule.quiz_outcome(session, quiz, user_id)


def _max_points(session: Session, attempt: QuizAttempt) -> float:
    versions = _versions(session, [entry["version"] for entry in attempt.layout])
    return sum(version.points for version, _ in versions.values())


def _settle(session: Session, quizzes: dict[int, Quiz], before: dict[tuple[int, int], bool],
            why: str) -> dict[str, tuple[int, ...]]:
    """Record each learner's outcome again, tell those whose pass or fail flipped, and name the
    newly failed who keep a certificate issued before (see quizzes.regrade_question)."""
    newly_passed, newly_failed = [], []
    for (quiz_id, user_id), passed_before in sorted(before.items()):
        quiz = quizzes[quiz_id]
        outcome = _record_outcome(session, quiz, user_id)
        if outcome.passed != passed_before:
            (newly_passed if outcome.passed else newly_failed).append(user_id)
            _tell_changed(session, quiz, user_id, outcome, why)
    certified = set(session.exec(select(Certificate.user_id).join(
        Module, col(Module.course_id) == Certificate.course_id)
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .where(col(Lesson.id).in_([q.lesson_id for q in quizzes.values()]),
               col(Certificate.user_id).in_(newly_failed)))) if newly_failed else set()
    bus.changed(session, RESULTS_RESOURCE)
    return {"newly_passed": tuple(newly_passed), "newly_failed": tuple(newly_failed),
            "keeping_certificate": tuple(u for u in newly_failed if u in certified)}


def _tell_changed(session: Session, quiz: Quiz, user_id: int, outcome: QuizOutcome,
                  why: str) -> None:
    lesson, slug = session.exec(select(Lesson, Course.slug)
                                .join(Module, col(Module.id) == Lesson.module_id)
                                .join(Course, col(Course.id) == Module.course_id)
                                .where(Lesson.id == quiz.lesson_id)).one()
    score = f"{outcome.kept_percent or 0:.0f}%"
    if outcome.passed:
        title, body = f"You passed “{lesson.title}”", f"{why}: your score is now {score}."
    else:
        title, body = f"Your result on “{lesson.title}” changed", \
            f"{why}: your score is now {score}, under the pass mark of {quiz.pass_percent}%."
    notify(session, user_id, "quiz.regraded", title, body, f"/learn/{slug}/{lesson.id}")


# Reading

def _quiz_for_learner(session: Session, user: User, quiz_id: int, now: datetime | None = None, *,
                      accesses: Mapping[int, access.Access] | None = None
                      ) -> tuple[Quiz, Lesson, Course]:
    """The quiz, its lesson and course, for a learner enrolled in the course. With `now`, also
    one the learner may open then (services/access.py): a locked quiz's questions are never
    drawn, shown, saved or graded (`Locked`, with the reason). `accesses`: the course's outline
    already read at `now`."""
    if isinstance(quiz_id, bool) or not isinstance(quiz_id, int):
        raise NotFound("quiz", quiz_id)
    row = session.exec(select(Quiz, Lesson, Course, Enrollment.status)
                       .join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                       .join(Module, col(Module.id) == Lesson.module_id)
                       .join(Course, col(Course.id) == Module.course_id)
                       .outerjoin(Enrollment, (col(Enrollment.course_id) == Course.id)
                                  & (col(Enrollment.user_id) == user.id))
                       .where(Quiz.id == quiz_id)).first()
    if row is None:
        raise NotFound("quiz", quiz_id)
    quiz, lesson, course, status = row
    if status not in LEARNING_STATUSES:
        raise PermissionDenied("Enroll in this course to take its quizzes")
    if now is not None and (accesses is not None or access.is_gated(session, course.id)):
        found = (accesses if accesses is not None
                 else access.outline_access(session, user, course.id, now))[lesson.id]
        if not found.is_open:
            raise Locked(found.reason, found.opens_at)
    return quiz, lesson, course


def _attempt_for_learner(session: Session, user: User, attempt_id: int, *,
                         lock: bool = False, now: datetime | None = None,
                         accesses: Mapping[int, access.Access] | None = None
                         ) -> tuple[QuizAttempt, Quiz, Lesson]:
    """The learner's own attempt (someone else's is not said to exist), its quiz and lesson,
    while they are still enrolled in the course (and, as `_quiz_for_learner`, may open it)."""
    if isinstance(attempt_id, bool) or not isinstance(attempt_id, int):
        raise NotFound("attempt", attempt_id)
    statement = select(QuizAttempt).where(QuizAttempt.id == attempt_id)
    attempt = session.exec(statement.with_for_update() if lock else statement).first()
    if attempt is None or attempt.user_id != user.id:
        raise NotFound("attempt", attempt_id)
    quiz, lesson, _ = _quiz_for_learner(session, user, attempt.quiz_id, now or clock.now(),
                                        accesses=accesses)
    return attempt, quiz, lesson


def _open_attempt(session: Session, quiz_id: int, user_id: int) -> QuizAttempt | None:
    return session.exec(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user_id,
        col(QuizAttempt.submitted_at).is_(None))).first()


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _layout_versions(attempt: QuizAttempt) -> set[int]:
    return {entry["version"] for entry in attempt.layout}


def _versions(session: Session, ids: Sequence[int]
              ) -> dict[int, tuple[QuestionVersion, QuestionKind]]:
    return {version.id: (version, kind) for version, kind in session.exec(
        select(QuestionVersion, Question.kind)
        .join(Question, col(Question.id) == QuestionVersion.question_id)
        .where(col(QuestionVersion.id).in_(list(ids))))}


def _answers(session: Session, attempt_id: int) -> dict[int, AttemptAnswer]:
    return {answer.question_version_id: answer for answer in session.exec(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))}


def _answer(session: Session, attempt_id: int, version_id: int) -> AttemptAnswer | None:
    return session.exec(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt_id,
        AttemptAnswer.question_version_id == version_id)).first()

