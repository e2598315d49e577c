"""SQLModel tables and enums: the academy's data, with the constraints that keep it whole.

Uniqueness that a double click or a race could break (one enrollment per learner and course, one
progress row per learner and lesson, one account per email) is enforced by the database, not only by
the services, so concurrent requests cannot create duplicates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """In UTC: SQLite hands back naive datetimes (stored as UTC), PostgreSQL the session's zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _enum(enum_cls: type[StrEnum]) -> sa.Enum:
    # Stored as plain strings (no native PostgreSQL enum) so adding a value is a one-line migration.
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _timestamp(*, nullable: bool = False, index: bool = False) -> dict:
    return {"sa_type": sa.DateTime(timezone=True), "nullable": nullable, "index": index}


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class CourseLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class LessonKind(StrEnum):
    TEXT = "text"
    VIDEO = "video"
    QUIZ = "quiz"  # its settings and questions: Quiz, QuizQuestion (services/quizzes.py)


class GradeWeighting(StrEnum):
    """How a course's quizzes add up to its overall grade (services/certificate_rule.py)."""

    POINTS = "points"  # each quiz counts by its points
    QUIZ_WEIGHT = "quiz_weight"  # each quiz counts by the weight the instructor gave it


class EnrollmentStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.STUDENT, sa_type=_enum(Role))
    is_active: bool = Field(default=True)
    # Email on or off per topic (services/email_preferences.py): the account page and the signed
    # unsubscribe link in each email set them; the bell shows everything whatever they say.
    email_reminders: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    email_course_updates: bool = Field(default=True,
                                       sa_column_kwargs={"server_default": sa.true()})
    email_discussions: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    email_releases: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    email_payments: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # The stored avatar's name ('' for none): a new picture gets a new name, so its address can be
    # cached for good (services/profile.py).
    avatar: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())


class LoginSession(SQLModel, table=True):
    """A server-side login. The browser holds a random token; only its SHA-256 is stored."""

    __tablename__ = "login_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    expires_at: datetime = Field(**_timestamp(index=True))  # the absolute timeout
    # The idle timeout counts from here. Moved forward at most once per few minutes
    # (accounts.LAST_SEEN_RESOLUTION), so an event does not write the database every time.
    last_seen_at: datetime = Field(default_factory=utcnow, **_timestamp())


