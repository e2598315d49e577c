"""The certificate rule: the one place that says whether a learner has earned a course's certificate,
and what is still missing. Every path that issues one (completing the last lesson, passing a quiz,
a regrade, the nightly sweep) goes through `certificates.issue`, which asks `evaluate` here.

A learner earns it when
- every lesson of the course is complete (a graded quiz's lesson once the quiz is passed, a
  practice quiz's once it is submitted: services/attempts.py),
- every graded quiz is passed: the learner's kept score (by the quiz's attempt scoring) reaches its
  pass mark, and
- when the course sets a minimum grade, the overall grade reaches it. The overall grade is the
  average of the graded quizzes' kept scores, weighted by each quiz's points (the maximum of its
  latest submitted attempt, or of its questions before any attempt) or by the weight the instructor
  gave each quiz. A quiz never attempted counts as 0%. With no graded quiz there is no grade and
  the minimum is not asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlmodel import Session, col, func, select

from academy_app.models import (
    AttemptScoring,
    Course,
    Enrollment,
    EnrollmentStatus,
    GradeWeighting,
    Lesson,
    LessonProgress,
    Module,
    Question,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    User,
)
from academy_app.services.accounts import require_user
from academy_app.services.errors import NotFound


@dataclass(frozen=True)
class QuizOutcome:
    quiz_id: int
    lesson_id: int
    title: str
    is_graded: bool
    pass_percent: int
    weight: int
    max_points: float
    attempts: int  # submitted
    kept_percent: float | None  # None before the first submitted attempt

    @property
    def passed(self) -> bool:
        return self.kept_percent is not None and reaches(self.kept_percent, self.pass_percent)


@dataclass(frozen=True)
class CertificateEligibility:
    eligible: bool
    lessons_missing: tuple[str, ...]  # titles of lessons not complete (quiz lessons included)
    quizzes_missing: tuple[str, ...]  # titles of graded quizzes not passed
    grade_percent: float | None  # the overall grade; None without graded quizzes
    min_grade_percent: int | None

    @property
    def missing(self) -> tuple[str, ...]:
        """What is still missing, in sentences for the learner's course page."""
        said = [f"Complete the lesson “{title}”" for title in self.lessons_missing
                if title not in self.quizzes_missing]
        said += [f"Pass the quiz “{title}”" for title in self.quizzes_missing]
        if not self.grade_reached:
            said.append(f"Reach an overall grade of {self.min_grade_percent}% "
                        f"(now {self.grade_percent or 0:.0f}%)")
        return tuple(said)

    @property
    def grade_reached(self) -> bool:
        return (self.min_grade_percent is None or self.grade_percent is None
                or reaches(self.grade_percent, self.min_grade_percent))


def reaches(percent: float, mark: float) -> bool:
    """A score reaches a mark: rounded to hundredths first, so 69.99999 from float sums is 70."""
    return round(percent, 2) >= mark


def kept_percent(percents: Sequence[float], scoring: AttemptScoring) -> float | None:
    """The learner's score on a quiz from their submitted attempts' percents, oldest first."""
    if not percents:
        return None
    if scoring is AttemptScoring.HIGHEST:
        return max(percents)
    if scoring is AttemptScoring.LAST:
        return percents[-1]
    if scoring is AttemptScoring.FIRST:
        return percents[0]
    return sum(percents) / len(percents)


def quiz_outcome(session: Session, quiz: Quiz, user_id: int, title: str = "") -> QuizOutcome:
    return quiz_outcomes(session, user_id, quizzes=[(quiz, title)])[0]


def quiz_outcomes(session: Session, user_id: int, *, course_id: int | None = None,
                  quizzes: Sequence[tuple[Quiz, str]] | None = None) -> list[QuizOutcome]:
    """The learner's outcome on each quiz of a course (in course order), or on the given quizzes."""
    if quizzes is None:
        quizzes = list(session.exec(
            select(Quiz, Lesson.title).join(Lesson, col(Lesson.id) == Quiz.lesson_id)
            .join(Module, col(Module.id) == Lesson.module_id).where(Module.course_id == course_id)
            .order_by(col(Module.position), col(Module.id), col(Lesson.position), col(Lesson.id))))
    if not quizzes:  # most courses: no attempts or points to read for an empty list of quizzes
        return []
    ids = [quiz.id for quiz, _ in quizzes]
    attempts: dict[int, list[QuizAttempt]] = defaultdict(list)
    for attempt in session.exec(select(QuizAttempt).where(
            col(QuizAttempt.quiz_id).in_(ids), QuizAttempt.user_id == user_id,
            col(QuizAttempt.submitted_at).is_not(None)).order_by(col(QuizAttempt.number))):
        attempts[attempt.quiz_id].append(attempt)
    nominal = _nominal_points(session, ids)
    outcomes = []
    for quiz, title in quizzes:
        taken = attempts[quiz.id]
        outcomes.append(QuizOutcome(
            quiz_id=quiz.id, lesson_id=quiz.lesson_id, title=title, is_graded=quiz.is_graded,
            pass_percent=quiz.pass_percent, weight=quiz.weight,
            max_points=taken[-1].max_points if taken else nominal.get(quiz.id, 0.0),
            attempts=len(taken),
            kept_percent=kept_percent([a.percent or 0.0 for a in taken], quiz.attempt_scoring)))
    return outcomes


