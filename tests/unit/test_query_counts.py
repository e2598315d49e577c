"""Query discipline: what one page load costs in SQL statements, and that it does not grow with data.

Each count test runs the services a page's on_load calls through the ``sql_statements`` fixture
(tests/conftest.py): in a fresh session, as a page event has, counting every statement sent to the
database except transaction bookkeeping (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE and SQLite's
PRAGMAs), once with a little data and once with a lot, on SQLite and on PostgreSQL. The budgets are
the issue's; docs/operations.md ("Query discipline") says what each page costs today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from academy_app.infra.identities import identities
from academy_app.models import Course, Role, User
from academy_app.services import (
    accounts,
    catalog,
    certificate_rule,
    enrollment,
    lessons,
    notifications,
    progress,
)
from tests.factories import make_category, make_course, make_user

if TYPE_CHECKING:
    from tests.conftest import Statement, StatementRecorder


def start_session(db: Session, user: User) -> str:
    token = accounts.start_session(db, user)
    db.commit()
    return token


def enroll_with_progress(db: Session, learner: User, course: Course) -> None:
    """Enroll and complete the course's first lesson, so there are progress rows to read."""
    enrollment.enroll_free(db, learner, course.id)
    first = catalog.course_outline(db, course.slug, learner).lessons[0].id
    progress.set_lesson_completion(db, learner, first, True)
    db.commit()


def test_dashboard_stays_within_five_statements_for_1_or_50_courses(
        db: Session, sql_statements: StatementRecorder, instructor: User, student: User) -> None:
    """Counted: the token's user (``accounts.user_for_token``, which ``AuthState._actor`` runs) and
    ``progress.dashboard``: DashboardState.load. Not counted: the bell's refresh, which every page
    load runs as well (next test)."""
    token = start_session(db, student)
    courses = [make_course(db, instructor, lessons_per_module=(2, 3))]

    def load(session: Session) -> None:
        learner = accounts.user_for_token(session, token)
        assert len(progress.dashboard(session, learner)) == len(courses)

    enroll_with_progress(db, student, courses[0])
    one = sql_statements(load)
    courses += [make_course(db, instructor, lessons_per_module=(2, 3)) for _ in range(49)]
    for course in courses[1:]:
        enroll_with_progress(db, student, course)
    fifty = sql_statements(load)
    assert len(one) == len(fifty) <= 5, (one, fifty)


def test_a_certificate_rule_without_quizzes_reads_no_attempts(
        db: Session, sql_statements: StatementRecorder, instructor: User, student: User) -> None:
    """Counted: ``certificate_rule.for_learner``, which the course page of every enrolled learner
    runs: the enrollment, the course, its lessons with the learner's marks and its quizzes. A
    course without quizzes (most) has no attempts or points to read."""
    course = make_course(db, instructor, lessons_per_module=(2, 3))
    enroll_with_progress(db, student, course)
    learner_id = student.id

    def rule(session: Session) -> None:
        learner = session.get_one(User, learner_id)
        assert certificate_rule.for_learner(session, learner, course.id).lessons_missing

    statements = sql_statements(rule)
    assert not any("quiz_attempts" in s.sql or "quiz_questions" in s.sql for s in statements), \
        statements
    assert len(statements) <= 5, statements


def test_the_bell_stays_within_three_statements_for_1_or_60_notifications(
        db: Session, sql_statements: StatementRecorder, student: User) -> None:
    """Counted: the token's user, ``notifications.unread_count`` and ``notifications.recent_ids``:
    NotificationState.refresh, which runs on every page load."""
    token = start_session(db, student)

    def refresh(session: Session) -> None:
        learner = accounts.user_for_token(session, token)
        notifications.unread_count(session, learner)
        notifications.recent_ids(session, learner)

    notifications.notify(db, student.id, "test", "First")
    db.commit()
    one = sql_statements(refresh)
    notifications.notify_many(db, [student.id] * 59, "test", "More")
    db.commit()
    sixty = sql_statements(refresh)
    assert len(one) == len(sixty) <= 3, (one, sixty)


