"""Quiz deadlines: when a quiz closes for a learner, and the instructor's extensions.

A quiz may close ("Closes on", `Quiz.closes_at_local`): a wall-clock date-time of the course's zone,
read as release dates are (`access.local_to_utc`: a time the clocks skip or repeat on a DST night
means as `access` says). From that instant on (`now >= due_at`, to the second) no attempt starts
(`Closed`), and an attempt still open stops there: an attempt's `deadline` is the earlier of its
time limit's end (`QuizAttempt.time_limit_at`) and the close, so the existing deadline rules of
services/attempts.py (answers after it refused and not graded, an expired attempt graded by the next
read) apply unchanged. A missed graded quiz simply stays unpassed: the certificate rule does not
change.

Only a fixed date, not "N days after the lesson opens for this learner": `access` knows the instant
a lesson opens only for dated release rules; a lesson opened by completing another, by a sequence,
an override or no rule at all has no recorded opening instant (access evaluates the present, it
keeps no history), so a relative close would need a new per-learner "opened at" record and would
move whenever a rule changed. Learners on their own pace get an extension instead.

An extension (`DeadlineExtension`, course staff, bulk, audited) gives one learner a later close
of one quiz; at most one is live per learner and quiz (a unique index: a double click makes one,
extending again moves it). Revoking it (`revoked_at`) restores the quiz's own close. Either way the
learner's open attempt follows at once (`refit_open_attempts`; a close moved into the past stops it
at the change, so answers saved under the old close count) and their open pages reload.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from academy_app.db import insert_or_get
from academy_app.infra import bus
from academy_app.models import (
    Course,
    DeadlineExtension,
    Enrollment,
    Lesson,
    Module,
    Quiz,
    QuizAttempt,
    User,
    as_utc,
)
from academy_app.services import audit
from academy_app.services.access import LEARNING, local_to_utc, moment_wording, zone_of
from academy_app.services.accounts import require_user
from academy_app.services.errors import Closed, Invalid, NotFound
from academy_app.services.permissions import require_course_staff, require_staff

EXTENSION_FIELDS = ("user_id", "quiz_id", "closes_at_local", "reason")


@dataclass(frozen=True)
class Due:
    """When a quiz closes for one learner."""

    quiz_id: int
    lesson_id: int
    due_at: datetime  # UTC
    extended: bool  # by a live extension for this learner

    def closed(self, now: datetime) -> bool:
        return as_utc(now) >= self.due_at


def course_due_dates(session: Session, learner: User | None, course: Course) -> dict[int, Due]:
    """Lesson id → its quiz's close for this learner, for every quiz of the course that closes.
    One query, whatever the size of the course."""
    user_id, course_id = require_user(learner).id, course.id
    rows = session.exec(
        select(Quiz.id, Quiz.lesson_id, Quiz.closes_at_local, DeadlineExtension.closes_at_local)
        .join(Lesson, col(Lesson.id) == Quiz.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .outerjoin(DeadlineExtension, (col(DeadlineExtension.quiz_id) == Quiz.id)
                   & (col(DeadlineExtension.user_id) == user_id)
                   & col(DeadlineExtension.revoked_at).is_(None))
        .where(Module.course_id == course_id, col(Quiz.closes_at_local).is_not(None))).all()
    zone = zone_of(course)
    return {lesson_id: Due(quiz_id, lesson_id, local_to_utc(extended or own, zone),
                           extended is not None)
            for quiz_id, lesson_id, own, extended in rows}


def due_for(session: Session, quiz: Quiz, course: Course, user_id: int) -> Due | None:
    """When `quiz` closes for this learner; None if it never does (an extension moves a close,
    it cannot make a quiz that no longer closes close)."""
    if quiz.closes_at_local is None:
        return None
    extended = session.exec(select(DeadlineExtension.closes_at_local).where(
        DeadlineExtension.quiz_id == quiz.id, DeadlineExtension.user_id == user_id,
        col(DeadlineExtension.revoked_at).is_(None))).first()
    return Due(quiz.id, quiz.lesson_id, local_to_utc(extended or quiz.closes_at_local,
                                                     zone_of(course)), extended is not None)


def refuse_if_closed(due: Due | None, title: str, course: Course, now: datetime) -> None:
    """Raise `Closed` once the quiz has closed for this learner."""
    if due is not None and due.closed(now):
        raise Closed(f"“{title}” closed on {moment_wording(due.due_at, zone_of(course))}: "
                     "no new attempt can start", due.due_at)


def attempt_deadline(time_limit_at: datetime | None, due: Due | None) -> datetime | None:
    """An attempt's deadline: the earlier of its time limit's end and the quiz's close."""
    moments = [as_utc(m) for m in (time_limit_at, due.due_at if due else None) if m is not None]
    return min(moments) if moments else None


