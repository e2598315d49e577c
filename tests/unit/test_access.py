"""Learning paths (services/access.py): release rules, prerequisites, cohorts and overrides, on a
frozen clock (every `now` is passed in), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from academy_app.models import (
    AccessOverride,
    AuditEntry,
    Cohort,
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    Module,
    PrerequisiteKind,
    ReleaseKind,
    Role,
    User,
)
from academy_app.services import access, attempts, enrollment, progress, quizzes
from academy_app.services.access import BlockerKind, CohortSpec, RuleSpec
from academy_app.services.errors import Conflict, Invalid, PermissionDenied
from academy_app.services.quizzes import QuestionForm, QuizSettingsForm
from tests.factories import make_course, make_user, race

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def lessons_of(db: Session, course: Course) -> list[Lesson]:
    return list(db.exec(select(Lesson).join(Module).where(Module.course_id == course.id)
                        .order_by(col(Module.position), col(Lesson.position))))


def modules_of(db: Session, course: Course) -> list[Module]:
    return list(db.exec(select(Module).where(Module.course_id == course.id)
                        .order_by(col(Module.position))))


def enrol(db: Session, learner: User, course: Course, at: datetime = T0) -> Enrollment:
    row = enrollment.enroll_free(db, learner, course.id)
    row.created_at = at  # the frozen clock: enrolled at `at`
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def course(db, instructor) -> Course:
    return make_course(db, instructor, lessons_per_module=(2, 2))


@pytest.fixture
def learner(db, student, course) -> User:
    enrol(db, student, course)
    return student


def test_a_module_opens_seven_days_after_enrolment_at_the_exact_second(db, instructor, course,
                                                                       learner):
    second = modules_of(db, course)[1]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=7),
                    module_id=second.id)
    db.commit()
    lesson = lessons_of(db, course)[2]
    day6 = access.can_open(db, learner, lesson, T0 + timedelta(days=6))
    assert not day6.is_open and day6.opens_at == T0 + timedelta(days=7)
    assert day6.reason == "Opens Mon 9 Mar, 09:00"  # in the course's zone (UTC by default)
    assert day6.blockers[0].kind is BlockerKind.SCHEDULED
    a_second_before = T0 + timedelta(days=7) - timedelta(seconds=1)
    assert not access.can_open(db, learner, lesson, a_second_before).is_open
    assert access.can_open(db, learner, lesson, T0 + timedelta(days=7)).is_open
    first = lessons_of(db, course)[0]
    assert access.can_open(db, learner, first, T0).is_open  # the first module has no rule


def test_in_sequence_each_lesson_waits_for_the_one_before(db, instructor, course, learner):
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=modules_of(
        db, course)[0].id)
    db.commit()
    one, two, three, _ = lessons_of(db, course)
    outline = access.outline_access(db, learner, course.id, T0)
    assert outline[one.id].is_open and outline[three.id].is_open  # module 2 has no rule
    assert not outline[two.id].is_open and outline[two.id].opens_at is None
    assert outline[two.id].reason == f"Complete “{one.title}” to open"
    progress.set_lesson_completion(db, learner, one.id, True)
    db.commit()
    after = access.outline_access(db, learner, course.id, T0)
    assert after[two.id].is_open
    assert access.newly_opened(outline, after) == [two.id]


def make_quiz(db: Session, instructor: User, module: Module) -> int:
    quiz = quizzes.create_quiz(db, instructor, module.id, "Quiz 1", QuizSettingsForm())
    quizzes.add_quiz_question(db, instructor, quiz.id, QuestionForm(
        "single", "Capital of France?", {"options": [{"text": "Paris", "correct": True},
                                                     {"text": "Lyon"}]}))
    quizzes.add_quiz_question(db, instructor, quiz.id,
                              QuestionForm("true_false", "Water is wet.", {"answer": True}))
    db.commit()
    return quiz.id


def take(db: Session, learner: User, quiz_id: int, both_right: bool) -> None:
    view = attempts.start_attempt(db, learner, quiz_id, now=T0)
    for question in view.questions:
        response = {"choice": 0} if question.kind.value == "single" else {"value": both_right}
        attempts.save_answer(db, learner, view.attempt_id, question.version_id, response, now=T0)
    attempts.submit_attempt(db, learner, view.attempt_id, now=T0)
    db.commit()


def test_a_module_waits_for_a_quiz_passed_with_the_minimum_score(db, instructor, course, learner):
    first, second = modules_of(db, course)
    quiz_id = make_quiz(db, instructor, first)
    quiz_lesson_id = db.exec(select(Lesson.id).where(Lesson.title == "Quiz 1")).one()
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COMPLETION,
                                             after_lesson_id=quiz_lesson_id, min_score_percent=70),
                    module_id=second.id)
    db.commit()
    gated = lessons_of(db, course)[-1]
    locked = access.can_open(db, learner, gated, T0)
    assert not locked.is_open and locked.reason == "Pass “Quiz 1” (70 %) to open"
    assert locked.blockers[0].kind is BlockerKind.SCORE
    assert locked.blockers[0].lesson_id == quiz_lesson_id
    take(db, learner, quiz_id, both_right=False)  # 50 %
    assert not access.can_open(db, learner, gated, T0).is_open
    take(db, learner, quiz_id, both_right=True)  # 100 %: the highest attempt counts
    assert access.can_open(db, learner, gated, T0).is_open


def test_a_module_opens_days_after_the_learners_cohort_starts(db, instructor, course, learner):
    access.set_time_zone(db, instructor, course.id, "Europe/Paris")
    cohort = access.create_cohort(db, instructor, course.id, CohortSpec(
        "Spring", datetime(2026, 3, 10, 9, 0), capacity=5))
    second = modules_of(db, course)[1]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COHORT_START, days=7),
                    module_id=second.id)
    db.commit()
    lesson = lessons_of(db, course)[2]
    without = access.can_open(db, learner, lesson, T0)
    assert not without.is_open and without.blockers[0].kind is BlockerKind.NO_COHORT
    access.join_cohort(db, learner, cohort.id, T0)
    db.commit()
    opens = datetime(2026, 3, 17, 8, 0, tzinfo=UTC)  # 09:00 in Paris (UTC+1 in March)
    locked = access.can_open(db, learner, lesson, opens - timedelta(seconds=1))
    assert locked.opens_at == opens and locked.reason == "Opens Tue 17 Mar, 09:00"
    assert access.can_open(db, learner, lesson, opens).is_open
    assert db.get(Cohort, cohort.id).seats_taken == 1


def test_an_override_opens_early_until_it_is_revoked_and_both_are_audited(
        db, instructor, course, learner, student):
    second = modules_of(db, course)[1]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=datetime(2026, 6, 1, 9, 0)),
                    module_id=second.id)
    other = make_user(db)
    enrol(db, other, course)
    lesson = lessons_of(db, course)[3]
    granted = access.grant_overrides(db, instructor, [learner.id, other.id], course_id=course.id,
                                     module_id=second.id, reason="Travelling in June")
    again = access.grant_overrides(db, instructor, [learner.id], course_id=course.id,
                                   module_id=second.id)  # a double click adds nothing
    db.commit()
    assert again[0].id == granted[0].id
    opened = access.can_open(db, learner, lesson, T0)
    assert opened.is_open and opened.by_override
    assert access.revoke_overrides(db, instructor, [granted[0].id], T0) == 1
    assert access.revoke_overrides(db, instructor, [granted[0].id], T0) == 0
    db.commit()
    assert not access.can_open(db, learner, lesson, T0).is_open
    assert access.can_open(db, other, lesson, T0).is_open  # the other learner keeps theirs
    kept = db.get(AccessOverride, granted[0].id)
    assert kept.revoked_at is not None and kept.revoked_by_id == instructor.id
    actions = db.exec(select(AuditEntry.action).where(
        AuditEntry.entity_type == "access_overrides")).all()
    assert sorted(actions) == ["access_override.grant"] * 2 + ["access_override.revoke"]
    course_wide = access.grant_overrides(db, instructor, [learner.id], course_id=course.id)
    db.commit()
    assert course_wide[0].scope_key == f"course:{course.id}"
    assert access.can_open(db, learner, lesson, T0).is_open


def test_circular_lesson_rules_are_refused_with_the_circle_named(db, instructor, course):
    one, two, _three, _four = lessons_of(db, course)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COMPLETION, after_lesson_id=two.id),
                    lesson_id=one.id)
    db.commit()
    with pytest.raises(Invalid, match=re.escape("“Lesson 1.2” needs “Lesson 1.1” needs “Lesson 1.2”")):
        access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), lesson_id=two.id)
    with pytest.raises(Invalid, match="wait for each other"):  # a module waiting for itself
        access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COMPLETION,
                                                 after_lesson_id=one.id),
                        module_id=modules_of(db, course)[0].id)


def test_circular_course_prerequisites_are_refused(db, instructor, course):
    b = make_course(db, instructor, title="Course B")
    c = make_course(db, instructor, title="Course C")
    access.add_prerequisite(db, instructor, b.id, course.id)
    access.add_prerequisite(db, instructor, c.id, b.id)
    db.commit()
    with pytest.raises(Invalid, match="“Course” needs “Course C” needs “Course B” needs “Course”"):
        access.add_prerequisite(db, instructor, course.id, c.id)
    with pytest.raises(Invalid, match="cannot require itself"):
        access.add_prerequisite(db, instructor, course.id, course.id)


def test_a_course_opens_once_its_prerequisite_is_completed_or_certified(
        db, instructor, course, learner):
    basics = make_course(db, instructor, title="Basics", lessons_per_module=(1,))
    access.add_prerequisite(db, instructor, course.id, basics.id, PrerequisiteKind.CERTIFICATE)
    db.commit()
    first = lessons_of(db, course)[0]
    locked = access.can_open(db, learner, first, T0)
    assert locked.reason == "Earn the certificate of “Basics” first"
    enrol(db, learner, basics)
    progress.set_lesson_completion(db, learner, lessons_of(db, basics)[0].id, True)
    db.commit()
    assert access.can_open(db, learner, first, T0).is_open


def test_a_rule_naming_a_lesson_of_another_course_is_refused(db, instructor, course):
    other = make_course(db, instructor, title="Other")
    with pytest.raises(Invalid, match="another course"):
        access.set_rule(db, instructor, RuleSpec(
            ReleaseKind.AFTER_COMPLETION, after_lesson_id=lessons_of(db, other)[0].id),
            lesson_id=lessons_of(db, course)[1].id)
    with pytest.raises(Invalid, match="needs a quiz"):
        access.set_rule(db, instructor, RuleSpec(
            ReleaseKind.AFTER_COMPLETION, after_lesson_id=lessons_of(db, course)[0].id,
            min_score_percent=50), lesson_id=lessons_of(db, course)[1].id)


def test_only_the_courses_instructor_or_an_admin_set_rules(db, instructor, course, learner):
    stranger = make_user(db, Role.INSTRUCTOR)
    target = modules_of(db, course)[1].id
    spec = RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=1)
    for who in (stranger, learner):
        with pytest.raises(PermissionDenied):
            access.set_rule(db, who, spec, module_id=target)
        with pytest.raises(PermissionDenied):
            access.grant_overrides(db, who, [learner.id], course_id=course.id)
    admin = make_user(db, Role.ADMIN)
    access.set_rule(db, admin, spec, module_id=target)
    db.commit()
    # Staff preview everything; a visitor who did not enrol is told to.
    lesson = lessons_of(db, course)[2]
    assert access.can_open(db, instructor, lesson, T0).is_open
    assert access.can_open(db, stranger, lesson, T0).blockers[0].kind is BlockerKind.NOT_ENROLLED


def test_dst_spring_forward_keeps_the_wall_clock_time(db, instructor, course, learner):
    # New York springs forward on Sun 8 Mar 2026, 02:00 → 03:00.
    access.set_time_zone(db, instructor, course.id, "America/New_York")
    enrolled = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)  # 09:00 EST
    db.get(Enrollment, enrollment.enrollment_for(db, learner.id, course.id).id).created_at = enrolled
    second = modules_of(db, course)[1]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=7),
                    module_id=second.id)
    first = modules_of(db, course)[0]
    # 02:30 does not exist that night: it opens as if the clock had not jumped (03:30 EDT).
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=datetime(2026, 3, 8, 2, 30)),
                    module_id=first.id)
    db.commit()
    outline = access.outline_access(db, learner, course.id, enrolled)
    lessons = lessons_of(db, course)
    # 09:00 EDT on 12 Mar is 13:00 UTC: 7 days of 24 hours would have said 14:00.
    assert outline[lessons[2].id].opens_at == datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
    assert outline[lessons[2].id].reason == "Opens Thu 12 Mar, 09:00"
    assert outline[lessons[0].id].opens_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert outline[lessons[0].id].reason == "Opens Sun 8 Mar, 03:30"


def test_dst_fall_back_opens_at_the_first_of_the_two_identical_times():
    zone = ZoneInfo("Europe/Paris")  # 25 Oct 2026: 03:00 CEST → 02:00 CET
    assert access.local_to_utc(datetime(2026, 10, 25, 2, 30), zone) == \
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(local=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
       zone=st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe",
                             "Asia/Kolkata", "UTC"]),
       days=st.integers(0, 400))
def test_days_after_keeps_the_wall_clock_whenever_that_time_exists(local, zone, days):
    tz = ZoneInfo(zone)
    anchor = access.local_to_utc(local, tz)
    shown = access.utc_to_local(access.days_after(anchor, days, tz), tz)
    wanted = access.utc_to_local(anchor, tz) + timedelta(days=days)
    # Only a time skipped by a DST jump moves, and by the jump (at most an hour) forward.
    assert timedelta(0) <= shown - wanted <= timedelta(hours=1)


def test_the_last_seat_of_a_cohort_goes_to_one_of_two_racing_learners(engine, db, instructor,
                                                                      course):
    cohort = access.create_cohort(db, instructor, course.id, CohortSpec(
        "Small", datetime(2026, 4, 1, 9, 0), capacity=1))
    racers = [make_user(db) for _ in range(3)]
    for racer in racers:
        enrol(db, racer, course)
    db.commit()
    errors = race(engine, 3, lambda s, i: access.join_cohort(
        s, s.get(User, racers[i].id), cohort.id, T0))
    assert len(errors) == 2 and all(isinstance(e, Conflict) and "full" in e.message
                                    for e in errors)
    db.expire_all()
    assert db.get(Cohort, cohort.id).seats_taken == 1
    assert len(db.exec(select(Enrollment).where(Enrollment.cohort_id == cohort.id)).all()) == 1


def test_joining_a_cohort_respects_its_window_and_moving_frees_the_seat(db, instructor, course,
                                                                       learner):
    early = access.create_cohort(db, instructor, course.id, CohortSpec(
        "Early", datetime(2026, 3, 10, 9, 0), capacity=2,
        enrol_until_local=datetime(2026, 3, 9, 0, 0)))
    late = access.create_cohort(db, instructor, course.id, CohortSpec(
        "Late", datetime(2026, 5, 1, 9, 0), capacity=2,
        enrol_from_local=datetime(2026, 4, 1, 0, 0)))
    with pytest.raises(Invalid, match="called “Early”"):
        access.create_cohort(db, instructor, course.id, CohortSpec("Early", datetime(2026, 6, 1)))
    access.join_cohort(db, learner, early.id, T0)
    access.join_cohort(db, learner, early.id, T0)  # twice: still one seat
    db.commit()
    with pytest.raises(Conflict, match="takes learners from"):
        access.join_cohort(db, learner, late.id, T0)
    with pytest.raises(Conflict, match="no longer takes"):
        access.join_cohort(db, make_enrolled(db, course), early.id,
                           datetime(2026, 3, 9, tzinfo=UTC))
    access.join_cohort(db, instructor, late.id, T0, user_id=learner.id)  # staff may place early
    db.commit()
    db.expire_all()
    assert (db.get(Cohort, early.id).seats_taken, db.get(Cohort, late.id).seats_taken) == (0, 1)
    access.join_cohort(db, instructor, late.id, T0, user_id=make_enrolled(db, course).id)
    with pytest.raises(Invalid, match="keep at least 2"):
        access.edit_cohort(db, instructor, late.id, CohortSpec("Late", datetime(2026, 5, 1),
                                                               capacity=1))
    edited = access.edit_cohort(db, instructor, late.id, CohortSpec(
        "Late starters", datetime(2026, 5, 2, 9, 0), capacity=3))
    assert (edited.name, edited.capacity, edited.seats_taken) == ("Late starters", 3, 2)


def make_enrolled(db: Session, course: Course) -> User:
    user = make_user(db)
    enrol(db, user, course)
    return user


def test_unlocks_between_two_instants_and_the_release_notice_is_claimed_once(
        db, instructor, course, learner):
    second = modules_of(db, course)[1]
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=7),
                    module_id=second.id)
    late = make_user(db)
    enrol(db, late, course, at=T0 + timedelta(days=3))
    db.commit()
    opened = access.unlocks_between(db, T0 + timedelta(days=6), T0 + timedelta(days=7))
    assert [(u.user_id, u.lesson_title, u.opened_at) for u in opened] == [
        (learner.id, "Lesson 2.1", T0 + timedelta(days=7)),
        (learner.id, "Lesson 2.2", T0 + timedelta(days=7))]
    assert access.unlocks_between(db, T0 + timedelta(days=7), T0 + timedelta(days=8)) == []
    assert {u.user_id for u in access.unlocks_between(
        db, T0, T0 + timedelta(days=30), course_id=course.id)} == {learner.id, late.id}
    day = access.release_day(course, opened[0].opened_at)
    ids = [u.lesson_id for u in opened]
    assert access.record_release_notice(db, learner.id, course.id, day, ids) is True
    assert access.record_release_notice(db, learner.id, course.id, day, ids) is False
    db.commit()


def test_an_unknown_time_zone_is_refused(db, instructor, course):
    with pytest.raises(Invalid, match="not a time zone"):
        access.set_time_zone(db, instructor, course.id, "Mars/Olympus")


def test_outline_access_costs_the_same_queries_for_a_small_and_a_big_course(
        db, instructor, sql_statements):
    def cost(shape: tuple[int, ...]) -> int:
        course = make_course(db, instructor, lessons_per_module=shape)
        learner = make_enrolled(db, course)
        modules = modules_of(db, course)
        access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=modules[0].id)
        access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=3),
                        module_id=modules[-1].id)
        db.commit()
        return len(sql_statements(lambda s: access.outline_access(
            s, s.get(User, learner.id), course.id, T0)))

    assert cost((2, 2)) == cost((8, 8, 8, 8))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=10))
def test_find_circle_agrees_with_a_plain_reachability_check(edges):
    needs: dict[int, set[int]] = {}
    for a, b in edges:
        needs.setdefault(a, set()).add(b)

    def reaches(a: int, b: int, seen: frozenset[int] = frozenset()) -> bool:
        return any(n == b or (n not in seen and reaches(n, b, seen | {n}))
                   for n in needs.get(a, ()))

    circle = access._find_circle(needs)
    assert bool(circle) == any(reaches(n, n) for n in needs)
    if circle:
        assert circle[0] == circle[-1]
        assert all(b in needs[a] for a, b in itertools.pairwise(circle))


def test_a_cancelled_enrollment_opens_nothing(db, course, learner):
    row = enrollment.enrollment_for(db, learner.id, course.id)
    row.status = EnrollmentStatus.CANCELLED
    db.add(row)
    db.commit()
    assert not access.can_open(db, learner, lessons_of(db, course)[0], T0).is_open


def test_leaving_frees_the_seat_and_only_an_empty_cohort_is_deleted(db, instructor, course,
                                                                   learner):
    cohort = access.create_cohort(db, instructor, course.id, CohortSpec(
        "Autumn", datetime(2026, 9, 1, 9, 0), capacity=1))
    access.join_cohort(db, learner, cohort.id, T0)
    db.commit()
    with pytest.raises(Conflict, match="has 1 learner: move them"):
        access.delete_cohort(db, instructor, cohort.id)
    access.leave_cohort(db, learner, course.id)
    access.leave_cohort(db, learner, course.id)  # twice: nothing more
    db.commit()
    db.expire_all()
    assert db.get(Cohort, cohort.id).seats_taken == 0
    access.delete_cohort(db, instructor, cohort.id)
    db.commit()
    assert db.get(Cohort, cohort.id) is None


def test_a_lesson_waits_for_both_its_modules_rule_and_its_own(db, instructor, course, learner):
    first_module = modules_of(db, course)[0]
    one, two, *_ = lessons_of(db, course)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=2),
                    module_id=first_module.id)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_ENROLMENT, days=5),
                    lesson_id=two.id)
    db.commit()
    outline = access.outline_access(db, learner, course.id, T0)
    assert outline[one.id].opens_at == T0 + timedelta(days=2)
    assert outline[two.id].opens_at == T0 + timedelta(days=5)  # the later of the two
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COMPLETION, after_lesson_id=one.id),
                    lesson_id=two.id)  # replaces the lesson's rule
    db.commit()
    later = access.can_open(db, learner, two.id, T0)
    assert [b.kind for b in later.blockers] == [BlockerKind.SCHEDULED, BlockerKind.COMPLETION]
    assert later.opens_at is None  # time alone will not open it
    assert len(access.course_rules(db, instructor, course.id)) == 2