def test_catalog_stays_within_four_statements_for_1_or_30_courses(
        db: Session, sql_statements: StatementRecorder, instructor: User, student: User) -> None:
    """Counted: the token's user, ``catalog.list_categories``, ``catalog.search_courses`` and
    ``catalog.filter_counts`` with the page's default query: CatalogState.load for a logged-in
    visitor."""
    token = start_session(db, student)
    data = make_category(db, "Data")
    courses = [make_course(db, instructor, category=data)]

    def load(session: Session) -> None:
        accounts.user_for_token(session, token)
        catalog.list_categories(session)
        page = catalog.search_courses(session, catalog.CatalogQuery.parse())
        assert page.total == len(courses)
        assert catalog.filter_counts(session, catalog.CatalogQuery.parse()).all_categories == \
            len(courses)

    enroll_with_progress(db, student, courses[0])
    one = sql_statements(load)
    courses += [make_course(db, instructor, category=data if i % 2 else None) for i in range(29)]
    for course in courses[1:10]:
        enroll_with_progress(db, student, course)
    thirty = sql_statements(load)
    assert len(one) == len(thirty) <= 4, (one, thirty)


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR])
def test_lesson_page_stays_within_four_statements_for_1_or_30_lessons(
        db: Session, sql_statements: StatementRecorder, instructor: User, role: Role) -> None:
    """Counted: the token's user and ``lessons.open_lesson`` (outline, access, progress, lesson):
    LearnState.load, for an enrolled learner and for the course's instructor previewing it."""
    reader = instructor if role is Role.INSTRUCTOR else make_user(db)
    token = start_session(db, reader)
    small = make_course(db, instructor, lessons_per_module=(1,))
    large = make_course(db, instructor, lessons_per_module=(5,) * 6)
    if role is Role.STUDENT:
        enroll_with_progress(db, reader, small)
        enroll_with_progress(db, reader, large)

    def load(course: Course) -> list[Statement]:
        last = catalog.course_outline(db, course.slug, reader).lessons[-1].id
        db.commit()

        def open_last(session: Session) -> None:
            view = lessons.open_lesson(session, accounts.user_for_token(session, token),
                                       course.slug, last)
            assert (view.lesson.id, view.is_enrolled) == (last, role is Role.STUDENT)
            assert view.progress.done == (1 if role is Role.STUDENT else 0)

        return sql_statements(open_last)

    one, thirty = load(small), load(large)
    assert len(one) == len(thirty) <= 4, (one, thirty)


def test_mark_as_complete_stays_within_five_statements_for_1_or_30_lessons(
        db: Session, sql_statements: StatementRecorder, instructor: User, student: User) -> None:
    """Counted: the token's user and ``progress.set_lesson_completion`` (the enrollment locked
    through the lesson, the progress row, the learner's rows in the course, the enrollment):
    LearnState.set_completed, the platform's busiest write, both ways, the outline cached. On
    PostgreSQL the last three are one statement; and once a worker remembers the login
    (infra/identities.py), the token's user is none: two in all."""
    token = start_session(db, student)
    small = make_course(db, instructor, lessons_per_module=(1, 2))  # never the last lesson left
    large = make_course(db, instructor, lessons_per_module=(5,) * 6)

    def toggle(course: Course) -> list[list[Statement]]:
        enroll_with_progress(db, student, course)
        last = catalog.course_outline(db, course.slug, student).lessons[-1].id
        db.commit()
        counts = []
        for completed in (True, True, False):  # the second "complete" changes nothing
            def mark(session: Session, completed: bool = completed) -> None:
                state = progress.set_lesson_completion(
                    session, accounts.user_for_token(session, token), last, completed)
                assert (last in state.completed) is completed
            counts.append(sql_statements(mark, warm=True))
        return counts

    on_postgresql = db.get_bind().dialect.name == "postgresql"
    for statements in (*toggle(small), *toggle(large)):
        assert len(statements) <= (3 if on_postgresql else 5), statements
    identities.heard(True)  # as a backend worker that hears the bus
    try:
        for statements in toggle(make_course(db, instructor, lessons_per_module=(3, 3)))[1:]:
            assert len(statements) <= (2 if on_postgresql else 4), statements
    finally:
        identities.heard(False)