class PasswordReset(SQLModel, table=True):
    """A password-reset link. The email carries a random 256-bit token; only its SHA-256 is stored.
    Used once (a conditional UPDATE sets `used_at`), valid for an hour, and a newer request for the
    same account deletes the older unused ones."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    expires_at: datetime = Field(**_timestamp(index=True))
    used_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class EmailChange(SQLModel, table=True):
    """A change of address waiting for its confirmation link, sent to the new address. As with a
    password reset, only a SHA-256 of the link's token is stored; used once, it expires, and a newer
    request of the same user deletes the older ones. The address changes only when it is used."""

    __tablename__ = "email_changes"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    new_email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    expires_at: datetime = Field(**_timestamp(index=True))
    used_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    slug: str = Field(max_length=80, unique=True, index=True)


class Course(SQLModel, table=True):
    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("price_cents >= 0", name="ck_courses_price_not_negative"),
        sa.Index("ix_courses_published_created", "is_published", "created_at"),
        sa.CheckConstraint("min_grade_percent IS NULL OR "
                           "(min_grade_percent >= 0 AND min_grade_percent <= 100)",
                           name="ck_courses_min_grade_percent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    title: str = Field(max_length=160)
    subtitle: str = Field(default="", max_length=255)
    description: str = Field(default="", sa_type=sa.Text)
    level: CourseLevel = Field(default=CourseLevel.BEGINNER, sa_type=_enum(CourseLevel), index=True)
    category_id: int | None = Field(default=None, foreign_key="categories.id", index=True)
    price_cents: int = Field(default=0)
    currency: str = Field(default="USD", max_length=3)
    is_published: bool = Field(default=False)
    instructor_id: int = Field(foreign_key="users.id", index=True)
    cover_image_url: str = Field(default="", max_length=500)
    # An uploaded cover (services/covers.py): the key its resized files are named by, empty for
    # none, and what it shows for people who cannot see it (empty: the course's title).
    cover_key: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    cover_alt: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # The certificate rule's optional minimum overall grade over the graded quizzes, and how the
    # quizzes are weighted in it (services/certificate_rule.py).
    min_grade_percent: int | None = Field(default=None)
    grade_weighting: GradeWeighting = Field(
        default=GradeWeighting.POINTS, sa_type=_enum(GradeWeighting),
        sa_column_kwargs={"server_default": GradeWeighting.POINTS.value})
    # The IANA zone the instructor's dates mean (release rules, cohorts: services/access.py).
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0


class Module(SQLModel, table=True):
    __tablename__ = "modules"
    __table_args__ = (sa.Index("ix_modules_course_position", "course_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    title: str = Field(max_length=160)
    position: int = Field(default=0)


class Lesson(SQLModel, table=True):
    __tablename__ = "lessons"
    __table_args__ = (sa.Index("ix_lessons_module_position", "module_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    module_id: int = Field(foreign_key="modules.id", ondelete="CASCADE")
    title: str = Field(max_length=160)
    kind: LessonKind = Field(default=LessonKind.TEXT, sa_type=_enum(LessonKind))
    body: str = Field(default="", sa_type=sa.Text)
    video_url: str = Field(default="", max_length=500)
    # A video lesson's still frame before it plays, and its WebVTT captions (the transcript under
    # the video is read from them). Small enough to keep in the row; served by /lessons/<id>/…
    poster_url: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    captions_vtt: str = Field(default="", sa_type=sa.Text,
                              sa_column_kwargs={"server_default": ""})
    duration_minutes: int = Field(default=5, ge=0)
    position: int = Field(default=0)


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", name="uq_enrollments_user_course"),
        sa.Index("ix_enrollments_course_status", "course_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    status: EnrollmentStatus = Field(
        default=EnrollmentStatus.ACTIVE, sa_type=_enum(EnrollmentStatus)
    )
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())
    completed_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    # At most one cohort of its course (services/access.py checks the course, seats and window).
    cohort_id: int | None = Field(default=None, foreign_key="cohorts.id", index=True,
                                  ondelete="SET NULL")


class LessonProgress(SQLModel, table=True):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    completed_at: datetime = Field(default_factory=utcnow, **_timestamp())


# --- Learning paths: release rules, prerequisites, cohorts, overrides (services/access.py) -------
# Instructors type dates as wall-clock times of the course's zone; they are kept that way (naive)
# and turned into an instant when read, so a DST change or a new course zone moves them correctly.


class ReleaseKind(StrEnum):
    ON_DATE = "on_date"  # opens_at_local, in the course's zone
    AFTER_ENROLMENT = "after_enrolment"  # `days` after the learner enrolled
    AFTER_COHORT_START = "after_cohort_start"  # `days` after the learner's cohort starts
    AFTER_COMPLETION = "after_completion"  # after_lesson_id complete (min_score_percent on a quiz)
    IN_SEQUENCE = "in_sequence"  # after the lesson before it, in course order, is complete


class ReleaseRule(SQLModel, table=True):
    """When a module or a lesson opens: one rule per module and one per lesson. A module's rule
    applies to each of its lessons; a lesson opens once both its module's rule and its own allow."""

    __tablename__ = "release_rules"
    __table_args__ = (
        sa.CheckConstraint("(module_id IS NULL) <> (lesson_id IS NULL)",
                           name="ck_release_rules_one_target"),
        sa.CheckConstraint("days IS NULL OR (days >= 0 AND days <= 3650)",
                           name="ck_release_rules_days"),
        sa.CheckConstraint("min_score_percent IS NULL OR "
                           "(min_score_percent >= 0 AND min_score_percent <= 100)",
                           name="ck_release_rules_min_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    module_id: int | None = Field(default=None, foreign_key="modules.id", unique=True,
                                  ondelete="CASCADE")
    lesson_id: int | None = Field(default=None, foreign_key="lessons.id", unique=True,
                                  ondelete="CASCADE")
    kind: ReleaseKind = Field(sa_type=_enum(ReleaseKind))
    opens_at_local: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=False))
    days: int | None = Field(default=None)
    after_lesson_id: int | None = Field(default=None, foreign_key="lessons.id", index=True,
                                        ondelete="CASCADE")
    min_score_percent: int | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())


