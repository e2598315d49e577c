"""A course's public page: description, syllabus and the enroll / continue button."""

from __future__ import annotations

from collections.abc import AsyncIterator

import reflex as rx
from sqlmodel import Session

from academy_app.infra.markdown import render_markdown
from academy_app.models import Payment, User
from academy_app.services import catalog, certificate_rule, enrollment, payments, progress
from academy_app.services.catalog import CourseOutline
from academy_app.services.certificate_rule import CertificateEligibility
from academy_app.services.errors import Invalid, NotFound
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import LEVEL_LABELS, ModuleRow, cover_style, module_rows, price_label


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

        def read(session: Session, viewer: User | None
                 ) -> tuple[CourseOutline, Payment | None, CertificateEligibility | None] | None:
            try:
                outline = catalog.course_outline(session, slug, viewer)
            except NotFound:
                return None
            course = outline.course
            learning = outline.enrollment is not None \
                and outline.enrollment.status in enrollment.LEARNING_STATUSES
            return outline, (payments.latest_payment(session, viewer.id, course.id)
                             if viewer and not course.is_free else None), \
                certificate_rule.for_learner(session, viewer, course.id) if learning else None

        found, _ = await self._read_as(read, roles=None)
        if found is None:
            self.not_found, self.loading, self.slug = True, False, slug
            return
        outline, payment, eligibility = found
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
        self.lesson_count = len(lessons)
        self.modules = module_rows(outline, state.completed if state else frozenset())
        self.is_enrolled = enrolled
        self.percent = state.percent if state else 0
        resume_id = (state.next_lesson_id if state else None) or (lessons[0].id if lessons else None)
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
    async def enroll(self) -> Events:
        if self.is_enrolled:
            return None  # a double click's second event: events of one tab run one at a time
        course_id = self._course_id
        try:
            _, refused = await self._act_as("enroll", lambda session, actor:
                                            enrollment.enroll_free(session, actor, course_id))
        except Invalid as exc:
            return self._refuse("enroll", exc)
        if refused:
            return refused
        self.is_enrolled = True
        return [rx.toast.success(f"You're enrolled in {self.title}. Enjoy the course!"),
                CourseState.load]
