"""A course's public page: description, syllabus and the enroll / continue button."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session, select

from academy_app.infra import clock
from academy_app.infra.markdown import render_markdown
from academy_app.models import Enrollment, Payment, User
from academy_app.services import (
    access,
    catalog,
    certificate_rule,
    covers,
    enrollment,
    payments,
    progress,
)
from academy_app.services.access import Access
from academy_app.services.catalog import CourseOutline
from academy_app.services.certificate_rule import CertificateEligibility
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import (
    LEVEL_LABELS,
    ModuleRow,
    cover_style,
    module_rows,
    price_label,
)


@dataclass
class CohortRow:
    """A cohort the learner may choose: when it starts and its seats left."""

    id: str = ""  # the select's value
    name: str = ""
    label: str = ""  # "Spring cohort · starts Mon 1 Dec, 09:00 · 3 seats left" (course zone)
    full: bool = False


@dataclass(frozen=True)
class _Read:
    outline: CourseOutline
    payment: Payment | None
    eligibility: CertificateEligibility | None
    access: Mapping[int, Access]
    cohorts: list[CohortRow]
    my_cohort_id: int | None


class CourseState(AuthState):
    loading: bool = True
    not_found: bool = False
    slug: str = ""
    title: str = ""
    subtitle: str = ""
    description_html: str = ""
    category: str = ""
    level: str = ""
    instructor: str = ""
    price: str = ""
    is_free: bool = True
    cover: str = ""
    picture: str = ""  # an uploaded cover at the page's size, and its words
    picture_alt: str = ""
    lesson_count: int = 0
    modules: list[ModuleRow] = []
    is_enrolled: bool = False
    percent: int = 0
    resume_href: str = ""
    # The learner's latest payment for this paid course: "", "pending", "approved" or "rejected".
    payment_status: str = ""
    payment_reference: str = ""
    payment_reason: str = ""
    payment_amount: str = ""  # what the learner pays: the price less their coupon
    payment_href: str = ""  # its order page
    # An enrolled learner's way to the certificate: what is still missing (certificate_rule).
    certificate_earned: bool = False
    certificate_missing: list[str] = []
    # A course run in cohorts: the learner chooses one to enrol (or, enrolled without one, joins).
    cohorts: list[CohortRow] = []
    chosen_cohort: str = ""
    my_cohort: str = ""  # the name of the learner's cohort
    cohort_error: str = ""
    _course_id: int = 0

    @rx.var
    def page_title(self) -> str:
        """The tab's title: the one the served HTML already has (api/served_html.py)."""
        if self.not_found:
            return "Page not found · Academy"
        return f"{self.title} · Academy" if self.title else "Course · Academy"

    @rx.event
    async def load(self) -> AsyncIterator[None]:
        self.loading = True
        yield
        slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

        def read(session: Session, viewer: User | None) -> _Read | None:
            try:
                outline = catalog.course_outline(session, slug, viewer)
            except NotFound:
                return None
            course = outline.course
            learning = outline.enrollment is not None \
                and outline.enrollment.status in enrollment.LEARNING_STATUSES
            cohorts = access.course_cohorts(session, course.id)
            zone = access.zone_of(course)
            return _Read(
                outline,
                payments.latest_payment(session, viewer.id, course.id)
                if viewer and not course.is_free else None,
                certificate_rule.for_learner(session, viewer, course.id) if learning else None,
                access.outline_access(session, viewer, course.id, clock.now())
                if learning and outline.gated else {},
                [CohortRow(id=str(c.id), name=c.name,
                           label=_cohort_label(c.name, access.opens_wording(
                               access.local_to_utc(c.starts_at_local, zone), zone)[6:]
                               + f" ({course.time_zone})", c.capacity - c.seats_taken),
                           full=c.seats_taken >= c.capacity) for c in cohorts],
                session.exec(select(Enrollment.cohort_id).where(
                    Enrollment.user_id == viewer.id, Enrollment.course_id == course.id)).first()
                if learning and cohorts and viewer else None)

        found, _ = await self._read_as(read, roles=None)
        if found is None:
            self.not_found, self.loading, self.slug = True, False, slug
            return
        outline, payment, eligibility = found.outline, found.payment, found.eligibility
        course = outline.course
        mine = outline.enrollment  # read with the outline: no statement of its own
        enrolled = mine is not None and mine.status in enrollment.LEARNING_STATUSES
        state = progress.outline_progress(outline) if enrolled else None
        lessons = outline.lessons
        self._course_id = course.id
        self.not_found = False
        self.slug, self.title, self.subtitle = course.slug, course.title, course.subtitle
        self.description_html = render_markdown(course.description)
        self.category, self.instructor = outline.category, outline.instructor
        self.level = LEVEL_LABELS[course.level.value]
        self.price, self.is_free = price_label(course.price_cents, course.currency), course.is_free
        self.cover = cover_style(course.slug, course.cover_image_url)
        self.picture = covers.cover_url(course.cover_key, covers.PAGE)
        self.picture_alt = course.cover_alt or course.title
        self.lesson_count = len(lessons)
        self.modules = module_rows(outline, state.completed if state else frozenset(),
                                   access=found.access)
        self.is_enrolled = enrolled
        self.percent = state.percent if state else 0
        self.cohorts = found.cohorts
        self.my_cohort = next((c.name for c in found.cohorts
                               if c.id == str(found.my_cohort_id)), "")
        if self.chosen_cohort not in {c.id for c in found.cohorts}:
            self.chosen_cohort = ""
        # Continue with the first lesson not done that the learner may open.
        resume_id = next((ls.id for ls in lessons if state and ls.id not in state.completed
                          and found.access.get(ls.id, _OPEN).is_open), None) \
            or (lessons[0].id if lessons else None)
        self.resume_href = f"/learn/{course.slug}/{resume_id}" if resume_id else ""
        self.payment_status = payment.status.value if payment else ""
        self.payment_reference = payment.reference if payment else ""
        self.payment_reason = payment.reason if payment else ""
        self.payment_amount = price_label(payment.amount_cents, payment.currency) if payment else ""
        self.payment_href = f"/orders/{payment.id}" if payment else ""
        self.certificate_earned = eligibility is not None and eligibility.eligible
        self.certificate_missing = list(eligibility.missing) if eligibility else []
        self.loading = False

    @rx.event
    def choose_cohort(self, cohort_id: str) -> None:
        if isinstance(cohort_id, str) and cohort_id in {c.id for c in self.cohorts}:
            self.chosen_cohort, self.cohort_error = cohort_id, ""

    @rx.event
    async def enroll(self) -> Events:
        """Enrol (a free course) and, in a course run in cohorts, join the chosen cohort, in one
        transaction: a full cohort or a closed window enrols nobody. An enrolled learner without
        a cohort joins one the same way."""
        if self.is_enrolled and (not self.cohorts or self.my_cohort):
            return None  # a double click's second event: events of one tab run one at a time
        course_id, cohort_id, enrolled = self._course_id, self.chosen_cohort, self.is_enrolled
        if self.cohorts and not cohort_id.isdigit():
            self.cohort_error = "Choose a cohort to enrol in"
            return None

        def act(session: Session, actor: User) -> None:
            if not enrolled:
                enrollment.enroll_free(session, actor, course_id)
            if cohort_id:
                access.join_cohort(session, actor, int(cohort_id), clock.now())

        try:
            _, refused = await self._act_as("enroll", act, shown=(Invalid, Conflict))
        except (Invalid, Conflict) as exc:
            self.cohort_error = exc.message
            return self._refuse("enroll", exc)
        if refused:
            return refused
        self.is_enrolled, self.cohort_error = True, ""
        self.my_cohort = next((c.name for c in self.cohorts if c.id == cohort_id), "")
        joined = f" ({self.my_cohort})" if self.my_cohort else ""
        message = (f"You joined {self.my_cohort}." if enrolled
                   else f"You're enrolled in {self.title}{joined}. Enjoy the course!")
        return [rx.toast.success(message), CourseState.load]


_OPEN = Access(0, True, "", None)


def _cohort_label(name: str, starts: str, seats_left: int) -> str:
    seats = "full" if seats_left <= 0 else f"{seats_left} seat{'s' if seats_left != 1 else ''} left"
    return f"{name} · starts {starts} · {seats}"
