"""Which writes change which cached reads: the one place that keeps the cache truthful.

Cached reads (services/catalog.py, services/learner_records.py) live in four kinds of scope:

- ``learner:<user id>``: a learner's enrollments and completed lessons;
- ``course:<course id>`` and ``slug:<slug>``: a course's outline, as the dashboard (by id) and the
  course and lesson pages (by slug) read it;
- ``catalog``: every catalog page and the home page's featured courses (a learner count, a price, a
  lesson count or a rating can move a course on any page).

Rather than each service remembering what to invalidate, a flush hook looks at every row the session
is about to write and marks the scopes it changes; they are invalidated when the transaction commits
(infra/cache.py). Bulk statements (``delete(...)``, ``update(...)``) bypass the ORM and so this hook:
the services that issue them on cached tables call ``changed`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import col, select

from academy_app.infra.cache import cache
from academy_app.models import (
    Category,
    Course,
    CoursePrerequisite,
    CourseReview,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    ReleaseRule,
    User,
)

CATALOG = "catalog"


def learner_scope(user_id: int) -> str:
    return f"learner:{user_id}"


def course_scope(course_id: int) -> str:
    return f"course:{course_id}"


def slug_scope(slug: str) -> str:
    return f"slug:{slug}"


def changed(session: OrmSession, scopes: Iterable[str]) -> None:
    """Mark scopes changed by this transaction (for writes the flush hook cannot see)."""
    cache().invalidate_after_commit(session, scopes)


@sa.event.listens_for(OrmSession, "before_flush")
def _mark_changed_scopes(session: OrmSession, _context: object, _instances: object) -> None:
    if not cache().enabled:
        return
    modified = [obj for obj in session.dirty if session.is_modified(obj)]
    touched = [*session.new, *modified, *session.deleted]
    if not touched:
        return
    scopes: set[str] = set()
    course_ids: set[int] = set()
    module_ids: set[int] = set()
    deleted_lessons: list[int] = []
    renamed_instructors: list[int] = []
    changed_categories: list[int] = []
    closing_lessons: list[int] = []
    for obj in touched:
        if isinstance(obj, Course):
            scopes |= {CATALOG, slug_scope(obj.slug), *map(slug_scope, _old(obj, "slug"))}
            if obj.id is not None:
                course_ids.add(obj.id)
        elif isinstance(obj, Module):
            course_ids.update(c for c in (obj.course_id, *_old(obj, "course_id")) if c is not None)
        elif isinstance(obj, Lesson):
            module_ids.update(m for m in (obj.module_id, *_old(obj, "module_id")) if m is not None)
            if obj in session.deleted and obj.id is not None:
                deleted_lessons.append(obj.id)
        elif isinstance(obj, Enrollment):
            scopes.add(learner_scope(obj.user_id))
            # A learner count moves only when an enrollment comes, goes or changes status; its
            # updated_at changes with every completed lesson and must not empty the catalog.
            if obj in session.new or obj in session.deleted or _old(obj, "status"):
                scopes.add(CATALOG)
        elif isinstance(obj, CourseReview):
            # Cards show each course's average rating and count: a review's text and the staff's
            # reply change neither.
            if obj in session.new or obj in session.deleted or _old(obj, "rating"):
                scopes.add(CATALOG)
        elif isinstance(obj, LessonProgress):
            scopes.add(learner_scope(obj.user_id))
        elif isinstance(obj, User):
            if obj in session.deleted:
                # Their enrollments and reviews go by cascade: learner counts and ratings move.
                scopes |= {learner_scope(obj.id), CATALOG}
            elif obj.id is not None and _old(obj, "full_name"):
                renamed_instructors.append(obj.id)
        elif isinstance(obj, ReleaseRule | CoursePrerequisite):
            course_ids.add(obj.course_id)  # the outline says whether the course is gated
        elif isinstance(obj, Quiz) and (obj in session.new or obj in session.deleted
                                        or _old(obj, "closes_at_local")):
            closing_lessons.append(obj.lesson_id)  # the outline says whether a quiz closes
        elif isinstance(obj, Category) and obj.id is not None:
            changed_categories.append(obj.id)
    connection = session.connection()
    if closing_lessons:
        module_ids.update(connection.execute(
            select(Lesson.module_id).where(col(Lesson.id).in_(closing_lessons))).scalars())
    if module_ids:
        course_ids.update(connection.execute(
            select(Module.course_id).where(col(Module.id).in_(module_ids))).scalars())
    if deleted_lessons:
        # The database deletes their progress rows by cascade, out of the ORM's sight.
        scopes.update(learner_scope(user_id) for user_id in connection.execute(
            select(LessonProgress.user_id).where(col(LessonProgress.lesson_id).in_(deleted_lessons))
            .distinct()).scalars())
    owners = [col(Course.instructor_id).in_(renamed_instructors)] if renamed_instructors else []
    if changed_categories:
        owners.append(col(Course.category_id).in_(changed_categories))
    if course_ids:
        owners.append(col(Course.id).in_(course_ids))
    if owners:
        scopes.add(CATALOG)
        for course_id, slug in connection.execute(
                select(Course.id, Course.slug).where(sa.or_(*owners))):
            scopes |= {course_scope(course_id), slug_scope(slug)}
        scopes.update(course_scope(course_id) for course_id in course_ids)
    changed(session, scopes)


def _old(obj: object, attribute: str) -> list:
    """The values `attribute` had before this flush's change (empty when it did not change)."""
    return list(sa.inspect(obj).attrs[attribute].history.deleted or ())
