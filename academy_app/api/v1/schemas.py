"""What the REST API reads and answers, as pydantic models: the OpenAPI document is made from them.

Each response model is built from what a service returns (a catalog card, an outline, a progress
summary), never from a table row, so no column reaches a client unless it is named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from academy_app.models import (
    AttemptScoring,
    CourseLevel,
    EnrollmentStatus,
    LessonKind,
    QuestionKind,
    ShowAnswers,
)
from academy_app.services.access import Access
from academy_app.services.catalog import CourseOutline, LessonRef
from academy_app.services.deadlines import Due
from academy_app.services.progress import CourseProgress, DashboardEntry


class Problem(BaseModel):
    """An error, as RFC 9457 describes it (served as application/problem+json)."""

    title: str = Field(description="The HTTP status in words, e.g. 'Not Found'.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, in words that may be shown to a user.")
    errors: dict[str, str] | None = Field(
        default=None, description="For invalid input: a message per field ('body.email', 'query.page').")


class TokenRequest(BaseModel):
    email: str = Field(max_length=320, examples=["student@academy.test"])
    password: str = Field(max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=2048)


class TokenPair(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Single use: POST it to /auth/refresh for a new pair.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_expires_in: int = Field(
        description="Seconds until this login ends at the latest (sooner if unused for "
                    "ACADEMY_SESSION_IDLE_MINUTES).")


class CourseSummary(BaseModel):
    """A catalog card (`catalog.CourseCard`), field for field: `CourseSummary.model_validate(card)`."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    subtitle: str
    level: CourseLevel
    category: str
    price_cents: int
    currency: str
    instructor: str
    cover_image_url: str
    lesson_count: int
    duration_minutes: int
    learners: int


class CoursePage(BaseModel):
    items: list[CourseSummary]
    total: int = Field(description="Courses matching the query, on every page.")
    page: int
    pages: int
    per_page: int


class LessonOut(BaseModel):
    id: int
    title: str
    kind: LessonKind
    duration_minutes: int
    locked: bool | None = Field(
        default=None, description="Whether the calling learner may not open it yet (release "
        "rules, prerequisites); null when the caller is not learning the course.")
    reason: str | None = Field(default=None, description="Why it is locked, in the learner's "
                               "words (times in the course's zone); null when open.")
    opens_at: datetime | None = Field(default=None, description="When it opens, if time is all "
                                      "that stands in the way; null otherwise.")
    due_at: datetime | None = Field(default=None, description="A quiz that closes: when it "
                                    "closes for the calling learner (their extension included).")
    closed: bool | None = Field(default=None, description="A quiz that closes: whether it has: "
                                "no new attempt can start.")


class ModuleOut(BaseModel):
    id: int
    title: str
    lessons: list[LessonOut]


class CourseDetail(BaseModel):
    slug: str
    title: str
    subtitle: str
    description: str = Field(description="Markdown, as the author wrote it.")
    description_html: str = Field(description="The description rendered and sanitised, as the site "
                                              "shows it.")
    level: CourseLevel
    category: str
    instructor: str
    price_cents: int
    currency: str
    cover_image_url: str
    is_published: bool = Field(description="False only for drafts, which only their staff see.")
    modules: list[ModuleOut]
    enrollment_status: EnrollmentStatus | None = Field(
        description="The caller's enrollment; null when anonymous or not enrolled.")

    @classmethod
    def of(cls, outline: CourseOutline, description_html: str, *,
           access: Mapping[int, Access] | None = None, due: Mapping[int, Due] | None = None,
           now: datetime | None = None) -> CourseDetail:
        """`access` and `due`: the calling learner's (services/access.py, services/deadlines.py),
        None for anyone not learning the course; an empty `access` means every lesson is open."""
        course = outline.course

        def lesson_out(lesson: LessonRef) -> LessonOut:
            found = access.get(lesson.id) if access is not None else None
            closes = due.get(lesson.id) if due is not None else None
            return LessonOut(
                id=lesson.id, title=lesson.title, kind=LessonKind(lesson.kind),
                duration_minutes=lesson.duration_minutes,
                locked=None if access is None else found is not None and not found.is_open,
                reason=found.reason if found is not None and not found.is_open else None,
                opens_at=found.opens_at if found is not None and not found.is_open else None,
                due_at=closes.due_at if closes else None,
                closed=closes.closed(now) if closes and now is not None else None)

        return cls(
            slug=course.slug, title=course.title, subtitle=course.subtitle,
            description=course.description, description_html=description_html, level=course.level,
            category=outline.category, instructor=outline.instructor,
            price_cents=course.price_cents, currency=course.currency,
            cover_image_url=course.cover_image_url, is_published=course.is_published,
            modules=[ModuleOut(id=module.id, title=module.title,
                               lessons=[lesson_out(lesson) for lesson in module.lessons])
                     for module in outline.modules],
            enrollment_status=outline.enrollment.status if outline.enrollment else None)