class PrerequisiteKind(StrEnum):
    COMPLETED = "completed"  # the learner's enrollment in the required course is completed
    CERTIFICATE = "certificate"  # the learner holds the required course's certificate (unrevoked)


class CoursePrerequisite(SQLModel, table=True):
    """Course `course_id` opens only once the learner meets this about `required_course_id`."""

    __tablename__ = "course_prerequisites"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "required_course_id",
                            name="uq_course_prerequisites_course_required"),
        sa.CheckConstraint("course_id <> required_course_id", name="ck_course_prerequisites_other"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    required_course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    kind: PrerequisiteKind = Field(default=PrerequisiteKind.COMPLETED,
                                   sa_type=_enum(PrerequisiteKind))
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class Cohort(SQLModel, table=True):
    """A run of a course: learners who start together. `seats_taken` moves by conditional UPDATEs
    (services/access.py), so two learners racing for the last seat cannot both get it."""

    __tablename__ = "cohorts"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "name", name="uq_cohorts_course_name"),
        sa.CheckConstraint("capacity >= 1", name="ck_cohorts_capacity"),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity",
                           name="ck_cohorts_seats_within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    starts_at_local: datetime = Field(sa_type=sa.DateTime(timezone=False))
    capacity: int = Field(default=30)
    seats_taken: int = Field(default=0)
    # Learners may join from/until these wall-clock times (course zone); None: no bound.
    enrol_from_local: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=False))
    enrol_until_local: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=False))
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())


