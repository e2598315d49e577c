"""The catalog and a course's outline: public, as on the site (drafts only for their staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from academy_app.api.v1.deps import DbSession, OptionalUser
from academy_app.api.v1.errors import problems
from academy_app.api.v1.schemas import CourseDetail, CoursePage, CourseSummary
from academy_app.infra import clock
from academy_app.infra.markdown import render_markdown
from academy_app.models import CourseLevel
from academy_app.services import access, catalog, deadlines
from academy_app.services.authoring import SLUG_PATTERN
from academy_app.services.catalog import CatalogSort, PriceFilter
from academy_app.services.enrollment import LEARNING_STATUSES

router = APIRouter(prefix="/courses", tags=["courses"])
MAX_PAGE = 10_000
# PostgreSQL text cannot hold NUL: such a parameter is refused here rather than failing there.
NO_NUL = r"^[^\x00]*$"
Slug = Annotated[str, Path(max_length=120, pattern=SLUG_PATTERN.pattern,
                           description="The course's address, like intro-to-sql.")]


@router.get("", response_model=CoursePage)
def list_courses(
    session: DbSession,
    q: Annotated[str, Query(max_length=catalog.MAX_SEARCH_LENGTH, pattern=NO_NUL,
                            description="Words in the title, subtitle or description.")] = "",
    category: Annotated[str, Query(max_length=80, pattern=NO_NUL,
                                   description="A category slug; empty for all.")] = "",
    level: CourseLevel | None = None,
    price: PriceFilter = PriceFilter.ALL,
    sort: CatalogSort = CatalogSort.POPULAR,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=catalog.MAX_PER_PAGE)] = 12,
) -> CoursePage:
    """Published courses matching the query, a page at a time (the catalog page's search). A page
    past the last answers the last page."""
    query = catalog.CatalogQuery.parse(text=q, category=category, level=level or "", price=price,
                                       sort=sort, page=page, per_page=per_page)
    result = catalog.search_courses(session, query)
    return CoursePage(items=[CourseSummary.model_validate(card) for card in result.items], total=result.total,
                      page=result.page, pages=result.pages, per_page=query.per_page)


# The token is optional here: the document says "bearer, or nothing" (FastAPI adds the bearer).
@router.get("/{slug}", response_model=CourseDetail, responses=problems(401, 404),
            openapi_extra={"security": [{}]})
def course_detail(slug: Slug, session: DbSession, user: OptionalUser) -> CourseDetail:
    """A course with its modules and lessons in order, and the caller's enrollment if a token is
    sent. A draft is found only by its instructor and admins. For a learner of the course each
    lesson also says whether it is locked to them (why, and when it opens) and each quiz that
    closes when it does for them: titles only, never what a locked lesson holds."""
    outline = catalog.course_outline(session, slug, user)
    html = render_markdown(outline.course.description)
    if user is None or outline.enrollment is None \
            or outline.enrollment.status not in LEARNING_STATUSES:
        return CourseDetail.of(outline, html)
    now = clock.now()
    return CourseDetail.of(
        outline, html, now=now,
        access=access.outline_access(session, user, outline.course.id, now)
        if outline.gated else {},
        due=deadlines.course_due_dates(session, user, outline.course) if outline.closes else {})