class EnrollmentOut(BaseModel):
    course_slug: str
    course_title: str
    subtitle: str
    instructor: str
    cover_image_url: str
    status: EnrollmentStatus
    percent: int
    done: int
    total: int
    resume_lesson_id: int | None = Field(
        description="The next lesson to learn, or the first once all are done.")

    @classmethod
    def of(cls, entry: DashboardEntry) -> EnrollmentOut:
        return cls(course_slug=entry.slug, course_title=entry.title, subtitle=entry.subtitle,
                   instructor=entry.instructor, cover_image_url=entry.cover_image_url,
                   status=EnrollmentStatus(entry.status), percent=entry.percent, done=entry.done,
                   total=entry.total, resume_lesson_id=entry.resume_lesson_id)


class ProgressSummary(BaseModel):
    percent: int
    done: int
    total: int
    is_complete: bool
    completed_lesson_ids: list[int] = Field(description="In course order.")
    next_lesson_id: int | None = Field(description="The first lesson not completed yet.")

    @classmethod
    def of(cls, progress: CourseProgress) -> ProgressSummary:
        return cls(percent=progress.percent, done=progress.done, total=progress.total,
                   is_complete=progress.is_complete,
                   completed_lesson_ids=[lid for lid in progress.lesson_ids
                                         if lid in progress.completed],
                   next_lesson_id=progress.next_lesson_id)


class CourseProgressOut(ProgressSummary):
    course_slug: str
    enrollment_status: EnrollmentStatus | None = Field(
        description="Null when not enrolled (progress is then empty).")


class LessonCompletion(BaseModel):
    lesson_id: int
    completed: bool
    course: ProgressSummary = Field(description="The progress of the lesson's course afterwards.")


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # from a Notification row: these fields only

    id: int
    kind: str
    title: str
    body: str
    link: str = Field(description="A path on the site, or empty.")
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    unread: int
    items: list[NotificationOut] = Field(description="The newest first, read or not.")


class MarkedRead(BaseModel):
    marked: int = Field(description="How many notifications were unread until now.")


