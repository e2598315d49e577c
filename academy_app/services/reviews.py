"""Course ratings and reviews: who may write one, one per learner and course, and the staff's reply.

A learner may rate and review a course once they are enrolled in it and have completed
``review_min_percent`` of its lessons (settings.py, ``ACADEMY_REVIEW_MIN_PERCENT``): enough of it to
judge, early enough that a learner who gives up can still say why. The course's own staff may not
review it. Saving again edits the learner's one review (a unique key on course and learner), so a
double click or a second tab never makes two. The course's instructor (or an admin) may answer each
review once; answering again rewrites the answer.

Averages and counts on the catalog's cards come with the cards (services/catalog.py) and are cached
in the catalog scope: a new review, or a changed rating, empties it (services/cache_scopes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from academy_app.db import insert_or_get
from academy_app.models import (
    Course,
    CourseReview,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    User,
    utcnow,
)
from academy_app.services import profile
from academy_app.services.accounts import require_user
from academy_app.services.catalog import is_course_staff
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import Invalid, NotFound, PermissionDenied
from academy_app.services.notifications import notify
from academy_app.services.permissions import require_course_staff
from academy_app.settings import get_settings
from academy_app.text import as_id

MIN_STARS, MAX_STARS = 1, 5
MIN_BODY = 10  # characters: "Great!" says less than the stars already do
MAX_BODY = 2_000
MAX_REPLY = 2_000
REVIEWS_SHOWN = 50  # newest first; the average and count cover them all


@dataclass(frozen=True)
class RatingSummary:
    average: float | None  # None: no review yet
    count: int

    @property
    def rounded(self) -> str:
        """"4.5": one decimal, as cards and the course page show it ("" with no review)."""
        return f"{self.average:.1f}" if self.average is not None else ""


@dataclass(frozen=True)
class ReviewView:
    """A review as the course page shows it: names, never ids of people."""

    id: int
    author: str
    rating: int
    body: str
    created_at: datetime
    edited: bool
    reply: str
    reply_author: str
    mine: bool
    avatar: str  # the author's picture's address ("" for none)
    initials: str  # what stands in for the picture


@dataclass(frozen=True)
class CourseReviews:
    """A course's reviews for one viewer, and what that viewer may do with them."""

    course_id: int
    summary: RatingSummary
    reviews: list[ReviewView]  # the viewer's own first, then the newest first
    own: ReviewView | None  # the viewer's review, if they wrote one
    can_review: bool
    hint: str  # why the viewer cannot review (yet), in plain words; "" when they can
    can_reply: bool  # the viewer is the course's staff


def min_percent() -> int:
    return get_settings().review_min_percent


def course_reviews(session: Session, viewer: User | None, slug: str) -> CourseReviews:
    """The reviews of the published course at `slug` (a draft's only for its staff)."""
    course = _visible_course(session, viewer, slug)
    can_review, hint = _eligibility(session, viewer, course)
    reply_author = aliased(User)
    rows = session.exec(
        select(CourseReview, User.full_name, User.avatar, reply_author.full_name)
        .join(User, col(User.id) == CourseReview.user_id)
        .outerjoin(reply_author, col(reply_author.id) == CourseReview.reply_author_id)
        .where(CourseReview.course_id == course.id)
        .order_by(col(CourseReview.created_at).desc(), col(CourseReview.id).desc())
        .limit(REVIEWS_SHOWN)).all()
    viewer_id = viewer.id if viewer is not None else None
    views = [ReviewView(id=review.id, author=author, rating=review.rating, body=review.body,
                        created_at=review.created_at, edited=review.edited_at is not None,
                        reply=review.reply, reply_author=replier or "",
                        mine=review.user_id == viewer_id,
                        avatar=profile.avatar_url(avatar), initials=profile.initials(author))
             for review, author, avatar, replier in rows]
    own = next((view for view in views if view.mine), None)
    if own is None and viewer_id is not None:  # older than the newest shown: read it apart
        own = next((view for view in _own_view(session, viewer, course.id)), None)
    if own is not None:  # the viewer's own review first, where they look for it
        views = [own, *(view for view in views if not view.mine)]
    return CourseReviews(course_id=course.id, summary=summaries(session, [course.id])[course.id],
                         reviews=views, own=own, can_review=can_review, hint=hint,
                         can_reply=is_course_staff(viewer, course))


def summaries(session: Session, course_ids: list[int]) -> dict[int, RatingSummary]:
    """Average and count of each course's ratings, in one statement."""
    found = {course_id: RatingSummary(float(average), int(count)) for course_id, average, count in
             session.exec(select(CourseReview.course_id, func.avg(CourseReview.rating), func.count())
                          .where(col(CourseReview.course_id).in_(course_ids))
                          .group_by(col(CourseReview.course_id)))}
    return {course_id: found.get(course_id, RatingSummary(None, 0)) for course_id in course_ids}