class AccessOverride(SQLModel, table=True):
    """An instructor opened a lesson, a module or a whole course early for one learner. Revoking
    keeps the row (`revoked_at`); the audit log has both. `scope_key` ("course:1", "module:2",
    "lesson:3") makes one live override per learner and target a database rule."""

    __tablename__ = "access_overrides"
    __table_args__ = (
        sa.Index("uq_access_overrides_one_live", "user_id", "scope_key", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"),
                 postgresql_where=sa.text("revoked_at IS NULL")),
        sa.Index("ix_access_overrides_user_course", "user_id", "course_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    module_id: int | None = Field(default=None, foreign_key="modules.id", ondelete="CASCADE")
    lesson_id: int | None = Field(default=None, foreign_key="lessons.id", ondelete="CASCADE")
    scope_key: str = Field(max_length=40)
    reason: str = Field(default="", max_length=500)
    granted_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    granted_at: datetime = Field(default_factory=utcnow, **_timestamp())
    revoked_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    revoked_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class DeadlineExtension(SQLModel, table=True):
    """An instructor moved a quiz's closing time for one learner. Revoking keeps the row
    (`revoked_at`) and the quiz's own closing time applies again; the audit log has both. At most
    one live extension per learner and quiz: a database rule, so a double click makes one."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (
        sa.Index("uq_deadline_extensions_one_live", "user_id", "quiz_id", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"),
                 postgresql_where=sa.text("revoked_at IS NULL")),
        sa.Index("ix_deadline_extensions_user_course", "user_id", "course_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    quiz_id: int = Field(foreign_key="quizzes.id", index=True, ondelete="CASCADE")
    closes_at_local: datetime = Field(sa_type=sa.DateTime(timezone=False))  # the course's zone
    reason: str = Field(default="", max_length=500)
    granted_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    granted_at: datetime = Field(default_factory=utcnow, **_timestamp())
    revoked_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    revoked_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class ReleaseNotice(SQLModel, table=True):
    """One per learner, course and release day (in the course's zone): the key that makes the
    "what opened today" email go once, however often the beat task runs."""

    __tablename__ = "release_notices"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", "release_day",
                            name="uq_release_notices_user_course_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    release_day: date = Field(sa_type=sa.Date)
    lesson_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class PaymentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Coupon(SQLModel, table=True):
    __tablename__ = "coupons"
    __table_args__ = (
        sa.CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="ck_coupons_uses_within_max"),
        sa.CheckConstraint("value > 0", name="ck_coupons_value_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)  # stored upper-case
    kind: DiscountKind = Field(sa_type=_enum(DiscountKind))
    value: int  # percent (1-100) or an amount in cents
    # A fixed amount is money, so it has a currency; it only applies to courses priced in it.
    currency: str = Field(default="", max_length=3, sa_column_kwargs={"server_default": ""})
    course_id: int | None = Field(default=None, foreign_key="courses.id", ondelete="CASCADE")
    expires_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    max_uses: int | None = Field(default=None)
    uses: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class CouponRedemption(SQLModel, table=True):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        sa.UniqueConstraint("coupon_id", "user_id", name="uq_coupon_redemptions_coupon_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coupon_id: int = Field(foreign_key="coupons.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    payment_id: int | None = Field(default=None, foreign_key="payments.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        sa.Index("ix_payments_status_created", "status", "created_at"),
        # One open payment per learner and course: a double-clicked "Submit payment" adds nothing.
        sa.Index("uq_payments_one_pending", "user_id", "course_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"),
                 postgresql_where=sa.text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    amount_cents: int
    currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=120)
    receipt_file: str = Field(default="", max_length=255)  # name inside the receipts folder
    receipt_type: str = Field(default="", max_length=40)
    coupon_id: int | None = Field(default=None, foreign_key="coupons.id", ondelete="SET NULL")
    status: PaymentStatus = Field(default=PaymentStatus.PENDING, sa_type=_enum(PaymentStatus))
    reviewer_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    reason: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class Notification(SQLModel, table=True):
    """Stored before anything is pushed, so a learner who was offline catches up from here."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        # The bell's newest ids on every page load: read in index order, no sort.
        sa.Index("ix_notifications_user_newest", "user_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    title: str = Field(max_length=160)
    body: str = Field(default="", sa_type=sa.Text)
    link: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    read_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class AuditEntry(SQLModel, table=True):
    """Every staff action: who did what to which row, and the row before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True,
                                 ondelete="SET NULL")
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=40)
    entity_id: int | None = Field(default=None)
    before: str = Field(default="{}", sa_type=sa.Text)  # JSON
    after: str = Field(default="{}", sa_type=sa.Text)  # JSON
    created_at: datetime = Field(default_factory=utcnow, **_timestamp(index=True))


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class EmailLog(SQLModel, table=True):
    """Every email the academy sends, one row per (kind, entity): the key that makes a retried task,
    a redelivered message or a double click send nothing twice."""

    __tablename__ = "email_log"
    # The jobs page lists one status newest first, a page at a time (services/emails.newest).
    __table_args__ = (sa.Index("ix_email_log_status_created", "status", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    dedupe_key: str = Field(max_length=200, unique=True)  # "<kind>:<entity>:<id>"
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True,
                                ondelete="SET NULL")
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    context: str = Field(default="{}", sa_type=sa.Text)  # JSON for the templates
    status: EmailStatus = Field(default=EmailStatus.QUEUED, sa_type=_enum(EmailStatus), index=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_type=sa.Text)
    # The task (Celery id) sending it, and until when: a second copy of the task (re-queued by the
    # sweeper, redelivered by the broker) finds it claimed and stands down.
    claimed_by: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    claimed_until: datetime | None = Field(default=None, **_timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, **_timestamp(index=True))
    sent_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class Certificate(SQLModel, table=True):
    """Proof that a learner completed a course: one per learner and course, checked by its code.

    Names and title are copied when it is issued, so it keeps saying what it said that day.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", name="uq_certificates_user_course"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # 16 Crockford base-32 characters: 80 random bits
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")  # led by the unique key
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    student_name: str = Field(max_length=120)
    course_title: str = Field(max_length=160)
    instructor_name: str = Field(max_length=120)
    issued_at: datetime = Field(default_factory=utcnow, **_timestamp(index=True))
    # Set by the task once the PDF is on disk; the learner is told then, and only then.
    file_ready_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    revoked_reason: str = Field(default="", sa_type=sa.Text)
    revoked_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class StudyGroup(SQLModel, table=True):
    """Learners of one course who meet to study together. The course's instructor (or an admin)
    runs it; the workspace page is declared with the admin kit (admin/study_groups.py).

    Titles and descriptions of the fields are what the kit's form shows as labels and hints."""

    __tablename__ = "study_groups"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 2 AND capacity <= 500", name="ck_study_groups_capacity"),
        # The list's default order (by name) and its course filter, both read in index order.
        sa.Index("ix_study_groups_name_id", "name", "id"),
        sa.Index("ix_study_groups_course_name_id", "course_id", "name", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, title="Name")
    description: str = Field(default="", max_length=2000, sa_type=sa.Text, title="Description",
                             description="What the group works on, and how often it meets")
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE", title="Course")
    capacity: int = Field(default=12, ge=2, le=500, title="Seats",
                          description="How many learners can join, from 2 to 500")
    meeting_url: str = Field(default="", max_length=500, title="Meeting link",
                             description="An https:// link to the video call; may stay empty")
    is_open: bool = Field(default=True, title="Open to join")
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL",
                                      title="Created by")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())


class AttemptScoring(StrEnum):
    """Which of a learner's attempts make their score on a quiz."""

    HIGHEST = "highest"
    LAST = "last"
    AVERAGE = "average"
    FIRST = "first"


class ShowAnswers(StrEnum):
    """When a learner sees the right answers and explanations of an attempt they submitted."""

    AFTER_SUBMIT = "after_submit"
    AFTER_PASS = "after_pass"
    NEVER = "never"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    NUMERIC = "numeric"
    SHORT_TEXT = "short_text"
    ORDERING = "ordering"
    MATCHING = "matching"


class Quiz(SQLModel, table=True):
    """The settings of a quiz lesson (one per lesson of kind quiz)."""

    __tablename__ = "quizzes"
    __table_args__ = (
        sa.CheckConstraint("pass_percent >= 0 AND pass_percent <= 100", name="ck_quizzes_pass_percent"),
        sa.CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="ck_quizzes_max_attempts"),
        sa.CheckConstraint("time_limit_minutes IS NULL OR time_limit_minutes >= 1",
                           name="ck_quizzes_time_limit"),
        sa.CheckConstraint("draw_count IS NULL OR draw_count >= 1", name="ck_quizzes_draw_count"),
        sa.CheckConstraint("weight >= 0", name="ck_quizzes_weight"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", unique=True, ondelete="CASCADE")
    pass_percent: int = Field(default=70)
    max_attempts: int | None = Field(default=None)  # None: unlimited
    attempt_scoring: AttemptScoring = Field(default=AttemptScoring.HIGHEST,
                                            sa_type=_enum(AttemptScoring))
    time_limit_minutes: int | None = Field(default=None)  # None: no limit
    shuffle_questions: bool = Field(default=False)
    shuffle_options: bool = Field(default=False)
    # Draw `draw_count` questions per attempt (None: all) from the quiz's questions, or from the
    # course's bank questions tagged `draw_tag` when it is set.
    draw_count: int | None = Field(default=None)
    draw_tag: str = Field(default="", max_length=40)
    show_answers: ShowAnswers = Field(default=ShowAnswers.AFTER_SUBMIT, sa_type=_enum(ShowAnswers))
    weight: int = Field(default=1)  # in the overall grade, when the course weights by quiz
    is_graded: bool = Field(default=True)  # a graded quiz must be passed for the certificate
    # "Closes on": wall clock of the course's zone (as release rules), None for never. After it no
    # attempt starts and an open one stops (services/deadlines.py); an extension moves it per learner.
    closes_at_local: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=False))
    updated_at: datetime = Field(default_factory=utcnow, **_timestamp())


class Question(SQLModel, table=True):
    """A question of a course's bank. What it asks lives in its versions: an edit adds one."""

    __tablename__ = "questions"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    kind: QuestionKind = Field(sa_type=_enum(QuestionKind))
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # lower-case, sorted
    latest_version: int = Field(default=1)
    # Removed from the bank: no quiz uses it any more, the attempts that did keep its versions.
    archived: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class QuestionVersion(SQLModel, table=True):
    """One version of a question, never changed once written: an attempt points at the versions
    it was taken with, so editing a question never changes a grade already given."""

    __tablename__ = "question_versions"
    __table_args__ = (
        sa.UniqueConstraint("question_id", "number", name="uq_question_versions_question_number"),
        sa.CheckConstraint("points > 0", name="ck_question_versions_points_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="questions.id", ondelete="CASCADE")
    number: int
    stem: str = Field(sa_type=sa.Text)  # Markdown
    points: float = Field(default=1.0)
    spec: dict = Field(sa_type=sa.JSON)  # the answer key, per kind (services/grading.py)
    explanation: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class QuizQuestion(SQLModel, table=True):
    __tablename__ = "quiz_questions"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "question_id", name="uq_quiz_questions_quiz_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    quiz_id: int = Field(foreign_key="quizzes.id", ondelete="CASCADE")
    question_id: int = Field(foreign_key="questions.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)


class QuizAttempt(SQLModel, table=True):
    """One sitting of a quiz by a learner. `layout` is what was drawn, in the order shown:
    [{"version": question version id, "order": [spec index, ...] as shown}, ...]."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "user_id", "number", name="uq_quiz_attempts_quiz_user_number"),
        # One open attempt per learner and quiz: a double-clicked "Start" resumes it.
        sa.Index("uq_quiz_attempts_one_open", "quiz_id", "user_id", unique=True,
                 sqlite_where=sa.text("submitted_at IS NULL"),
                 postgresql_where=sa.text("submitted_at IS NULL")),
        sa.Index("ix_quiz_attempts_user", "user_id", "quiz_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    quiz_id: int = Field(foreign_key="quizzes.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    number: int
    started_at: datetime = Field(default_factory=utcnow, **_timestamp())
    # The earlier of the time limit's end and the quiz's close for this learner; answers after it
    # are refused and not graded. Recomputed from `time_limit_at` when the close moves.
    deadline: datetime | None = Field(default=None, **_timestamp(nullable=True))
    time_limit_at: datetime | None = Field(default=None, **_timestamp(nullable=True))  # None: no limit
    submitted_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    points: float | None = Field(default=None)
    max_points: float = Field(default=0.0)
    percent: float | None = Field(default=None)
    passed: bool | None = Field(default=None)
    layout: list[dict] = Field(default_factory=list, sa_type=sa.JSON)


class AttemptAnswer(SQLModel, table=True):
    """A learner's answer to one question of an attempt, saved as given; graded on submit."""

    __tablename__ = "attempt_answers"
    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "question_version_id",
                            name="uq_attempt_answers_attempt_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="quiz_attempts.id", ondelete="CASCADE")
    question_version_id: int = Field(foreign_key="question_versions.id", index=True,
                                     ondelete="CASCADE")
    response: dict = Field(sa_type=sa.JSON)
    saved_at: datetime = Field(default_factory=utcnow, **_timestamp())
    points: float | None = Field(default=None)
    correct: bool | None = Field(default=None)


# --- Open Badges credentials (services/credentials.py) ------------------------------------------


class IssuerKey(SQLModel, table=True):
    """The public half of every key that ever signed a credential, recorded when it first signs:
    the issuer document lists them all, so a credential keeps verifying after its key is rotated
    out of `ACADEMY_CREDENTIAL_ISSUER_KEY`. The secret half is never stored."""

    __tablename__ = "issuer_keys"

    id: int | None = Field(default=None, primary_key=True)
    public_key_multibase: str = Field(max_length=64, unique=True)  # z6Mk…
    # What it signed from and until: a credential's proof was made between the two.
    first_signed_at: datetime = Field(default_factory=utcnow, **_timestamp())
    last_signed_at: datetime = Field(default_factory=utcnow, **_timestamp())


class Credential(SQLModel, table=True):
    """A certificate's signed Open Badges 3.0 credential, kept as signed: served byte for byte the
    same until what it says changes (`facts_digest`), when it is signed again."""

    __tablename__ = "credentials"

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificates.id", unique=True, ondelete="CASCADE")
    issuer_key_id: int = Field(foreign_key="issuer_keys.id", ondelete="RESTRICT")
    facts_digest: str = Field(max_length=64)  # SHA-256 of what the credential says
    document: str = Field(sa_type=sa.Text)  # the signed JSON
    signed_at: datetime = Field(default_factory=utcnow, **_timestamp())


class CredentialStatusList(SQLModel, table=True):
    """A signed Bitstring Status List credential (revocations of one range of certificates), kept
    until the set of revoked certificates in its range changes (`revoked_digest`)."""

    __tablename__ = "credential_status_lists"

    list_number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revoked_digest: str = Field(max_length=64)
    document: str = Field(sa_type=sa.Text)
    signed_at: datetime = Field(default_factory=utcnow, **_timestamp())


class ThreadKind(StrEnum):
    QUESTION = "question"
    DISCUSSION = "discussion"


class DiscussionThread(SQLModel, table=True):
    """A question or a discussion under one lesson (services/discussions.py holds the rules).

    Its opening text is its first post, so editing, deleting, voting and anonymity work the same
    for every post. The course is copied from the lesson so course-wide search and the instructor's
    inbox read one table."""

    __tablename__ = "discussion_threads"
    __table_args__ = (
        sa.Index("ix_discussion_threads_lesson_created", "lesson_id", "created_at"),
        # The inbox: a course's questions nobody answered yet, oldest first.
        sa.Index("ix_discussion_threads_course_answered", "course_id", "answered_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    lesson_id: int = Field(foreign_key="lessons.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: ThreadKind = Field(default=ThreadKind.QUESTION, sa_type=_enum(ThreadKind))
    title: str = Field(max_length=160)
    # The accepted answer (a post of this thread); no foreign key, as posts point back here.
    accepted_post_id: int | None = Field(default=None)
    # Set when the course's staff reply or an answer is accepted: the inbox lists the others.
    answered_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    reply_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    last_activity_at: datetime = Field(default_factory=utcnow, **_timestamp())
    # Hidden by the course's staff: learners see a placeholder, never its title or posts.
    hidden_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class DiscussionPost(SQLModel, table=True):
    """The opening text of a thread or a reply to it. Deleting one only blanks it (`deleted_at`),
    so the thread around it stays readable."""

    __tablename__ = "discussion_posts"
    __table_args__ = (
        # A retried or double-clicked post carries the same request id: it is stored once.
        sa.UniqueConstraint("author_id", "request_id", name="uq_discussion_posts_author_request"),
        sa.Index("ix_discussion_posts_thread_created", "thread_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="discussion_threads.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    request_id: str = Field(max_length=64)
    is_opening: bool = Field(default=False)
    body: str = Field(default="", sa_type=sa.Text)
    anonymous: bool = Field(default=False)  # to other learners; staff always see the author
    upvotes: int = Field(default=0)
    endorsed_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    edited_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    deleted_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    # Hidden by the course's staff (and undone by them): learners see a placeholder only.
    hidden_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    # Held for review (a new account's post with a link, ACADEMY_DISCUSSION_HOLD_LINKS_DAYS): only
    # its author and the course's staff see it. Approving clears it; rejecting sets `deleted_at`
    # beside it, and then nobody sees it.
    held_at: datetime | None = Field(default=None, **_timestamp(nullable=True))


class DiscussionVote(SQLModel, table=True):
    __tablename__ = "discussion_votes"
    __table_args__ = (sa.UniqueConstraint("post_id", "user_id", name="uq_discussion_votes_post_user"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="discussion_posts.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())


class DiscussionFollow(SQLModel, table=True):
    """Who hears of a thread's new replies and its accepted answer. Asking or replying adds a row
    once; an explicit unfollow keeps it with `active` false, so replying later does not undo it."""

    __tablename__ = "discussion_follows"
    __table_args__ = (
        sa.UniqueConstraint("thread_id", "user_id", name="uq_discussion_follows_thread_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="discussion_threads.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    active: bool = Field(default=True)


class DiscussionFlag(SQLModel, table=True):
    """A reader's report that a post needs a moderator's look: one open flag per post and reader
    (a partial unique index, so a double click stores one). Resolved when the staff hide the post
    or dismiss it; a reader may flag a post again after a dismissal, as a new row."""

    __tablename__ = "discussion_flags"
    __table_args__ = (
        sa.Index("uq_discussion_flags_one_open", "post_id", "user_id", unique=True,
                 sqlite_where=sa.text("resolved_at IS NULL"),
                 postgresql_where=sa.text("resolved_at IS NULL")),
        # The moderation queue: open flags, oldest first.
        sa.Index("ix_discussion_flags_resolved_created", "resolved_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="discussion_posts.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    resolved_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
class CourseReview(SQLModel, table=True):
    """A learner's rating and review of a course (services/reviews.py holds the rules): one per
    learner and course, by a unique key, so a double click or a second tab edits the same row.
    The course's staff may answer it once; editing the answer rewrites it."""

    __tablename__ = "course_reviews"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id", name="uq_course_reviews_course_user"),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name="ck_course_reviews_rating"),
        # The course page lists a course's reviews newest first.
        sa.Index("ix_course_reviews_course_created", "course_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    rating: int
    body: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, **_timestamp())
    edited_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
    reply: str = Field(default="", sa_type=sa.Text)
    reply_author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    replied_at: datetime | None = Field(default=None, **_timestamp(nullable=True))