class ThreadOut(BaseModel):
    """A discussion thread as the caller may see it: an anonymous author is "Anonymous" to other
    learners, and no author id is ever here."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Literal["question", "discussion"]
    title: str
    author: str
    lesson_title: str
    href: str = Field(description="The lesson page the thread is under.")
    replies: int
    upvotes: int
    answered: bool = Field(description="The course's staff replied, or an answer was accepted.")
    accepted: bool
    created_at: datetime
    hidden: bool = Field(description='Hidden by a moderator: to learners its title is "Hidden by a '
                                     'moderator" and nothing else of it is sent.')
    held: bool = Field(description="Waiting for a moderator's review (a new account's post with a "
                                   "link): only its author and the course's staff get it.")


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: str = Field(description='"Anonymous" to other learners for an anonymous post; empty '
                                    "for a deleted one.")
    staff: bool
    body_html: str = Field(description="The Markdown rendered and sanitised, as on the site.")
    created_at: datetime
    edited: bool
    deleted: bool
    upvotes: int
    voted: bool
    accepted: bool
    endorsed: bool
    mine: bool
    hidden: bool = Field(description="Hidden by a moderator: to learners its author and body are "
                                     "empty.")
    held: bool = Field(description="Waiting for a moderator's review: only its author and the "
                                   "course's staff get it.")


class ThreadDetailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    thread: ThreadOut
    opening: PostOut
    replies: list[PostOut] = Field(description="Oldest first.")
    following: bool


class CertificateOut(BaseModel):
    status: Literal["valid", "revoked"]
    code: str = Field(examples=["7K3D-9QXM-2B8F-TR4W"])
    student_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime
    revoked_at: datetime | None = Field(description="Set when revoked (the reason stays private).")


# Quizzes: what a learner sees of a quiz and of their attempts (attempts.py), never a key before
# the attempt is submitted.

class QuizAttemptSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_id: int
    number: int
    started_at: datetime
    submitted_at: datetime | None
    percent: float | None
    passed: bool | None


class QuizStatusOut(BaseModel):
    """A quiz's settings and the caller's record on it."""

    model_config = ConfigDict(from_attributes=True)

    quiz_id: int
    lesson_id: int
    title: str
    pass_percent: int
    max_attempts: int | None = Field(description="None: unlimited.")
    attempt_scoring: AttemptScoring
    time_limit_minutes: int | None
    show_answers: ShowAnswers
    attempts: list[QuizAttemptSummary]
    kept_percent: float | None = Field(description="The caller's score on the quiz, by its scoring.")
    passed: bool
    open_attempt_id: int | None = Field(description="An attempt being taken: resume it.")
    can_start: bool
    due_at: datetime | None = Field(description="When the quiz closes for the caller (their "
                                    "extension included); null: never.")
    extended: bool = Field(description="That close is an extension given to the caller.")
    closed: bool = Field(description="It has closed: no new attempt can start (409), and an "
                         "open attempt stopped at the close.")


class QuizChoice(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int = Field(description="What an answer names.")
    text: str


class QuizQuestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version_id: int = Field(description="Answer it at .../answers/{version_id}.")
    kind: QuestionKind
    stem: str = Field(description="Markdown.")
    points: float
    choices: list[QuizChoice] = Field(
        description="Options or items in the order shown; matching: the left sides.")
    targets: list[QuizChoice] = Field(description="Matching: the right sides.")
    response: dict[str, Any] | None = Field(description="The caller's saved answer.")


class QuizAttemptOut(BaseModel):
    """An attempt being taken: its questions without any answer key."""

    model_config = ConfigDict(from_attributes=True)

    attempt_id: int
    quiz_id: int
    lesson_id: int
    title: str
    number: int
    started_at: datetime
    deadline: datetime | None = Field(description="Answers after it are refused (409).")
    submitted: bool
    questions: list[QuizQuestionOut]


class QuizAnswerIn(BaseModel):
    """One answer, by kind: {"choice": 0} single; {"choices": [0, 2]} multiple; {"value": true}
    true/false; {"value": "3.5"} numeric; {"text": "def"} short text; {"order": [2, 0, 1]}
    ordering; {"matches": {"0": 1, "1": 0}} matching (left index → right index)."""

    model_config = ConfigDict(extra="forbid")

    response: dict[str, Any]


class QuizAnswerSaved(BaseModel):
    version_id: int
    response: dict[str, Any] = Field(description="As stored (numbers parsed, text trimmed).")


class QuizQuestionResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    question: QuizQuestionOut
    points: float
    max_points: float
    correct: bool
    key: str = Field(description="The right answer in words; empty when the quiz does not show it.")
    explanation: str
    feedback: list[str]


class QuizResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_id: int
    quiz_id: int
    number: int
    submitted_at: datetime
    points: float
    max_points: float
    percent: float
    passed: bool = Field(description="This attempt reached the pass mark.")
    kept_percent: float | None
    quiz_passed: bool
    answers_shown: bool
    questions: list[QuizQuestionResult]
