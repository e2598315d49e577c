"""Quiz due dates (services/deadlines.py): a quiz closes at its "Closes on" in the course's zone, to
the second, DST nights included; instructors extend it for chosen learners (bulk, once per double
click, audited) and revoke that; learners cannot. A frozen clock (every `now` passed in), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from academy_app.models import (
    AuditEntry,
    Course,
    DeadlineExtension,
    Module,
    Quiz,
    QuizAttempt,
    Role,
    User,
)
from academy_app.services import access, attempts, catalog, certificate_rule, deadlines, enrollment
from academy_app.services import quizzes as quiz_settings
from academy_app.services.errors import Closed, Conflict, Invalid, PermissionDenied
from academy_app.services.quizzes import QuizSettingsForm
from tests.factories import make_course, make_user, race
from tests.unit.test_quizzes import RIGHT, make_quiz

ZONE = "Europe/Paris"
CLOSES_LOCAL = datetime(2026, 3, 9, 17, 0)  # Paris is UTC+1 in March (before the DST change)
CLOSES = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def course(db, instructor) -> Course:
    course = make_course(db, instructor, lessons_per_module=(1,))
    access.set_time_zone(db, instructor, course.id, ZONE)
    db.commit()
    return course


@pytest.fixture
def quiz(db, instructor, course) -> Quiz:
    module = db.exec(select(Module).where(Module.course_id == course.id)).one()
    return make_quiz(db, instructor, module, kinds=("single", "true_false"),
                     closes_at=f"{CLOSES_LOCAL:%Y-%m-%dT%H:%M}")


def learners(db: Session, course: Course, count: int) -> list[User]:
    found = [make_user(db) for _ in range(count)]
    for learner in found:
        enrollment.enroll_free(db, learner, course.id)
    db.commit()
    return found


def extensions(db: Session, quiz: Quiz) -> list[tuple[int, datetime, bool]]:
    db.expire_all()
    return [(row.user_id, row.closes_at_local, row.revoked_at is None) for row in db.exec(
        select(DeadlineExtension).where(DeadlineExtension.quiz_id == quiz.id)
        .order_by(col(DeadlineExtension.id)))]


def audited(db: Session, prefix: str) -> list[str]:
    return list(db.exec(select(AuditEntry.action).where(col(AuditEntry.action).startswith(prefix))
                        .order_by(col(AuditEntry.id))))


def test_a_quiz_closes_at_the_exact_second_of_its_date_in_the_courses_zone(db, course, quiz):
    early, late = learners(db, course, 2)
    status = attempts.quiz_status(db, early, quiz.id, now=CLOSES - SECOND)
    assert (status.due_at, status.closed, status.can_start) == (CLOSES, False, True)
    view = attempts.start_attempt(db, early, quiz.id, now=CLOSES - SECOND)
    assert view.deadline == CLOSES  # no time limit: the close is the attempt's deadline
    db.commit()
    with pytest.raises(Closed) as refused:
        attempts.start_attempt(db, late, quiz.id, now=CLOSES)
    db.rollback()
    assert refused.value.message == ("“Checkpoint” closed on Mon 9 Mar, 17:00: no new attempt "
                                     "can start")
    assert refused.value.closed_at == CLOSES
    status = attempts.quiz_status(db, late, quiz.id, now=CLOSES)
    assert (status.closed, status.can_start) == (True, False)
    assert db.exec(select(QuizAttempt).where(QuizAttempt.user_id == late.id)).all() == []


def test_an_open_attempt_stops_at_the_close_before_its_time_limit(db, instructor, course, quiz):
    [learner] = learners(db, course, 1)
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        time_limit_minutes="60", closes_at=f"{CLOSES_LOCAL:%Y-%m-%dT%H:%M}"))
    db.commit()
    view = attempts.start_attempt(db, learner, quiz.id, now=CLOSES - timedelta(minutes=10))
    assert view.deadline == CLOSES  # earlier than the hour the time limit gives
    single, true_false = sorted(view.questions, key=lambda q: q.kind != "single")
    attempts.save_answer(db, learner, view.attempt_id, single.version_id, RIGHT["single"],
                         now=CLOSES)  # at the very instant: still in time, as for a time limit
    db.commit()
    with pytest.raises(Conflict, match="Time is up"):
        attempts.save_answer(db, learner, view.attempt_id, true_false.version_id,
                             RIGHT["true_false"], now=CLOSES + SECOND)
    db.rollback()
    status = attempts.quiz_status(db, learner, quiz.id, now=CLOSES + timedelta(hours=1))
    db.commit()
    [past] = status.attempts
    assert (past.submitted_at, past.percent) == (CLOSES, 50)
    assert status.closed and not status.can_start


def test_a_missed_graded_quiz_stays_missing_for_the_certificate(db, course, quiz):
    [learner] = learners(db, course, 1)
    with pytest.raises(Closed):
        attempts.start_attempt(db, learner, quiz.id, now=CLOSES + timedelta(days=1))
    db.rollback()
    rule = certificate_rule.for_learner(db, learner, course.id)
    assert not rule.eligible and rule.quizzes_missing == ("Checkpoint",)


@pytest.mark.parametrize(("local", "closes"), [
    # Spring forward (02:00 → 03:00): 02:30 never happens and means 03:30 summer time.
    (datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    # Fall back (03:00 → 02:00): 02:30 happens twice and means the first, still summer time.
    (datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
])
def test_a_close_on_a_dst_night_is_read_as_release_dates_are(db, instructor, course, quiz,
                                                             local, closes):
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        closes_at=f"{local:%Y-%m-%dT%H:%M}"))
    db.commit()
    first, second = learners(db, course, 2)
    assert attempts.quiz_status(db, first, quiz.id, now=closes).due_at == closes
    assert attempts.start_attempt(db, first, quiz.id, now=closes - SECOND).deadline == closes
    db.commit()
    with pytest.raises(Closed):
        attempts.start_attempt(db, second, quiz.id, now=closes)
    db.rollback()


def test_an_extension_moves_one_learners_close_and_revoking_it_restores_the_quizs(
        db, instructor, course, quiz):
    extended, other = learners(db, course, 2)
    later = CLOSES_LOCAL + timedelta(days=2)
    deadlines.extend(db, instructor, quiz.id, [extended.id], later, CLOSES - timedelta(days=1),
                     reason="Ill that week")
    db.commit()
    day_after = CLOSES + timedelta(days=1)
    status = attempts.quiz_status(db, extended, quiz.id, now=day_after)
    assert (status.due_at, status.extended, status.closed) == (CLOSES + timedelta(days=2), True,
                                                               False)
    assert attempts.quiz_status(db, other, quiz.id, now=day_after).closed
    view = attempts.start_attempt(db, extended, quiz.id, now=day_after)
    assert view.deadline == CLOSES + timedelta(days=2)
    single = next(q for q in view.questions if q.kind == "single")
    attempts.save_answer(db, extended, view.attempt_id, single.version_id, RIGHT["single"],
                         now=day_after + timedelta(minutes=5))
    db.commit()

    [extension_id] = [row.id for row in db.exec(select(DeadlineExtension))]
    revoked_at = day_after + timedelta(hours=1)
    assert deadlines.revoke(db, instructor, [extension_id], revoked_at) == 1
    assert deadlines.revoke(db, instructor, [extension_id], revoked_at) == 0  # once
    db.commit()
    # The quiz's own close applies again; the open attempt stops at the revocation, not back at
    # the close: what was saved under the extension counts.
    status = attempts.quiz_status(db, extended, quiz.id, now=revoked_at + SECOND)
    db.commit()
    assert (status.due_at, status.extended, status.closed) == (CLOSES, False, True)
    [past] = status.attempts
    assert (past.submitted_at, past.percent) == (revoked_at, 50)
    assert extensions(db, quiz) == [(extended.id, later, False)]
    assert audited(db, "deadline_extension") == ["deadline_extension.grant",
                                                 "deadline_extension.revoke"]


def test_extending_a_selection_is_one_call_and_a_double_click_makes_one_extension(
        db, instructor, course, quiz):
    chosen = learners(db, course, 3)
    later = CLOSES_LOCAL + timedelta(days=3)
    for _ in range(2):
        deadlines.extend(db, instructor, quiz.id, [u.id for u in chosen], later, CLOSES,
                         reason="Snow day")
        db.commit()
    assert sorted(extensions(db, quiz)) == sorted((u.id, later, True) for u in chosen)
    assert audited(db, "deadline_extension") == ["deadline_extension.grant"] * 3
    # Extending again to another date moves the live one: still one per learner and quiz.
    deadlines.extend(db, instructor, quiz.id, [chosen[0].id], later + timedelta(days=1), CLOSES)
    db.commit()
    assert extensions(db, quiz)[0] == (chosen[0].id, later + timedelta(days=1), True)
    assert len(extensions(db, quiz)) == 3
    assert audited(db, "deadline_extension")[-1] == "deadline_extension.change"


def test_racing_extensions_of_the_same_learner_leave_one_live(engine, db, instructor, course,
                                                              quiz):
    [learner] = learners(db, course, 1)
    later = CLOSES_LOCAL + timedelta(days=1)
    errors = race(engine, 3, lambda s, _: deadlines.extend(
        s, s.get(User, instructor.id), quiz.id, [learner.id], later, CLOSES))
    assert errors == []
    assert extensions(db, quiz) == [(learner.id, later, True)]


def test_an_extension_that_is_not_later_or_names_an_outsider_is_refused_and_writes_nothing(
        db, instructor, course, quiz):
    [learner] = learners(db, course, 1)
    outsider = make_user(db)
    db.commit()
    with pytest.raises(Invalid, match="after the quiz closes for everyone"):
        deadlines.extend(db, instructor, quiz.id, [learner.id], CLOSES_LOCAL, CLOSES)
    with pytest.raises(Invalid, match="in the future"):
        deadlines.extend(db, instructor, quiz.id, [learner.id],
                         CLOSES_LOCAL + timedelta(hours=1), CLOSES + timedelta(days=1))
    with pytest.raises(Invalid, match="1 of the chosen learners are not enrolled"):
        deadlines.extend(db, instructor, quiz.id, [learner.id, outsider.id],
                         CLOSES_LOCAL + timedelta(days=1), CLOSES)
    db.rollback()
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm())
    db.commit()
    with pytest.raises(Invalid, match="does not close"):
        deadlines.extend(db, instructor, quiz.id, [learner.id],
                         CLOSES_LOCAL + timedelta(days=1), CLOSES)
    db.rollback()
    assert extensions(db, quiz) == []


@pytest.mark.parametrize("who", ["student", "other instructor"])
def test_a_learner_or_another_courses_instructor_cannot_extend_or_revoke(db, instructor, course,
                                                                         quiz, who):
    [learner] = learners(db, course, 1)
    caller = learner if who == "student" else make_user(db, role=Role.INSTRUCTOR)
    db.commit()
    with pytest.raises(PermissionDenied):
        deadlines.extend(db, caller, quiz.id, [learner.id], CLOSES_LOCAL + timedelta(days=1),
                         CLOSES)
    db.rollback()
    [granted] = deadlines.extend(db, instructor, quiz.id, [learner.id],
                                 CLOSES_LOCAL + timedelta(days=1), CLOSES)
    db.commit()
    with pytest.raises(PermissionDenied):
        deadlines.revoke(db, caller, [granted.id], CLOSES)
    db.rollback()
    assert extensions(db, quiz) == [(learner.id, CLOSES_LOCAL + timedelta(days=1), True)]


def test_a_new_close_reaches_open_attempts_and_the_outline(db, instructor, course, quiz):
    [learner] = learners(db, course, 1)
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm())
    db.commit()
    assert not catalog.course_outline(db, course.slug, learner).closes
    view = attempts.start_attempt(db, learner, quiz.id)
    assert view.deadline is None
    db.commit()
    quiz_settings.update_quiz_settings(db, instructor, quiz.id, QuizSettingsForm(
        closes_at="2099-01-01T09:00"))
    db.commit()
    assert attempts.attempt_view(db, learner, view.attempt_id).deadline == \
        datetime(2099, 1, 1, 8, 0, tzinfo=UTC)
    assert catalog.course_outline(db, course.slug, learner).closes  # the cached outline knows
    due = deadlines.course_due_dates(db, learner, course)
    assert [(d.quiz_id, d.due_at, d.extended) for d in due.values()] == [
        (quiz.id, datetime(2099, 1, 1, 8, 0, tzinfo=UTC), False)]


def test_closes_on_is_checked_as_typed(db, instructor, quiz):
    with pytest.raises(Invalid) as refused:
        quiz_settings.update_quiz_settings(db, instructor, quiz.id,
                                           QuizSettingsForm(closes_at="next friday"))
    assert refused.value.errors == {"closes_at": "Enter a date and time like 2026-12-09 09:00"}