def time_limit_end(quiz: Quiz, started_at: datetime) -> datetime | None:
    return started_at + timedelta(minutes=quiz.time_limit_minutes) \
        if quiz.time_limit_minutes else None


# --- instructor operations (course staff; each audited) ----------------------------------------


def extend(session: Session, actor: User | None, quiz_id: int, user_ids: Iterable[int],
           closes_at_local: datetime, now: datetime, *, reason: str = "") -> list[DeadlineExtension]:
    """Move the quiz's close to `closes_at_local` (naive, the course's zone) for each learner,
    bulk. A learner's live extension at that time is kept (a double click); at another time it
    moves (one live extension per learner and quiz)."""
    quiz, course = _quiz_and_course(session, quiz_id)
    staff = require_course_staff(actor, course)
    title = session.get_one(Lesson, quiz.lesson_id).title
    _check_close(quiz, course, closes_at_local, now)
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        raise Invalid({"user_ids": "Select at least one learner"})
    enrolled = set(session.exec(select(Enrollment.user_id).where(
        Enrollment.course_id == course.id, col(Enrollment.user_id).in_(ids),
        col(Enrollment.status).in_(LEARNING))))
    if missing := [i for i in ids if i not in enrolled]:
        raise Invalid({"user_ids": f"{len(missing)} of the chosen learners are not enrolled "
                                   "in this course"})
    reason = reason.strip()[:500]
    extended: list[DeadlineExtension] = []
    for learner_id in ids:
        row = _live(session, quiz.id, learner_id)
        created = False
        if row is None:
            row, created = insert_or_get(session, DeadlineExtension(
                user_id=learner_id, course_id=course.id, quiz_id=quiz.id,
                closes_at_local=closes_at_local, reason=reason, granted_by_id=staff.id,
                granted_at=as_utc(now)), lambda lid=learner_id: _live(session, quiz.id, lid))
        if created:
            audit.record(session, staff, "deadline_extension.grant", row, {},
                         {**audit.snapshot(row, *EXTENSION_FIELDS), "quiz": title})
        elif row.closes_at_local != closes_at_local:
            before = audit.snapshot(row, *EXTENSION_FIELDS)
            row.closes_at_local, row.reason = closes_at_local, reason
            row.granted_by_id, row.granted_at = staff.id, as_utc(now)
            session.add(row)
            audit.record(session, staff, "deadline_extension.change", row, before,
                         audit.snapshot(row, *EXTENSION_FIELDS))
        extended.append(row)
    session.flush()
    refit_open_attempts(session, quiz, course, now, ids)
    return extended


