"""Catalog: what a visitor can browse. Only published courses, except for their own staff."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from academy_app.infra.cache import Entry, cache, key_of
from academy_app.models import (
    Category,
    Course,
    CourseLevel,
    CoursePrerequisite,
    CourseReview,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    Module,
    ReleaseRule,
    Role,
    User,
)
from academy_app.services.cache_scopes import CATALOG, course_scope, slug_scope
from academy_app.services.errors import NotFound
from academy_app.services.learner_records import (
    LearnerRecord,
    Membership,
    learner_entry,
    load_learner_record,
)

MAX_SEARCH_LENGTH = 100
MAX_PER_PAGE = 48
# Far past any real catalog (a page past the last shows the last), and its offset fits a bigint.
MAX_PAGE = 100_000


class PriceFilter(StrEnum):
    ALL = "all"
    FREE = "free"
    PAID = "paid"


class CatalogSort(StrEnum):
    POPULAR = "popular"
    NEWEST = "newest"
    TITLE = "title"
    PRICE_LOW = "price_low"
    PRICE_HIGH = "price_high"
    RATING = "rating"  # highest average rating first; unrated courses last


@dataclass(frozen=True)
class CatalogQuery:
    text: str = ""
    category: str = ""  # category slug; empty means all
    level: CourseLevel | None = None
    price: PriceFilter = PriceFilter.ALL
    sort: CatalogSort = CatalogSort.POPULAR
    page: int = 1
    per_page: int = 12

    @classmethod
    def parse(cls, *, text: str = "", category: str = "", level: str = "", price: str = "",
              sort: str = "", page: int | str = 1, per_page: int = 12) -> CatalogQuery:
        """Build a query from untrusted strings: unknown values fall back to defaults."""
        try:
            page_number = min(max(1, int(page)), MAX_PAGE)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
            page_number = 1
        return cls(
            # NUL is no character anyone searches for, and PostgreSQL refuses it in a query.
            text=" ".join(str(text or "").replace("\x00", "").split())[:MAX_SEARCH_LENGTH],
            category=str(category or "").replace("\x00", "")[:80],
            level=CourseLevel(level) if level in CourseLevel._value2member_map_ else None,
            price=PriceFilter(price) if price in PriceFilter._value2member_map_ else PriceFilter.ALL,
            sort=CatalogSort(sort) if sort in CatalogSort._value2member_map_ else CatalogSort.POPULAR,
            page=page_number,
            per_page=min(max(1, per_page), MAX_PER_PAGE),
        )


@dataclass(frozen=True)
class CourseCard:
    id: int
    slug: str
    title: str
    subtitle: str
    level: str
    category: str
    price_cents: int
    currency: str
    instructor: str
    cover_image_url: str
    lesson_count: int
    duration_minutes: int
    learners: int
    rating: float | None = None  # average stars, None before the first review
    reviews: int = 0
    cover_key: str = ""  # an uploaded cover (services/covers.py), shown before cover_image_url
    cover_alt: str = ""


@dataclass(frozen=True)
class CatalogPage:
    items: list[CourseCard]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class LessonRef:
    id: int
    title: str
    kind: str
    duration_minutes: int


@dataclass(frozen=True)
class ModuleOutline:
    id: int
    title: str
    lessons: list[LessonRef] = field(default_factory=list)


@dataclass(frozen=True)
class CourseOutline:
    course: Course
    category: str
    instructor: str
    modules: list[ModuleOutline]
    # The viewer's enrollment (any status) and the lessons they completed, from their learner
    # record: the course and lesson pages need no query of their own for them.
    enrollment: Membership | None = None
    completed: frozenset[int] = frozenset()
    # The course has release rules or prerequisites: its learners' access must be asked
    # (services/access.py). False, the common case, spares the lesson page and "mark as complete"
    # those queries: every enrolled learner opens every lesson.
    gated: bool = False

    @property
    def lessons(self) -> list[LessonRef]:
        return [lesson for module in self.modules for lesson in module.lessons]


@dataclass(frozen=True)
class ListedCourse:
    slug: str
    updated_at: datetime


def list_categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).order_by(Category.name)))


def search_courses(session: Session, query: CatalogQuery) -> CatalogPage:
    """One page of published courses matching the query, and how many match in all."""
    return cache().get(session, Entry(CATALOG, key_of("search", query)),
                       lambda: _search_courses(session, query))


def _matching_text(query: CatalogQuery) -> list[sa.ColumnElement[bool]]:
    """Published courses with the query's words in their title, subtitle or description."""
    filters = [col(Course.is_published).is_(True)]
    if query.text:
        pattern = "%" + escape_like(query.text) + "%"
        filters.append(
            sa.or_(*(col(column).ilike(pattern, escape="\\")
                     for column in (Course.title, Course.subtitle, Course.description)))
        )
    return filters


