"""Rows the pages render: plain data, already formatted, with nothing private in them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from academy_app.models import as_utc
from academy_app.services import covers
from academy_app.services.access import Access
from academy_app.services.captions import Cue, clock
from academy_app.services.catalog import CourseCard, CourseOutline, LessonRef
from academy_app.services.payments import Order
from academy_app.services.progress import DashboardEntry

LEVEL_LABELS = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced"}
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}
# One calm gradient per category keeps covers readable without shipping images.
COVER_GRADIENTS = [
    "linear-gradient(135deg, #4f46e5 0%, #06b6d4 100%)",
    "linear-gradient(135deg, #0f766e 0%, #84cc16 100%)",
    "linear-gradient(135deg, #be185d 0%, #f59e0b 100%)",
    "linear-gradient(135deg, #1e3a8a 0%, #9333ea 100%)",
]


def price_label(cents: int, currency: str) -> str:
    if cents == 0:
        return "Free"
    sign = CURRENCY_SIGNS.get(currency, currency + " ")
    return f"{sign}{cents // 100}" if cents % 100 == 0 else f"{sign}{cents / 100:.2f}"


def duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def cover_style(key: str, image_url: str = "") -> str:
    """A CSS background: the course's cover image when it has one, over a calm gradient."""
    gradient = COVER_GRADIENTS[sum(map(ord, key)) % len(COVER_GRADIENTS)]
    # authoring only accepts https:// or site paths without quotes or spaces; refuse anything else
    # here too, since the value lands in a CSS declaration.
    if image_url and not any(ch in image_url for ch in "\"'\\ \n\r;{}<>()"):
        return f'center / cover no-repeat url("{image_url}"), {gradient}'
    return gradient


def cover_pictures(key: str) -> str:
    """An uploaded cover's files for the browser to choose from (an <img> srcset): the card size,
    and the page size for wide or high-density screens. "" without an uploaded cover."""
    if not key:
        return ""
    return ", ".join(f"{covers.cover_url(key, size)} {size.width}w"
                     for size in (covers.CARD, covers.PAGE))


@dataclass
class TextPart:
    text: str = ""
    match: bool = False


def highlighted(text: str, words: str) -> list[TextPart]:
    """`text` cut where it holds the searched `words` (case aside, spaces collapsed as the
    catalog search collapses them), so the page can mark the matches. The parts are plain
    strings, rendered as text: a search for markup shows the markup, never runs it."""
    needle = " ".join(words.split())
    if not needle:
        return [TextPart(text)]
    parts, start = [], 0
    for found in re.finditer(re.escape(needle), text, re.IGNORECASE):
        if found.start() > start:
            parts.append(TextPart(text[start:found.start()]))
        parts.append(TextPart(found.group(), match=True))
        start = found.end()
    if start < len(text) or not parts:
        parts.append(TextPart(text[start:]))
    return parts


@dataclass
class CourseCardRow:
    slug: str = ""
    title: str = ""
    title_parts: list[TextPart] | None = None  # the title, with the catalog search's matches
    subtitle: str = ""
    level: str = ""
    category: str = ""
    price: str = ""
    instructor: str = ""
    lessons: str = ""
    cover: str = ""
    # An uploaded cover: the card-size file, the sizes to choose from, and its words.
    picture: str = ""
    pictures: str = ""
    picture_alt: str = ""
    rating: str = ""  # "4.5", or "" before the first review
    reviews: str = ""  # "(12)"
    rating_label: str = ""  # what a screen reader says: "Rated 4.5 out of 5 in 12 reviews"

    @classmethod
    def of(cls, card: CourseCard, search: str = "") -> CourseCardRow:
        rated = card.rating is not None and card.reviews > 0
        return cls(slug=card.slug, title=card.title, title_parts=highlighted(card.title, search),
                   subtitle=card.subtitle,
                   level=LEVEL_LABELS.get(card.level, card.level), category=card.category,
                   price=price_label(card.price_cents, card.currency), instructor=card.instructor,
                   lessons=f"{card.lesson_count} lessons · {duration_label(card.duration_minutes)}",
                   cover=cover_style(card.slug, card.cover_image_url),
                   picture=covers.cover_url(card.cover_key, covers.CARD),
                   pictures=cover_pictures(card.cover_key),
                   picture_alt=card.cover_alt or card.title,
                   rating=f"{card.rating:.1f}" if rated else "",
                   reviews=f"({card.reviews})" if rated else "",
                   rating_label=rating_label(card.rating, card.reviews) if rated else "")


def rating_label(average: float | None, count: int) -> str:
    """A rating in words: "Rated 4.5 out of 5 in 12 reviews" ("No reviews yet" without one)."""
    if average is None or count == 0:
        return "No reviews yet"
    return f"Rated {average:.1f} out of 5 in {count} review{'s' if count != 1 else ''}"


@dataclass
class LessonRow:
    id: int = 0
    title: str = ""
    kind: str = ""
    duration: str = ""
    done: bool = False
    current: bool = False
    href: str = ""  # "" when locked: a locked lesson is not a link
    locked: bool = False
    lock_reason: str = ""  # why, in the learner's words (services/access.py)
    # When it opens (ISO 8601, UTC) if time is all that stands in the way: the browser words it
    # in the learner's own time zone (components/course.py opens_label).
    opens_at: str = ""


