"""Course authoring for instructors and admins: courses, modules, lessons, publishing.

Every function checks that the actor is staff for the course it touches and writes an audit entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from academy_app.models import (
    Category,
    Course,
    CourseLevel,
    Enrollment,
    Lesson,
    LessonKind,
    Module,
    Payment,
    PaymentStatus,
    User,
    utcnow,
)
from academy_app.services import audit, captions
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.services.permissions import require_course_staff, require_staff

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HTTPS_ADDRESS = re.compile(r"^https://[^\s\"'<>]{1,490}$")
MAX_PRICE_CENTS = 100_000_00
CURRENCIES = ("USD", "EUR", "GBP")
COURSE_FIELDS = ("title", "slug", "subtitle", "description", "category_id", "level", "price_cents",
                 "currency", "cover_image_url", "cover_alt", "is_published")
LESSON_FIELDS = ("title", "kind", "body", "video_url", "poster_url", "duration_minutes", "module_id",
                 "position")
Direction = Literal[-1, 1]


@dataclass(frozen=True)
class CourseForm:
    title: str
    slug: str = ""
    subtitle: str = ""
    description: str = ""
    category: str = ""  # category slug, or empty
    level: str = "beginner"
    price: str = "0"  # as typed: "49", "49.90"
    currency: str = "USD"
    cover_image_url: str = ""
    cover_alt: str = ""  # what the uploaded cover shows, for people who cannot see it


@dataclass(frozen=True)
class LessonForm:
    title: str
    kind: str = "text"
    body: str = ""
    video_url: str = ""
    duration_minutes: str = "5"
    poster_url: str = ""
    captions: str = ""  # WebVTT text, for video lessons


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()[:120]


def parse_price(raw: str) -> int:
    """Cents from what a person types ("49", "49.9", "1,200.00"). Raises Invalid(price=…)."""
    text = str(raw or "0").strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid({"price": "Enter a price like 49 or 49.90 (0 for a free course)"}) from None
    # Finite first: arithmetic on a signalling NaN ("sNaN") raises instead of comparing false.
    cents = amount * 100 if amount.is_finite() else None
    if cents is None or cents != cents.to_integral_value() or not 0 <= cents <= MAX_PRICE_CENTS:
        raise Invalid({"price": "Enter a price between 0 and 100000, with at most 2 decimals"})
    return int(cents)


# Counts for the workspace's list of courses (admin/courses.py): one query for a page of courses.

def lesson_counts(session: Session, courses: Sequence[Course]) -> dict[int, int]:
    return _counts(session, select(Module.course_id, func.count(Lesson.id))
                   .join(Lesson, col(Lesson.module_id) == Module.id)
                   .where(col(Module.course_id).in_([c.id for c in courses]))
                   .group_by(col(Module.course_id)))


def learner_counts(session: Session, courses: Sequence[Course]) -> dict[int, int]:
    return _counts(session, select(Enrollment.course_id, func.count())
                   .where(col(Enrollment.course_id).in_([c.id for c in courses]))
                   .group_by(col(Enrollment.course_id)))


def pending_payment_counts(session: Session, courses: Sequence[Course]) -> dict[int, int]:
    return _counts(session, select(Payment.course_id, func.count())
                   .where(col(Payment.course_id).in_([c.id for c in courses]),
                          Payment.status == PaymentStatus.PENDING)
                   .group_by(col(Payment.course_id)))


def course_for_editing(session: Session, actor: User | None, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        require_staff(actor)
        raise NotFound("course", course_id)
    require_course_staff(actor, course)
    return course


def create_course(session: Session, actor: User | None, form: CourseForm) -> Course:
    staff = require_staff(actor)
    course = Course(instructor_id=staff.id, title="")
    _apply_course_form(session, course, form)
    session.add(course)
    session.flush()
    audit.record(session, staff, "course.create", course, after=audit.snapshot(course, *COURSE_FIELDS))
    return course


def update_course(session: Session, actor: User | None, course_id: int, form: CourseForm) -> Course:
    course = course_for_editing(session, actor, course_id)
    before = audit.snapshot(course, *COURSE_FIELDS)
    _apply_course_form(session, course, form)
    course.updated_at = utcnow()
    session.add(course)
    audit.record(session, actor, "course.update", course, before,
                 audit.snapshot(course, *COURSE_FIELDS))
    return course


def set_published(session: Session, actor: User | None, course_id: int, published: bool) -> Course:
    """Publish (refused while the course has no lesson) or unpublish a course."""
    course = course_for_editing(session, actor, course_id)
    if published and not lesson_count(session, course.id):
        raise Conflict("Add at least one lesson before publishing this course")
    if course.is_published != published:
        course.is_published = published
        course.updated_at = utcnow()
        session.add(course)
        audit.record(session, actor, "course.publish" if published else "course.unpublish", course,
                     {"is_published": not published}, {"is_published": published})
    return course


def add_module(session: Session, actor: User | None, course_id: int, title: str) -> Module:
    course = course_for_editing(session, actor, course_id)
    module = Module(course_id=course.id, title=_title(title),
                    position=next_position(session, Module.position, Module.course_id, course.id))
    session.add(module)
    session.flush()
    audit.record(session, actor, "module.create", module, after={"title": module.title})
    return module


def rename_module(session: Session, actor: User | None, module_id: int, title: str) -> Module:
    module, _ = module_for_editing(session, actor, module_id)
    before = {"title": module.title}
    module.title = _title(title)
    session.add(module)
    audit.record(session, actor, "module.update", module, before, {"title": module.title})
    return module


def delete_module(session: Session, actor: User | None, module_id: int) -> None:
    module, course = module_for_editing(session, actor, module_id)
    audit.record(session, actor, "module.delete", module, {"title": module.title}, {})
    for lesson in session.exec(select(Lesson).where(Lesson.module_id == module.id)):
        session.delete(lesson)
    session.delete(module)
    session.flush()
    _unpublish_if_empty(session, actor, course)


def move_module(session: Session, actor: User | None, module_id: int, direction: Direction) -> None:
    module, course = module_for_editing(session, actor, module_id)
    siblings = list(session.exec(select(Module).where(Module.course_id == course.id)
                                 .order_by(col(Module.position), col(Module.id))))
    _swap(session, siblings, module, direction)


def add_lesson(session: Session, actor: User | None, module_id: int, form: LessonForm) -> Lesson:
    module, _ = module_for_editing(session, actor, module_id)
    lesson = Lesson(module_id=module.id, title="",
                    position=next_position(session, Lesson.position, Lesson.module_id, module.id))
    _apply_lesson_form(lesson, form)
    session.add(lesson)
    session.flush()
    audit.record(session, actor, "lesson.create", lesson, after=audit.snapshot(lesson, *LESSON_FIELDS))
    return lesson


def update_lesson(session: Session, actor: User | None, lesson_id: int, form: LessonForm) -> Lesson:
    lesson, _ = lesson_for_editing(session, actor, lesson_id)
    before = audit.snapshot(lesson, *LESSON_FIELDS)
    _apply_lesson_form(lesson, form)
    session.add(lesson)
    audit.record(session, actor, "lesson.update", lesson, before,
                 audit.snapshot(lesson, *LESSON_FIELDS))
    return lesson


def delete_lesson(session: Session, actor: User | None, lesson_id: int) -> None:
    lesson, course = lesson_for_editing(session, actor, lesson_id)
    audit.record(session, actor, "lesson.delete", lesson, audit.snapshot(lesson, *LESSON_FIELDS), {})
    session.delete(lesson)
    session.flush()
    _unpublish_if_empty(session, actor, course)


def move_lesson(session: Session, actor: User | None, lesson_id: int, direction: Direction) -> None:
    lesson, _ = lesson_for_editing(session, actor, lesson_id)
    siblings = list(session.exec(select(Lesson).where(Lesson.module_id == lesson.module_id)
                                 .order_by(col(Lesson.position), col(Lesson.id))))
    _swap(session, siblings, lesson, direction)


def _apply_course_form(session: Session, course: Course, form: CourseForm) -> None:
    errors: dict[str, str] = {}
    title = " ".join(str(form.title or "").split())
    if not 3 <= len(title) <= 160:
        errors["title"] = "Give the course a title of 3 to 160 characters"
    slug = (str(form.slug or "").strip().lower() or slugify(title))[:120]
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = "Use lower-case letters, digits and single hyphens, like intro-to-sql"
    elif session.exec(select(Course.id).where(Course.slug == slug, Course.id != course.id)).first():
        errors["slug"] = "Another course already uses this address"
    category_id = None
    if form.category:
        category_id = session.exec(select(Category.id).where(Category.slug == form.category)).first()
        if category_id is None:
            errors["category"] = "Choose a category from the list"
    if form.level not in CourseLevel._value2member_map_:
        errors["level"] = "Choose a level from the list"
    if form.currency not in CURRENCIES:
        errors["currency"] = "Choose a currency from the list"
    try:
        price_cents = parse_price(form.price)
    except Invalid as exc:
        errors.update(exc.errors)
        price_cents = 0
    cover = str(form.cover_image_url or "").strip()
    if cover and not re.match(r"^(https://|/)[^\s\"'<>(){};\\]{1,490}$", cover):
        errors["cover_image_url"] = "Use an https:// address or a path on this site"
    cover_alt = " ".join(str(form.cover_alt or "").split())
    if len(cover_alt) > 200:
        errors["cover_alt"] = "Keep the description of the cover under 200 characters"
    if len(form.subtitle or "") > 255:
        errors["subtitle"] = "Keep the subtitle under 255 characters"
    if len(form.description or "") > 50_000:
        errors["description"] = "Keep the description under 50,000 characters"
    if errors:
        raise Invalid(errors)
    course.title, course.slug, course.subtitle = title, slug, " ".join(form.subtitle.split())
    course.description, course.category_id = form.description, category_id
    course.level, course.price_cents, course.currency = CourseLevel(form.level), price_cents, \
        form.currency
    course.cover_image_url, course.cover_alt = cover, cover_alt


def _apply_lesson_form(lesson: Lesson, form: LessonForm) -> None:
    errors: dict[str, str] = {}
    title = " ".join(str(form.title or "").split())
    if not 1 <= len(title) <= 160:
        errors["title"] = "Give the lesson a title of up to 160 characters"
    if form.kind not in LessonKind._value2member_map_:
        errors["kind"] = "Choose text or video"
    elif (LessonKind(form.kind) is LessonKind.QUIZ or lesson.kind is LessonKind.QUIZ) \
            and form.kind != lesson.kind:  # a quiz lesson is made and unmade with its quiz
        errors["kind"] = "Create a quiz with the quiz editor; a quiz stays a quiz"
    is_video = form.kind == LessonKind.VIDEO
    video_url = str(form.video_url or "").strip()
    if is_video and not _HTTPS_ADDRESS.match(video_url):
        errors["video_url"] = "A video lesson needs an https:// video address"
    poster_url = str(form.poster_url or "").strip()
    if is_video and poster_url and not _HTTPS_ADDRESS.match(poster_url):
        errors["poster_url"] = "Give the poster image as an https:// address, or leave it empty"
    captions_text = str(form.captions or "")
    if is_video and captions_text.strip():
        try:
            captions.read_webvtt(captions_text)
        except Invalid as exc:
            errors.update(exc.errors)
    try:
        minutes = int(str(form.duration_minutes).strip())
        if not 0 <= minutes <= 600:
            raise ValueError
    except ValueError:
        errors["duration_minutes"] = "Enter the duration in whole minutes (0 to 600)"
        minutes = 0
    if len(form.body or "") > 100_000:
        errors["body"] = "Keep the lesson under 100,000 characters"
    if errors:
        raise Invalid(errors)
    lesson.title, lesson.kind, lesson.body = title, LessonKind(form.kind), form.body
    lesson.video_url = video_url if is_video else ""
    lesson.poster_url = poster_url if is_video else ""
    lesson.captions_vtt = captions_text.strip() if is_video and captions_text.strip() else ""
    lesson.duration_minutes = minutes


def _title(raw: str) -> str:
    title = " ".join(str(raw or "").split())
    if not 1 <= len(title) <= 160:
        raise Invalid({"title": "Give it a title of up to 160 characters"})
    return title


def module_for_editing(session: Session, actor: User | None, module_id: int) -> tuple[Module, Course]:
    row = session.exec(select(Module, Course).join(Course, col(Course.id) == Module.course_id)
                       .where(Module.id == module_id)).first()
    if row is None:
        require_staff(actor)
        raise NotFound("module", module_id)
    require_course_staff(actor, row[1])
    return row


def lesson_for_editing(session: Session, actor: User | None, lesson_id: int) -> tuple[Lesson, Course]:
    row = session.exec(select(Lesson, Course).join(Module, col(Module.id) == Lesson.module_id)
                       .join(Course, col(Course.id) == Module.course_id)
                       .where(Lesson.id == lesson_id)).first()
    if row is None:
        require_staff(actor)
        raise NotFound("lesson", lesson_id)
    require_course_staff(actor, row[1])
    return row


def next_position(session: Session, position: sa.ColumnElement[int],
                   parent: sa.ColumnElement[int], parent_id: int) -> int:
    highest = session.exec(select(func.max(position)).where(parent == parent_id)).one()
    return 0 if highest is None else highest + 1


def _swap(session: Session, siblings: list[Module] | list[Lesson], item: Module | Lesson,
          direction: Direction) -> None:
    """Move one row up or down among its siblings; positions are renumbered 0..n-1 on the way."""
    if direction not in (-1, 1):
        raise Invalid({"direction": "Move up or down"})
    index = next(i for i, sibling in enumerate(siblings) if sibling.id == item.id)
    target = index + direction
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
        session.add(sibling)


def lesson_count(session: Session, course_id: int) -> int:
    return session.exec(select(func.count(Lesson.id)).join(Module, col(Module.id) == Lesson.module_id)
                        .where(Module.course_id == course_id)).one()


def _unpublish_if_empty(session: Session, actor: User | None, course: Course) -> None:
    """A published course never stays public with nothing to learn."""
    if course.is_published and not lesson_count(session, course.id):
        set_published(session, actor, course.id, False)


def _counts(session: Session, statement: sa.Select[tuple[int, int]]) -> dict[int, int]:
    return {key: count for key, count in session.exec(statement)}