def save_review(session: Session, actor: User | None, course_id: object, rating: object,
                body: object) -> CourseReview:
    """Write the learner's review of the course, or edit the one they wrote: one per learner."""
    user = require_user(actor)
    course = session.get(Course, as_id(course_id))
    if course is None or not (course.is_published or is_course_staff(user, course)):
        raise NotFound("course", course_id)
    allowed, hint = _eligibility(session, user, course)
    if not allowed:
        raise PermissionDenied(hint)
    stars, text = _valid_review(rating, body)
    existing = _review_of(session, course.id, user.id)
    if existing is None:
        existing, created = insert_or_get(
            session, CourseReview(course_id=course.id, user_id=user.id, rating=stars, body=text),
            lambda: _review_of(session, course.id, user.id))
        if created:
            return existing
    if (existing.rating, existing.body) != (stars, text):  # a repeated save changes nothing
        existing.rating, existing.body, existing.edited_at = stars, text, utcnow()
        session.add(existing)
        session.flush()
    return existing


def save_reply(session: Session, actor: User | None, review_id: object, body: object) -> CourseReview:
    """The course staff's answer to a review: written once, rewritten by later saves."""
    user = require_user(actor)
    review = session.exec(select(CourseReview).where(CourseReview.id == as_id(review_id))
                          .with_for_update()).one_or_none()
    if review is None:
        raise NotFound("review", review_id)
    course = session.get_one(Course, review.course_id)
    require_course_staff(user, course)
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise Invalid({"reply": "Write a reply first"})
    if len(text) > MAX_REPLY:
        raise Invalid({"reply": f"Keep the reply under {MAX_REPLY:,} characters"})
    first = not review.reply
    if review.reply != text:
        review.reply, review.reply_author_id, review.replied_at = text, user.id, utcnow()
        session.add(review)
        session.flush()
        if first:
            notify(session, review.user_id, "review.reply", f"{user.full_name} replied to your "
                   f"review of {course.title}", text[:200], f"/courses/{course.slug}#reviews")
    return review


def _visible_course(session: Session, viewer: User | None, slug: str) -> Course:
    slug = (slug or "")[:120].replace("\x00", "") if isinstance(slug, str) else ""
    course = session.exec(select(Course).where(Course.slug == slug)).one_or_none()
    if course is None or not (course.is_published or is_course_staff(viewer, course)):
        raise NotFound("course", slug)
    return course


def _eligibility(session: Session, user: User | None, course: Course) -> tuple[bool, str]:
    """(whether `user` may review `course`, and if not what they are told)."""
    if user is None:
        return False, "Log in and take the course to review it"
    if is_course_staff(user, course):
        return False, "Staff of a course cannot review it"
    status = session.exec(select(Enrollment.status).where(
        Enrollment.user_id == user.id, Enrollment.course_id == course.id)).one_or_none()
    if status not in LEARNING_STATUSES:
        return False, "Enroll in this course to review it"
    needed = min_percent()
    if needed and _percent_done(session, user.id, course.id) < needed:
        return False, f"You can rate this course once you have completed {needed}% of it"
    return True, ""


def _percent_done(session: Session, user_id: int, course_id: int) -> int:
    """The share of the course's lessons the learner completed, as the progress bar shows it."""
    total, done = session.exec(
        select(func.count(Lesson.id), func.count(LessonProgress.id))
        .join(Module, col(Module.id) == Lesson.module_id)
        .outerjoin(LessonProgress, sa.and_(col(LessonProgress.lesson_id) == Lesson.id,
                                           col(LessonProgress.user_id) == user_id))
        .where(Module.course_id == course_id)).one()
    return (100 * done) // total if total else 0


def _valid_review(rating: object, body: object) -> tuple[int, str]:
    errors: dict[str, str] = {}
    # bool is an int to Python, never a rating to a person.
    if isinstance(rating, bool) or not isinstance(rating, int) \
            or not MIN_STARS <= rating <= MAX_STARS:
        errors["rating"] = f"Choose a rating from {MIN_STARS} to {MAX_STARS} stars"
    text = body.strip() if isinstance(body, str) else ""
    if len(text) < MIN_BODY:
        errors["body"] = f"Write at least {MIN_BODY} characters about the course"
    elif len(text) > MAX_BODY:
        errors["body"] = f"Keep the review under {MAX_BODY:,} characters"
    if errors:
        raise Invalid(errors)
    return int(rating), text  # type: ignore[arg-type]


def _review_of(session: Session, course_id: int, user_id: int) -> CourseReview | None:
    return session.exec(select(CourseReview).where(CourseReview.course_id == course_id,
                                                   CourseReview.user_id == user_id)).one_or_none()


def _own_view(session: Session, viewer: User, course_id: int) -> list[ReviewView]:
    review = _review_of(session, course_id, viewer.id)
    if review is None:
        return []
    replier = session.get(User, review.reply_author_id) if review.reply_author_id else None
    return [ReviewView(id=review.id, author=viewer.full_name, rating=review.rating,
                       body=review.body, created_at=review.created_at,
                       edited=review.edited_at is not None, reply=review.reply,
                       reply_author=replier.full_name if replier else "", mine=True,
                       avatar=profile.avatar_url(viewer.avatar),
                       initials=profile.initials(viewer.full_name))]