@dataclass(frozen=True)
class TranscriptLine:
    at: str  # when the words are spoken, e.g. "1:05"
    text: str


def transcript_lines(cues: Sequence[Cue]) -> list[TranscriptLine]:
    return [TranscriptLine(at=clock(cue.start), text=cue.text) for cue in cues if cue.text]


@dataclass
class ModuleRow:
    title: str = ""
    lessons: list[LessonRow] | None = None


def module_rows(outline: CourseOutline, completed: frozenset[int] = frozenset(),
                current_id: int | None = None,
                access: Mapping[int, Access] | None = None) -> list[ModuleRow]:
    """The syllabus; with `access` (the learner's, services/access.py) each locked lesson says
    why and when it opens, and links nowhere."""
    slug = outline.course.slug
    access = access or {}

    def row(lesson: LessonRef) -> LessonRow:
        found = access.get(lesson.id)
        locked = found is not None and not found.is_open
        return LessonRow(id=lesson.id, title=lesson.title, kind=lesson.kind,
                         duration=duration_label(lesson.duration_minutes),
                         done=lesson.id in completed, current=lesson.id == current_id,
                         href="" if locked else f"/learn/{slug}/{lesson.id}", locked=locked,
                         lock_reason=found.reason if locked else "",
                         opens_at=iso_utc(found.opens_at) if locked and found.opens_at else "")

    return [ModuleRow(title=module.title, lessons=[row(lesson) for lesson in module.lessons])
            for module in outline.modules]


def iso_utc(moment: datetime) -> str:
    """An instant for the browser to word in its own zone: ISO 8601 with its Z."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class DashboardRow:
    slug: str = ""
    title: str = ""
    subtitle: str = ""
    instructor: str = ""
    percent: int = 0
    summary: str = ""
    status: str = ""
    resume_href: str = ""
    # The button: "Start" at 0 %, "Continue: <next lesson>" after, and their names for a screen
    # reader, which also say the course ("Continue Python Foundations: Lists").
    action: str = ""
    action_label: str = ""
    certificate_href: str = ""  # a completed course's certificate, when it stands
    cover: str = ""
    picture: str = ""  # an uploaded cover, card size; the title is beside it, so it says nothing

    @classmethod
    def of(cls, entry: DashboardEntry, certificate_code: str = "") -> DashboardRow:
        can_learn = entry.status in ("active", "completed") and entry.resume_lesson_id
        resume = (f"/learn/{entry.slug}/{entry.resume_lesson_id}" if can_learn
                  else f"/courses/{entry.slug}")
        if not can_learn:
            action, label = "View course", f"View course {entry.title}"
        elif entry.status == "completed":
            action, label = "Revisit lessons", f"Revisit lessons of {entry.title}"
        elif entry.done == 0:
            action, label = "Start", f"Start {entry.title}"
        else:
            action = f"Continue: {entry.resume_lesson_title}"
            label = f"Continue {entry.title}: {entry.resume_lesson_title}"
        return cls(slug=entry.slug, title=entry.title, subtitle=entry.subtitle,
                   instructor=entry.instructor, percent=entry.percent,
                   summary=f"{entry.done} of {entry.total} lessons complete",
                   status=entry.status, resume_href=resume, action=action, action_label=label,
                   certificate_href=f"/verify/{certificate_code}"
                   if certificate_code and entry.status == "completed" else "",
                   cover=cover_style(entry.slug, entry.cover_image_url),
                   picture=covers.cover_url(entry.cover_key, covers.CARD))


STATUS_LABELS = {"pending": "Waiting for review", "approved": "Approved", "rejected": "Not accepted"}


def moment_label(moment: datetime | None) -> str:
    return as_utc(moment).strftime("%d %b %Y, %H:%M UTC") if moment else ""


@dataclass
class OrderRow:
    """A learner's payment, as the order page, the receipt and the purchase history show it."""

    id: int = 0
    number: str = ""  # "Order #12": what the learner quotes when they write to us
    href: str = ""
    course: str = ""
    course_href: str = ""
    amount: str = ""
    coupon: str = ""
    reference: str = ""
    status: str = ""  # pending | approved | rejected
    status_label: str = ""
    reason: str = ""
    submitted: str = ""
    reviewed: str = ""
    learner: str = ""
    email: str = ""

    @classmethod
    def of(cls, order: Order) -> OrderRow:
        return cls(id=order.id, number=f"Order #{order.id}", href=f"/orders/{order.id}",
                   course=order.course_title, course_href=f"/courses/{order.course_slug}",
                   amount=price_label(order.amount_cents, order.currency),
                   coupon=order.coupon_code, reference=order.reference,
                   status=order.status.value, status_label=STATUS_LABELS[order.status.value],
                   reason=order.reason, submitted=moment_label(order.submitted_at),
                   reviewed=moment_label(order.reviewed_at), learner=order.learner_name,
                   email=order.learner_email)
