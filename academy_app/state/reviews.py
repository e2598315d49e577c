"""A course page's ratings and reviews: the learner's own review form and the staff's replies."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from academy_app.models import User, as_utc
from academy_app.services import reviews
from academy_app.services.errors import Invalid, NotFound
from academy_app.services.reviews import CourseReviews, ReviewView
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import rating_label
from academy_app.text import as_id, whole_number

STAR_LABELS = {stars: f"{stars} star{'s' if stars > 1 else ''}" for stars in range(1, 6)}


@dataclass
class ReviewLine:
    id: int = 0
    author: str = ""
    rating: int = 0
    stars_label: str = ""  # "4 stars"
    body: str = ""
    date: str = ""  # "5 December 2026", "(edited)" after it when edited
    reply: str = ""
    reply_author: str = ""
    mine: bool = False
    avatar: str = ""  # the author's picture ("" for none)
    initials: str = ""

    @classmethod
    def of(cls, view: ReviewView) -> ReviewLine:
        date = as_utc(view.created_at).strftime("%-d %B %Y") + (" (edited)" if view.edited else "")
        return cls(id=view.id, author=view.author, rating=view.rating,
                   stars_label=f"Rated {STAR_LABELS[view.rating]} out of 5", body=view.body,
                   date=date, reply=view.reply, reply_author=view.reply_author, mine=view.mine,
                   avatar=view.avatar, initials=view.initials)


def _text(value: object, limit: int) -> str:
    """Typed text as far as a form could send it; a crafted event's other values read as ''."""
    return value[:limit] if isinstance(value, str) else ""


class ReviewState(AuthState):
    """Loaded after CourseState on the course page. The form's values stay here until saved; the
    service decides who may review or reply, whatever the tab says."""

    average: str = ""  # "4.5"
    count_label: str = ""  # "12 reviews"
    summary_label: str = ""  # "Rated 4.5 out of 5 in 12 reviews"
    lines: list[ReviewLine] = []
    can_review: bool = False
    hint: str = ""
    can_reply: bool = False
    has_own: bool = False
    # The learner's form: open when writing or editing.
    editing: bool = False
    rating: str = ""  # "1" … "5", as the radio group gives it
    body: str = ""
    errors: dict[str, str] = {}
    # The staff's reply form, open under one review.
    reply_to: int = 0
    reply_text: str = ""
    reply_error: str = ""
    _course_id: int = 0

    @rx.event
    async def load(self) -> None:
        self.editing, self.reply_to, self.errors, self.reply_error = False, 0, {}, ""
        await self._reload()

    def _show(self, found: CourseReviews | None) -> None:
        if found is None:
            self._course_id, self.lines, self.average, self.count_label = 0, [], "", ""
            self.summary_label, self.can_review, self.can_reply, self.has_own = "", False, False, False
            self.hint = ""
            return
        summary = found.summary
        self._course_id = found.course_id
        self.average = summary.rounded
        self.count_label = f"{summary.count} review{'s' if summary.count != 1 else ''}"
        self.summary_label = rating_label(summary.average, summary.count)
        self.lines = [ReviewLine.of(view) for view in found.reviews]
        self.can_review, self.hint, self.can_reply = found.can_review, found.hint, found.can_reply
        self.has_own = found.own is not None
        if found.own is not None and not self.editing:
            self.rating, self.body = str(found.own.rating), found.own.body
        elif found.own is None and not self.editing:
            self.rating, self.body = "", ""

    # --- the learner's review ----------------------------------------------------------------

    @rx.event
    def start_editing(self) -> None:
        """Open the form (to write, or to edit their review): only where the page offers it."""
        if self.can_review:
            self.editing, self.errors = True, {}

    @rx.event
    def cancel_editing(self) -> None:
        self.editing, self.errors = False, {}

    @rx.event
    def set_rating(self, value: str) -> None:
        self.rating = value if isinstance(value, str) and value in {"1", "2", "3", "4", "5"} else ""
        self.errors = {k: v for k, v in self.errors.items() if k != "rating"}

    @rx.event
    def set_body(self, value: str) -> None:
        self.body = _text(value, reviews.MAX_BODY + 100)

    @rx.event
    async def save_review(self) -> Events:
        course_id, rating, body = self._course_id, whole_number(self.rating, 1) or None, self.body
        try:
            saved, refused = await self._act_as("save_review", lambda session, user:
                                                reviews.save_review(session, user, course_id,
                                                                    rating, body))
        except Invalid as exc:
            self.errors = exc.errors
            return None
        if refused:
            return refused
        new = not self.has_own
        self.editing, self.errors = False, {}
        await self._reload()
        return rx.toast.success("Thank you for your review" if new and saved else "Review updated")

    # --- the staff's reply -------------------------------------------------------------------

    @rx.event
    def open_reply(self, review_id: int) -> None:
        """Open the reply form under a review this page shows (the service checks who saves)."""
        line = next((line for line in self.lines if line.id == as_id(review_id)), None)
        if line is None or not self.can_reply:
            return
        self.reply_to, self.reply_text, self.reply_error = line.id, line.reply, ""

    @rx.event
    def set_reply_text(self, value: str) -> None:
        self.reply_text = _text(value, reviews.MAX_REPLY + 100)

    @rx.event
    def cancel_reply(self) -> None:
        self.reply_to, self.reply_error = 0, ""

    @rx.event
    async def save_reply(self) -> Events:
        review_id, text = self.reply_to, self.reply_text
        try:
            _, refused = await self._act_as("save_reply", lambda session, user:
                                            reviews.save_reply(session, user, review_id, text))
        except Invalid as exc:
            self.reply_error = "; ".join(exc.errors.values())
            return None
        if refused:
            return refused
        self.reply_to, self.reply_error = 0, ""
        await self._reload()
        return rx.toast.success("Reply posted")

    async def _reload(self) -> None:
        slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

        def read(session: Session, viewer: User | None) -> CourseReviews | None:
            try:
                return reviews.course_reviews(session, viewer, slug)
            except NotFound:
                return None

        found, _ = await self._read_as(read, roles=None)
        self._show(found)