def test_once_cached_a_page_load_asks_the_database_only_what_is_not_cached(
        db: Session, sql_statements: StatementRecorder, instructor: User, student: User) -> None:
    """Warm: the dashboard and the catalog need only the token's user (and the catalog its
    category list); a lesson page the user and the lesson's body."""
    token = start_session(db, student)
    course = make_course(db, instructor, lessons_per_module=(2, 3))
    enroll_with_progress(db, student, course)
    lesson_id = catalog.course_outline(db, course.slug, student).lessons[0].id
    db.commit()

    def dashboard(session: Session) -> None:
        assert progress.dashboard(session, accounts.user_for_token(session, token))

    def catalog_page(session: Session) -> None:
        accounts.user_for_token(session, token)
        catalog.list_categories(session)
        assert catalog.search_courses(session, catalog.CatalogQuery.parse()).total == 1

    def lesson_page(session: Session) -> None:
        lessons.open_lesson(session, accounts.user_for_token(session, token), course.slug,
                            lesson_id)

    for load, warm_statements in ((dashboard, 1), (catalog_page, 2), (lesson_page, 2)):
        cold = sql_statements(load)
        warm = sql_statements(load, warm=True)
        assert len(warm) == warm_statements < len(cold), (load.__name__, cold, warm)


@dataclass(frozen=True)
class Learner:
    token: str
    user_id: int
    course_slug: str
    lesson_id: int


@pytest.fixture
def learner(db: Session, instructor: User, student: User) -> Learner:
    """A learner with a login, courses, progress and a notification, among others' rows."""
    others = [make_user(db) for _ in range(3)]
    for index in range(4):
        course = make_course(db, instructor)
        for user in [student, *others][:index + 1]:
            enroll_with_progress(db, user, course)
    notifications.notify(db, student.id, "test", "Hello")
    token = start_session(db, student)
    lesson_id = catalog.course_outline(db, course.slug, student).lessons[0].id
    db.commit()
    return Learner(token=token, user_id=student.id, course_slug=course.slug, lesson_id=lesson_id)


def _user(session: Session, learner: Learner) -> User | None:
    return session.get(User, learner.user_id)


# What the page loads look up, and the table each lookup must reach through an index.
HOT_LOOKUPS: dict[str, tuple[str, Callable[[Session, Learner], object]]] = {
    "login session by token hash": (
        "login_sessions", lambda session, me: accounts.user_for_token(session, me.token)),
    "enrollments by user": (
        "enrollments", lambda session, me: progress.dashboard(session, _user(session, me))),
    "lesson progress by user and lesson, dashboard": (
        "lesson_progress", lambda session, me: progress.dashboard(session, _user(session, me))),
    "lesson progress by user and lesson, lesson page": (
        "lesson_progress", lambda session, me: lessons.open_lesson(
            session, _user(session, me), me.course_slug, me.lesson_id)),
    "unread notifications by user": (
        "notifications", lambda session, me: notifications.unread_count(session, _user(session, me))),
    "newest notification ids by user": (
        "notifications", lambda session, me: notifications.recent_ids(session, _user(session, me))),
    "a page of notifications by user, further back": (
        "notifications", lambda session, me: notifications.older(session, _user(session, me), 10**6)),
    "published courses by creation date": (
        "courses", lambda session, _me: catalog.search_courses(
            session, catalog.CatalogQuery.parse(sort=catalog.CatalogSort.NEWEST))),
}


def plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("lookup", HOT_LOOKUPS)
def test_hot_lookups_use_an_index_on_postgresql(
        engine: Engine, sql_statements: StatementRecorder, learner: Learner, lookup: str) -> None:
    """Every read of the table in the page load's statements goes through an index with a
    condition: no sequential scan, and no full scan of an index either.

    The tables here are tiny, and for tiny tables a sequential scan is the cheaper plan; so seq
    scans are priced out (``enable_seqscan = off``, for this transaction only): the planner then
    still reads a table in full only when no index can serve the lookup.
    """
    table, action = HOT_LOOKUPS[lookup]
    statements = sql_statements(lambda session: action(session, learner))
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        nodes = [node for statement in statements
                 for node in plan_nodes(connection.exec_driver_sql(
                     "EXPLAIN (FORMAT JSON) " + statement.sql, statement.parameters).scalar()[0]["Plan"])]
    reads = [node for node in nodes if node.get("Relation Name") == table]
    # A bitmap heap scan is fed by a bitmap index scan, which always has an index condition.
    assert reads and all(node["Node Type"] == "Bitmap Heap Scan" or "Index Cond" in node
                         for node in reads), nodes