def overall_grade(outcomes: Sequence[QuizOutcome], weighting: GradeWeighting) -> float | None:
    graded = [o for o in outcomes if o.is_graded]
    weights = [o.max_points if weighting is GradeWeighting.POINTS else o.weight for o in graded]
    if not graded or not sum(weights):
        return None
    return sum(w * (o.kept_percent or 0.0) for w, o in zip(weights, graded, strict=True)) / sum(weights)


def for_learner(session: Session, actor: User | None, course_id: int) -> CertificateEligibility:
    """What the learner's course page shows: whether they earned the certificate, what is missing."""
    user = require_user(actor)
    status = session.exec(select(Enrollment.status).where(
        Enrollment.user_id == user.id, Enrollment.course_id == course_id)).first()
    if status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
        raise NotFound("enrollment", course_id)
    return evaluate(session, user.id, course_id)


def evaluate(session: Session, user_id: int, course_id: int) -> CertificateEligibility:
    """Whether the learner has earned the course's certificate, and what is missing if not."""
    course = session.get_one(Course, course_id)
    lessons = session.exec(
        select(Lesson.title, col(LessonProgress.id).is_not(None))
        .join(Module, col(Module.id) == Lesson.module_id)
        .outerjoin(LessonProgress, (col(LessonProgress.lesson_id) == Lesson.id)
                   & (col(LessonProgress.user_id) == user_id))
        .where(Module.course_id == course_id)
        .order_by(col(Module.position), col(Module.id), col(Lesson.position), col(Lesson.id))).all()
    outcomes = quiz_outcomes(session, user_id, course_id=course_id)
    lessons_missing = tuple(title for title, done in lessons if not done)
    quizzes_missing = tuple(o.title for o in outcomes if o.is_graded and not o.passed)
    eligibility = CertificateEligibility(
        eligible=False, lessons_missing=lessons_missing, quizzes_missing=quizzes_missing,
        grade_percent=overall_grade(outcomes, course.grade_weighting),
        min_grade_percent=course.min_grade_percent)
    earned = bool(lessons) and not lessons_missing and not quizzes_missing \
        and eligibility.grade_reached
    return replace(eligibility, eligible=earned)


def criteria(session: Session, course_id: int) -> str:
    """The rule in words, as a certificate's credential states it: e.g. "Completed every lesson
    and passed every graded quiz (pass mark 70 %), with an overall grade of at least 75 %
    (weighted by points)."""
    course = session.get_one(Course, course_id)
    marks = sorted({quiz.pass_percent for quiz in session.exec(
        select(Quiz).join(Lesson, col(Lesson.id) == Quiz.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(Module.course_id == course_id, col(Quiz.is_graded)))})
    if not marks:
        return "Completed every lesson."
    shown = " or ".join(f"{mark} %" for mark in marks)
    rule = f"Completed every lesson and passed every graded quiz (pass mark {shown})"
    if course.min_grade_percent is None:
        return rule + "."
    weighting = "points" if course.grade_weighting is GradeWeighting.POINTS else "quiz weight"
    return f"{rule}, with an overall grade of at least {course.min_grade_percent} % " \
           f"(weighted by {weighting})."


def _nominal_points(session: Session, quiz_ids: Sequence[int]) -> dict[int, float]:
    """Each quiz's points before anyone took it: its questions' latest versions, summed."""
    rows = session.exec(
        select(QuizQuestion.quiz_id, func.sum(QuestionVersion.points))
        .join(Question, col(Question.id) == QuizQuestion.question_id)
        .join(QuestionVersion, (col(QuestionVersion.question_id) == Question.id)
              & (col(QuestionVersion.number) == Question.latest_version))
        .where(col(QuizQuestion.quiz_id).in_(quiz_ids)).group_by(col(QuizQuestion.quiz_id)))
    return {quiz_id: float(points or 0) for quiz_id, points in rows}