def _search_courses(session: Session, query: CatalogQuery) -> CatalogPage:
    """From the database: one statement whatever the page size (two more only for a page past
    the last)."""
    filters = _matching_text(query)
    if query.category:
        filters.append(col(Course.category_id).in_(
            select(Category.id).where(Category.slug == query.category)))
    if query.level:
        filters.append(Course.level == query.level)
    if query.price is PriceFilter.FREE:
        filters.append(Course.price_cents == 0)
    elif query.price is PriceFilter.PAID:
        filters.append(Course.price_cents > 0)

    items, total = _course_cards(session, filters, query.sort, limit=query.per_page,
                                 offset=(query.page - 1) * query.per_page)
    if not items and query.page > 1:
        # Past the last page (a stale link, or courses unpublished meanwhile): the page's statement
        # counted nothing, so count apart, and show the last page as before.
        total = session.exec(select(func.count()).select_from(Course).where(*filters)).one()
        last = max(1, math.ceil(total / query.per_page))
        items, _ = _course_cards(session, filters, query.sort, limit=query.per_page,
                                 offset=(last - 1) * query.per_page)
    pages = max(1, math.ceil(total / query.per_page))
    return CatalogPage(items=items, total=total, page=min(query.page, pages), pages=pages)


@dataclass(frozen=True)
class FilterCounts:
    """How many courses each value of a filter would show, the other filters and the text as
    they are (a filter's own value left aside): "Beginner (3)". Values with none are absent."""

    categories: dict[str, int]  # by category slug
    levels: dict[str, int]  # by CourseLevel value
    prices: dict[str, int]  # by PriceFilter value, "all" included
    uncategorised: int = 0  # courses in no category: counted in "All categories" only

    @property
    def all_categories(self) -> int:
        return sum(self.categories.values()) + self.uncategorised


def filter_counts(session: Session, query: CatalogQuery) -> FilterCounts:
    """The counts beside the catalog's filter values for `query` (its page and sort aside).
    Cached with the searches: every write that can move a count empties the catalog scope."""
    query = replace(query, page=1, sort=CatalogSort.POPULAR)
    return cache().get(session, Entry(CATALOG, key_of("counts", query)),
                       lambda: _filter_counts(session, query))


def _filter_counts(session: Session, query: CatalogQuery) -> FilterCounts:
    """One statement: the courses matching the text, counted by (category, level, free), a few
    dozen rows at most; each filter's counts are summed from them with the other filters on."""
    free = col(Course.price_cents) == 0
    groups = session.exec(
        select(Category.slug, Course.level, free, func.count())
        .outerjoin(Category, col(Category.id) == Course.category_id)
        .where(*_matching_text(query))
        .group_by(col(Category.slug), col(Course.level), free)).all()
    categories: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    prices: Counter[str] = Counter()
    uncategorised = 0
    for slug, level, is_free, count in groups:
        price = PriceFilter.FREE if is_free else PriceFilter.PAID
        category_ok = not query.category or slug == query.category
        level_ok = query.level is None or level == query.level
        price_ok = query.price is PriceFilter.ALL or price is query.price
        if level_ok and price_ok:
            if slug is None:
                uncategorised += count
            else:
                categories[slug] += count
        if category_ok and price_ok:
            levels[level.value] += count
        if category_ok and level_ok:
            prices.update({price.value: count, PriceFilter.ALL.value: count})
    return FilterCounts(categories=dict(categories), levels=dict(levels), prices=dict(prices),
                        uncategorised=uncategorised)


