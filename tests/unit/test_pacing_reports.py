"""What the instructor's pacing page reads (services/reports.py): the outline with its rules in
words, each cohort's progress, the roster and the overrides with who and when; staff of the
course only; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from academy_app.models import Enrollment, EnrollmentStatus, Lesson, Module, ReleaseKind, Role
from academy_app.services import access, enrollment, progress, reports
from academy_app.services.access import CohortSpec, RuleSpec
from academy_app.services.errors import PermissionDenied
from tests.factories import make_course, make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def lessons_of(db, course) -> list[Lesson]:
    return list(db.exec(select(Lesson).join(Module).where(Module.course_id == course.id)
                        .order_by(col(Module.position), col(Lesson.position))))


def test_the_outline_shows_each_rule_in_words(db, instructor):
    course = make_course(db, instructor, lessons_per_module=(2, 1))
    first, second = db.exec(select(Module).where(Module.course_id == course.id)
                            .order_by(col(Module.position))).all()
    intro = lessons_of(db, course)[0]
    access.set_time_zone(db, instructor, course.id, "Europe/Paris")
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COHORT_START, days=7),
                    module_id=second.id)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=first.id)
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.ON_DATE,
                                             opens_at_local=datetime(2026, 12, 9, 9, 0)),
                    lesson_id=lessons_of(db, course)[1].id)
    db.commit()
    seen = reports.pacing(db, instructor, course.id)
    titles = {lesson.id: lesson.title for m in seen.modules for lesson in m.lessons}
    assert [m.id for m in seen.modules] == [first.id, second.id]
    words = [reports.rule_wording(m.rule, titles, "Europe/Paris", on_module=True)
             for m in seen.modules]
    assert words == ["In sequence: each lesson opens once the one before it is complete",
                     "Opens 7 days after the learner's cohort starts"]
    dated = seen.modules[0].lessons[1].rule
    assert reports.rule_wording(dated, titles, "Europe/Paris") == \
        "Opens Wed 9 Dec 2026, 09:00 (Europe/Paris)"
    gate = RuleSpec(ReleaseKind.AFTER_COMPLETION, after_lesson_id=intro.id)
    rule = access.set_rule(db, instructor, gate, lesson_id=lessons_of(db, course)[2].id)
    assert reports.rule_wording(rule, titles, "UTC") == f"Opens once “{intro.title}” is complete"
    assert seen.modules[0].lessons[0].rule is None


def test_cohort_progress_counts_learners_average_and_completed(db, instructor):
    course = make_course(db, instructor, lessons_per_module=(2, 2))
    spring = access.create_cohort(db, instructor, course.id,
                                  CohortSpec("Spring", datetime(2026, 3, 2, 9, 0)))
    autumn = access.create_cohort(db, instructor, course.id,
                                  CohortSpec("Autumn", datetime(2026, 9, 1, 9, 0)))
    ann, bob, cat = (make_user(db, name=name) for name in ("Ann", "Bob", "Cat"))
    for learner in (ann, bob, cat):
        enrollment.enroll_free(db, learner, course.id)
    for learner in (ann, bob):
        access.join_cohort(db, instructor, spring.id, T0, user_id=learner.id)
    lessons = lessons_of(db, course)
    for lesson in lessons:
        progress.set_lesson_completion(db, ann, lesson.id, True)
    progress.set_lesson_completion(db, bob, lessons[0].id, True)
    progress.set_lesson_completion(db, cat, lessons[0].id, True)  # in no cohort
    db.commit()
    lines = reports.cohort_progress(db, instructor, course.id)
    assert [(line.cohort.name, line.learners, line.average_percent, line.completed)
            for line in lines] == [("Spring", 2, 62, 1), ("Autumn", 0, 0, 0)]
    assert lines[1].cohort.id == autumn.id


def test_the_roster_finds_learners_and_their_cohort(db, instructor):
    course = make_course(db, instructor)
    spring = access.create_cohort(db, instructor, course.id,
                                  CohortSpec("Spring", datetime(2026, 3, 2, 9, 0)))
    ann = make_user(db, name="Ann Archer", email="ann@example.com")
    bob = make_user(db, name="bob Baker", email="bob@example.com")
    gone = make_user(db, name="Gone")
    for learner in (ann, bob, gone):
        enrollment.enroll_free(db, learner, course.id)
    row = db.exec(select(Enrollment).where(Enrollment.user_id == gone.id)).one()
    row.status = EnrollmentStatus.CANCELLED
    access.join_cohort(db, instructor, spring.id, T0, user_id=ann.id)
    db.commit()
    lines, matching = reports.course_roster(db, instructor, course.id)
    assert [(line.name, line.cohort_id) for line in lines] == [("Ann Archer", spring.id),
                                                               ("bob Baker", None)]
    assert matching == 2
    lines, matching = reports.course_roster(db, instructor, course.id, "BOB@")
    assert [line.user_id for line in lines] == [bob.id] and matching == 1


def test_overrides_say_what_they_open_who_granted_and_who_revoked(db, instructor):
    course = make_course(db, instructor)
    module = db.exec(select(Module).where(Module.course_id == course.id)
                     .order_by(col(Module.position))).first()
    ann = make_user(db, name="Ann")
    enrollment.enroll_free(db, ann, course.id)
    [whole] = access.grant_overrides(db, instructor, [ann.id], course_id=course.id,
                                     reason="Returning learner")
    access.grant_overrides(db, instructor, [ann.id], course_id=course.id, module_id=module.id)
    access.revoke_overrides(db, instructor, [whole.id], T0)
    db.commit()
    [live] = reports.override_lines(db, instructor, course.id)
    assert (live.learner, live.target, live.granted_by, live.revoked_at) == (
        "Ann", f"Module “{module.title}”", "Iris Instructor", None)
    lines = reports.override_lines(db, instructor, course.id, include_revoked=True)
    revoked = next(line for line in lines if line.id == whole.id)
    assert (revoked.target, revoked.reason, revoked.revoked_by, revoked.revoked_at) == (
        "The whole course", "Returning learner", "Iris Instructor", T0)


@pytest.mark.parametrize("read", [reports.pacing, reports.cohort_progress, reports.course_roster,
                                  reports.override_lines])
def test_only_the_courses_staff_read_its_pacing(db, instructor, student, read):
    course = make_course(db, instructor)
    other = make_user(db, Role.INSTRUCTOR)
    for outsider in (student, other):
        with pytest.raises(PermissionDenied):
            read(db, outsider, course.id)


def test_the_pacing_page_costs_the_same_statements_for_1_or_30_learners(db, instructor,
                                                                      sql_statements):
    """What PacingState's read runs (the outline, cohorts, roster, overrides) does not grow with
    learners, cohorts, rules or overrides."""
    course = make_course(db, instructor, lessons_per_module=(2, 2))
    modules = db.exec(select(Module).where(Module.course_id == course.id)).all()
    spring = access.create_cohort(db, instructor, course.id,
                                  CohortSpec("Spring", datetime(2026, 3, 2, 9, 0)))
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=modules[0].id)

    def add_learner() -> None:
        learner = make_user(db)
        enrollment.enroll_free(db, learner, course.id)
        access.join_cohort(db, instructor, spring.id, T0, user_id=learner.id)
        progress.set_lesson_completion(db, learner, lessons_of(db, course)[0].id, True)
        access.grant_overrides(db, instructor, [learner.id], course_id=course.id, reason="x")
        db.commit()

    def read(session) -> None:
        staff = session.get(type(instructor), instructor.id)
        reports.pacing(session, staff, course.id)
        reports.cohort_progress(session, staff, course.id)
        reports.course_roster(session, staff, course.id)
        reports.override_lines(session, staff, course.id, include_revoked=True)

    add_learner()
    one = sql_statements(read)
    for _ in range(29):
        add_learner()
    access.create_cohort(db, instructor, course.id, CohortSpec("Autumn", datetime(2026, 9, 1, 9)))
    access.set_rule(db, instructor, RuleSpec(ReleaseKind.AFTER_COHORT_START, days=7),
                    module_id=modules[1].id)
    db.commit()
    thirty = sql_statements(read)
    assert len(one) == len(thirty), (one, thirty)
