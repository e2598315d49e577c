"""Enrollment, lesson access and progress: the learner's journey at the service layer."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, func, select

from academy_app.models import Enrollment, EnrollmentStatus, LessonProgress, User
from academy_app.services import enrollment, lessons, progress
from academy_app.services.catalog import course_outline
from academy_app.services.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from tests.factories import make_course, make_user, race


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Python", slug="python")


def lesson_ids(db, course) -> list[int]:
    return [lesson.id for lesson in course_outline(db, course.slug, None).lessons]


def enrollments(db, course) -> int:
    return db.exec(select(func.count()).select_from(Enrollment)
                   .where(Enrollment.course_id == course.id)).one()


def test_enrolling_twice_keeps_one_enrollment(db, student, course):
    first = enrollment.enroll_free(db, student, course.id)
    db.commit()
    second = enrollment.enroll_free(db, student, course.id)
    db.commit()
    assert first.id == second.id
    assert first.status is EnrollmentStatus.ACTIVE
    assert enrollments(db, course) == 1


def test_paid_draft_and_anonymous_enrollments_are_refused(db, student, instructor):
    paid = make_course(db, instructor, price_cents=1900)
    draft = make_course(db, instructor, published=False)
    with pytest.raises(Conflict):
        enrollment.enroll_free(db, student, paid.id)
    with pytest.raises(NotFound):
        enrollment.enroll_free(db, student, draft.id)
    with pytest.raises(NotFound):
        enrollment.enroll_free(db, student, 987654)
    with pytest.raises(NotAuthenticated):
        enrollment.enroll_free(db, None, paid.id)


def test_racing_double_click_creates_one_enrollment(engine, db, student, course):
    """Five requests for the same enrollment at the same moment, each in its own transaction."""
    errors = race(engine, 5, lambda session, _: enrollment.enroll_free(
        session, session.get(User, student.id), course.id))
    assert errors == []
    assert enrollments(db, course) == 1


def test_completing_lessons_moves_percent_and_next_lesson(db, student, course):
    ids = lesson_ids(db, course)
    enrollment.enroll_free(db, student, course.id)
    state = progress.set_lesson_completion(db, student, ids[0], True)
    db.commit()
    assert (state.percent, state.done, state.total, state.next_lesson_id) == (25, 1, 4, ids[1])
    state = progress.set_lesson_completion(db, student, ids[2], True)
    assert (state.percent, state.next_lesson_id) == (50, ids[1])


def test_marking_complete_twice_keeps_one_progress_row(db, student, course):
    first = lesson_ids(db, course)[0]
    enrollment.enroll_free(db, student, course.id)
    progress.set_lesson_completion(db, student, first, True)
    progress.set_lesson_completion(db, student, first, True)
    db.commit()
    assert db.exec(select(func.count()).select_from(LessonProgress)).one() == 1


def test_completing_every_lesson_completes_the_enrollment_and_undoing_reopens_it(db, student,
                                                                                 course):
    ids = lesson_ids(db, course)
    enrollment.enroll_free(db, student, course.id)
    for lesson_id in ids:
        state = progress.set_lesson_completion(db, student, lesson_id, True)
    db.commit()
    mine = enrollment.enrollment_for(db, student.id, course.id)
    assert state.percent == 100 and state.next_lesson_id is None
    assert mine.status is EnrollmentStatus.COMPLETED and mine.completed_at is not None

    progress.set_lesson_completion(db, student, ids[-1], False)
    db.commit()
    db.refresh(mine)
    assert mine.status is EnrollmentStatus.ACTIVE and mine.completed_at is None


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_tabs_finishing_the_last_two_lessons_at_once_complete_the_course(engine, db, student,
                                                                            course):
    """The second waits for the first's lock on the enrollment, then counts the first's lesson
    too: on PostgreSQL its mark and its count are one statement, begun once the lock is its."""
    ids = lesson_ids(db, course)
    enrollment.enroll_free(db, student, course.id)
    for lesson_id in ids[:-2]:
        progress.set_lesson_completion(db, student, lesson_id, True)
    db.commit()
    first = Session(engine, expire_on_commit=False)
    first_state = progress.set_lesson_completion(first, first.get(User, student.id), ids[-2], True)
    first_pid = first.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    second_state: list[progress.CourseProgress] = []

    def second_tab() -> None:
        with Session(engine, expire_on_commit=False) as session:
            second_state.append(progress.set_lesson_completion(
                session, session.get(User, student.id), ids[-1], True))
            session.commit()

    thread = threading.Thread(target=second_tab)
    thread.start()
    with engine.connect() as watcher:  # until the second tab waits for the first's lock
        while not watcher.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                f"{first_pid} = ANY(pg_blocking_pids(pid))").scalar():
            watcher.rollback()
            thread.join(0.01)
    first.commit()
    first.close()
    thread.join()
    assert (first_state.is_complete, second_state[0].is_complete) == (False, True)
    db.expire_all()
    mine = enrollment.enrollment_for(db, student.id, course.id)
    assert mine.status is EnrollmentStatus.COMPLETED and mine.completed_at is not None


def test_progress_needs_an_enrollment(db, student, instructor, course):
    first = lesson_ids(db, course)[0]
    with pytest.raises(PermissionDenied):
        progress.set_lesson_completion(db, student, first, True)
    with pytest.raises(PermissionDenied):  # staff preview lessons but do not collect progress
        progress.set_lesson_completion(db, instructor, first, True)
    with pytest.raises(NotAuthenticated):
        progress.set_lesson_completion(db, None, first, True)
    with pytest.raises(NotFound):
        progress.set_lesson_completion(db, student, 424242, True)


def test_opening_a_lesson_requires_enrollment_except_for_course_staff(db, student, instructor,
                                                                        course):
    first = lesson_ids(db, course)[0]
    with pytest.raises(PermissionDenied):
        lessons.open_lesson(db, student, "python", first)
    with pytest.raises(NotAuthenticated):
        lessons.open_lesson(db, None, "python", first)
    preview = lessons.open_lesson(db, instructor, "python", first)
    assert preview.is_enrolled is False and preview.progress.done == 0


def test_open_lesson_gives_content_position_and_progress(db, student, course):
    ids = lesson_ids(db, course)
    enrollment.enroll_free(db, student, course.id)
    progress.set_lesson_completion(db, student, ids[0], True)
    view = lessons.open_lesson(db, student, "python", ids[1])
    assert view.lesson.title == "Lesson 1.2"
    assert (view.previous_id, view.next_id) == (ids[0], ids[2])
    assert view.progress.completed == {ids[0]}
    assert "<p>Body of lesson 1.2</p>" in view.body_html


def test_a_lesson_of_another_course_is_not_found_under_this_one(db, student, instructor, course):
    other = make_course(db, instructor, slug="other")
    enrollment.enroll_free(db, student, course.id)
    with pytest.raises(NotFound):
        lessons.open_lesson(db, student, "python", lesson_ids(db, other)[0])


def test_dashboard_shows_each_course_with_percent_and_where_to_resume(db, student, instructor,
                                                                      course):
    other = make_course(db, instructor, title="Other", lessons_per_module=(3,))
    ids = lesson_ids(db, course)
    enrollment.enroll_free(db, student, course.id)
    enrollment.enroll_free(db, student, other.id)
    progress.set_lesson_completion(db, student, ids[0], True)
    db.commit()
    entries = {entry.title: entry for entry in progress.dashboard(db, student)}
    assert (entries["Python"].percent, entries["Python"].resume_lesson_id) == (25, ids[1])
    assert (entries["Other"].percent, entries["Other"].done, entries["Other"].total) == (0, 0, 3)
    assert progress.dashboard(db, make_user(db)) == []


def test_the_outline_brings_the_viewers_own_enrollment_and_progress(db, student, instructor, course):
    ids = lesson_ids(db, course)
    other = make_user(db)
    for learner, lesson_id in ((student, ids[0]), (other, ids[1])):
        enrollment.enroll_free(db, learner, course.id)
        progress.set_lesson_completion(db, learner, lesson_id, True)
    db.commit()
    mine = course_outline(db, course.slug, student)
    assert mine.enrollment.status is EnrollmentStatus.ACTIVE
    assert mine.completed == frozenset({ids[0]})
    assert progress.outline_progress(mine) == progress.CourseProgress(tuple(ids), frozenset({ids[0]}))
    for viewer in (instructor, None):
        outline = course_outline(db, course.slug, viewer)
        assert (outline.enrollment, outline.completed) == (None, frozenset())


def test_a_rolled_back_action_leaves_nothing_behind(db, student, course):
    """Savepoints must not commit on their own (Python's sqlite3 does, unless told otherwise)."""
    enrollment.enroll_free(db, student, course.id)
    progress.set_lesson_completion(db, student, lesson_ids(db, course)[0], True)
    db.rollback()
    assert enrollments(db, course) == 0
    assert db.exec(select(func.count()).select_from(LessonProgress)).one() == 0