def featured_courses(session: Session, limit: int = 3) -> list[CourseCard]:
    def load() -> list[CourseCard]:
        cards, _ = _course_cards(session, [col(Course.is_published).is_(True)],
                                 CatalogSort.POPULAR, limit=limit, offset=0)
        return cards

    return cache().get(session, Entry(CATALOG, key_of("featured", limit)), load)


def published_courses(session: Session) -> list[ListedCourse]:
    """Every published course's slug and last change, oldest first (the sitemap). Cached with the
    catalog, so publishing or unpublishing a course shows at once."""
    def load() -> list[ListedCourse]:
        rows = session.exec(select(Course.slug, Course.updated_at)
                            .where(col(Course.is_published).is_(True))
                            .order_by(col(Course.created_at), col(Course.id)))
        return [ListedCourse(slug=slug, updated_at=updated_at) for slug, updated_at in rows]

    return cache().get(session, Entry(CATALOG, "published"), load)


def course_outline(session: Session, slug: str, viewer: User | None) -> CourseOutline:
    """A course with its modules and lessons in order, and the viewer's enrollment and progress in
    it. Drafts are visible to their staff only.

    Cached as two values read in one round trip: the outline (shared by every viewer) and the
    viewer's learner record. On misses: one statement for each, however long the course."""
    slug = (slug or "")[:120]
    if "\x00" in slug:  # no slug holds a NUL (it comes from an address), and PostgreSQL refuses one
        raise NotFound("course", slug.replace("\x00", ""))
    outline_entry = Entry(slug_scope(slug), "outline")
    loaders: dict[Entry, Callable[[], object]] = {
        outline_entry: lambda: next(iter(_load_outlines(session, Course.slug == slug)), None)}
    if viewer is not None:
        loaders[learner_entry(viewer.id)] = lambda: load_learner_record(session, viewer.id)
    values = cache().get_each(session, loaders)
    outline = values.get(outline_entry)
    if not isinstance(outline, CourseOutline):
        raise NotFound("course", slug)
    if not outline.course.is_published and not is_course_staff(viewer, outline.course):
        raise NotFound("course", slug)
    if viewer is None:
        return outline
    record = values[learner_entry(viewer.id)]
    assert isinstance(record, LearnerRecord)
    course_id = outline.course.id
    return replace(outline, enrollment=record.membership(course_id),
                   completed=record.completed_in(course_id, [ls.id for ls in outline.lessons]))


def outlines_by_id(session: Session, course_ids: list[int]) -> dict[int, CourseOutline]:
    """Outlines of several courses (without viewer data) in one round trip; one statement for
    all the missing ones together. Courses that no longer exist are left out."""
    entries = {Entry(course_scope(course_id), "outline"): course_id for course_id in course_ids}

    def load(missing: list[Entry]) -> dict[Entry, CourseOutline]:
        loaded = _load_outlines(session, col(Course.id).in_([entries[e] for e in missing]))
        by_id = {outline.course.id: outline for outline in loaded}
        return {entry: by_id[entries[entry]] for entry in missing if entries[entry] in by_id}

    return {entries[entry]: outline
            for entry, outline in cache().get_many(session, list(entries), load).items()}


def _load_outlines(session: Session, where: sa.ColumnElement[bool]) -> list[CourseOutline]:
    """Outlines of the courses matching `where`, from the database in one statement: a row per
    lesson, the course's columns repeated on each (the session keeps one Course per id). A lesson
    page then costs four statements cold: its user, this, the learner's record and the lesson."""
    outlines: dict[int, tuple[Course, str, str, dict[int, ModuleOutline], bool]] = {}
    gated = sa.or_(sa.exists().where(col(ReleaseRule.course_id) == Course.id),
                   sa.exists().where(col(CoursePrerequisite.course_id) == Course.id))
    # Lesson columns, not Lesson rows: the outline never needs the bodies, which can be long.
    for (course, category, instructor, module_id, module_title, lesson_id, title, kind, minutes,
         is_gated) in (
        session.exec(
            select(Course, Category.name, User.full_name, Module.id, Module.title, Lesson.id,
                   Lesson.title, Lesson.kind, Lesson.duration_minutes, gated)
            .join(User, col(User.id) == Course.instructor_id)
            .outerjoin(Category, col(Category.id) == Course.category_id)
            .outerjoin(Module, col(Module.course_id) == Course.id)
            .outerjoin(Lesson, col(Lesson.module_id) == Module.id)
            .where(where)
            .order_by(col(Course.id), col(Module.position), col(Module.id), col(Lesson.position),
                      col(Lesson.id))
        )
    ):
        modules = outlines.setdefault(course.id, (course, category or "", instructor, {},
                                                  bool(is_gated)))[3]
        if module_id is None:
            continue  # a course without modules yet
        module = modules.setdefault(module_id, ModuleOutline(id=module_id, title=module_title))
        if lesson_id is not None:
            module.lessons.append(LessonRef(id=lesson_id, title=title, kind=kind.value,
                                            duration_minutes=minutes))
    return [CourseOutline(course=course, category=category, instructor=instructor,
                          modules=list(modules.values()), gated=is_gated)
            for course, category, instructor, modules, is_gated in outlines.values()]