def revoke(session: Session, actor: User | None, extension_ids: Iterable[int],
           now: datetime) -> int:
    """Revoke live extensions (bulk): the quiz's own close applies again, to an open attempt too.
    The rows stay with `revoked_at`. Returns how many were live."""
    staff = require_staff(actor)
    rows = session.exec(select(DeadlineExtension).where(
        col(DeadlineExtension.id).in_(sorted({int(i) for i in extension_ids})))
        .order_by(col(DeadlineExtension.id)).with_for_update()).all()
    for course_id in sorted({row.course_id for row in rows}):
        require_course_staff(staff, session.get_one(Course, course_id))
    revoked: list[DeadlineExtension] = []
    for row in rows:
        if row.revoked_at is not None:
            continue
        row.revoked_at, row.revoked_by_id = as_utc(now), staff.id
        session.add(row)
        audit.record(session, staff, "deadline_extension.revoke", row, {"revoked_at": None},
                     audit.snapshot(row, "revoked_at"))
        revoked.append(row)
    session.flush()
    for quiz_id in sorted({row.quiz_id for row in revoked}):
        quiz, course = _quiz_and_course(session, quiz_id)
        refit_open_attempts(session, quiz, course, now,
                            [row.user_id for row in revoked if row.quiz_id == quiz_id])
    return len(revoked)


def refit_open_attempts(session: Session, quiz: Quiz, course: Course, now: datetime,
                        user_ids: Iterable[int] | None = None) -> None:
    """Open attempts at the quiz (of these learners, or everyone's) take the close as it now is
    for their learner; each learner whose deadline moved gets their open pages reloaded (the quiz
    panel's countdown). Called after an extension, a revocation or a new "Closes on". A close
    moved into the past stops an attempt `now`, not before: answers saved in good faith under
    the old close still count. An attempt whose deadline had already passed stays as it was."""
    now = as_utc(now)
    statement = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id,
                                          col(QuizAttempt.submitted_at).is_(None))
    if user_ids is not None:
        statement = statement.where(col(QuizAttempt.user_id).in_(list(user_ids)))
    for attempt in session.exec(statement.with_for_update()).all():
        current = as_utc(attempt.deadline) if attempt.deadline is not None else None
        if current is not None and current < now:
            continue  # over already: the next read grades it with what was saved by then
        deadline = attempt_deadline(attempt.time_limit_at,
                                    due_for(session, quiz, course, attempt.user_id))
        if deadline is not None and deadline < now:
            deadline = now
        if deadline != current:
            attempt.deadline = deadline
            session.add(attempt)
            bus.refresh(session, attempt.user_id)
    session.flush()


def _check_close(quiz: Quiz, course: Course, closes_at_local: datetime, now: datetime) -> None:
    if not isinstance(closes_at_local, datetime) or closes_at_local.tzinfo is not None:
        raise Invalid({"closes_at_local": "Give the time as the course's clock shows it"})
    if quiz.closes_at_local is None:
        raise Invalid({"quiz_id": "This quiz does not close: set “Closes on” in its settings "
                                  "first"})
    zone = zone_of(course)
    wanted, own = local_to_utc(closes_at_local, zone), local_to_utc(quiz.closes_at_local, zone)
    if wanted <= own:
        raise Invalid({"closes_at_local": "Choose a time after the quiz closes for everyone ("
                                          f"{moment_wording(own, zone)})"})
    if wanted <= as_utc(now):
        raise Invalid({"closes_at_local": "Choose a time in the future"})


def _live(session: Session, quiz_id: int, user_id: int) -> DeadlineExtension | None:
    return session.exec(select(DeadlineExtension).where(
        DeadlineExtension.quiz_id == quiz_id, DeadlineExtension.user_id == user_id,
        col(DeadlineExtension.revoked_at).is_(None)).with_for_update()).first()


def _quiz_and_course(session: Session, quiz_id: int) -> tuple[Quiz, Course]:
    if isinstance(quiz_id, bool) or not isinstance(quiz_id, int):
        raise NotFound("quiz", quiz_id)
    row = session.exec(select(Quiz, Course).join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                       .join(Module, col(Module.id) == Lesson.module_id)
                       .join(Course, col(Course.id) == Module.course_id)
                       .where(Quiz.id == quiz_id)).first()
    if row is None:
        raise NotFound("quiz", quiz_id)
    return row