def is_course_staff(user: User | None, course: Course) -> bool:
    return user is not None and (user.role is Role.ADMIN or user.id == course.instructor_id)


def _course_cards(session: Session, filters: list, sort: CatalogSort, *, limit: int,
                  offset: int) -> tuple[list[CourseCard], int]:
    """A page of cards and the number of courses matching `filters` in all (0 when the page is
    empty). The window count is taken before LIMIT and OFFSET: no separate COUNT statement."""
    lesson_stats = (
        select(Module.course_id.label("course_id"),
               func.count(Lesson.id).label("lessons"),
               func.coalesce(func.sum(Lesson.duration_minutes), 0).label("minutes"))
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .group_by(col(Module.course_id))
        .subquery()
    )
    learner_counts = (
        select(Enrollment.course_id.label("course_id"), func.count().label("learners"))
        .where(col(Enrollment.status).in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED]))
        .group_by(col(Enrollment.course_id))
        .subquery()
    )
    ratings = (
        select(CourseReview.course_id.label("course_id"),
               func.avg(CourseReview.rating).label("average"), func.count().label("reviews"))
        .group_by(col(CourseReview.course_id))
        .subquery()
    )
    learners = func.coalesce(learner_counts.c.learners, 0)
    reviews = func.coalesce(ratings.c.reviews, 0)
    order = {
        CatalogSort.POPULAR: [learners.desc(), col(Course.created_at).desc()],
        CatalogSort.NEWEST: [col(Course.created_at).desc()],
        CatalogSort.TITLE: [col(Course.title).asc()],
        CatalogSort.PRICE_LOW: [col(Course.price_cents).asc(), col(Course.title).asc()],
        CatalogSort.PRICE_HIGH: [col(Course.price_cents).desc(), col(Course.title).asc()],
        CatalogSort.RATING: [func.coalesce(ratings.c.average, 0).desc(), reviews.desc(),
                             learners.desc()],
    }[sort]
    statement = (
        select(Course, Category.name, User.full_name,
               func.coalesce(lesson_stats.c.lessons, 0), func.coalesce(lesson_stats.c.minutes, 0),
               learners, ratings.c.average, reviews, func.count().over())
        .join(User, col(User.id) == Course.instructor_id)
        .outerjoin(Category, col(Category.id) == Course.category_id)
        .outerjoin(lesson_stats, lesson_stats.c.course_id == Course.id)
        .outerjoin(learner_counts, learner_counts.c.course_id == Course.id)
        .outerjoin(ratings, ratings.c.course_id == Course.id)
        .where(*filters)
        .order_by(*order, col(Course.id))
        .limit(limit)
        .offset(offset)
    )
    rows = session.exec(statement).all()
    cards = [
        CourseCard(id=course.id, slug=course.slug, title=course.title, subtitle=course.subtitle,
                   level=course.level.value, category=category or "", price_cents=course.price_cents,
                   currency=course.currency, instructor=instructor,
                   cover_image_url=course.cover_image_url, lesson_count=int(lessons),
                   duration_minutes=int(minutes), learners=int(count),
                   rating=float(average) if average is not None else None, reviews=int(reviewed),
                   cover_key=course.cover_key, cover_alt=course.cover_alt)
        for course, category, instructor, lessons, minutes, count, average, reviewed, _total in rows
    ]
    return cards, int(rows[0][-1]) if rows else 0


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
