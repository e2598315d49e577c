"""What staff learn about their courses: the learners table, its CSV export, and analytics."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from academy_app.models import (
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Module,
    Payment,
    PaymentStatus,
    Role,
    User,
    as_utc,
    utcnow,
)
from academy_app.services.authoring import course_for_editing, lesson_count
from academy_app.services.permissions import require_staff

LEARNER_SORTS = ("name", "status", "percent", "activity")
ANALYTICS_DAYS = 30


@dataclass(frozen=True)
class LearnerRow:
    name: str
    email: str
    status: str
    percent: int
    done: int
    total: int
    last_activity: datetime


@dataclass(frozen=True)
class FunnelStep:
    lesson: str
    learners: int


@dataclass(frozen=True)
class Analytics:
    enrollments_by_day: list[tuple[date, int]]  # the last ANALYTICS_DAYS days, oldest first
    funnel: list[FunnelStep]  # one course only: learners who completed each lesson, in order
    revenue_cents: dict[str, int]  # approved payments by currency
    learners: int
    completed: int


def course_learners(session: Session, actor: User | None, course_id: int, text: str = "",
                    sort: str = "name", descending: bool = False) -> list[LearnerRow]:
    course = course_for_editing(session, actor, course_id)
    total = lesson_count(session, course.id)
    done = dict(session.exec(
        select(LessonProgress.user_id, func.count())
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(Module.course_id == course.id).group_by(col(LessonProgress.user_id))).all())
    rows = [
        LearnerRow(name=user.full_name, email=user.email, status=enrollment.status.value,
                   percent=(100 * done.get(user.id, 0)) // total if total else 0,
                   done=done.get(user.id, 0), total=total,
                   last_activity=as_utc(enrollment.updated_at))
        for enrollment, user in session.exec(
            select(Enrollment, User).join(User, col(User.id) == Enrollment.user_id)
            .where(Enrollment.course_id == course.id))
    ]
    needle = " ".join(str(text or "").split()).lower()
    if needle:
        rows = [r for r in rows if needle in r.name.lower() or needle in r.email.lower()]
    key = {"name": lambda r: r.name.lower(), "status": lambda r: r.status,
           "percent": lambda r: r.percent, "activity": lambda r: r.last_activity}
    return sorted(rows, key=key.get(sort, key["name"]), reverse=bool(descending))


def learners_csv(session: Session, actor: User | None, course_id: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Status", "Percent complete", "Lessons done",
                     "Lessons in course", "Last activity (UTC)"])
    for row in course_learners(session, actor, course_id):
        writer.writerow([spreadsheet_cell(row.name), spreadsheet_cell(row.email), row.status,
                         row.percent, row.done, row.total,
                         row.last_activity.strftime("%Y-%m-%d %H:%M")])
    return out.getvalue()


def course_analytics(session: Session, actor: User | None, course_id: int) -> Analytics:
    course = course_for_editing(session, actor, course_id)
    lessons = session.exec(
        select(Lesson.id, Lesson.title).join(Module, col(Module.id) == Lesson.module_id)
        .where(Module.course_id == course.id)
        .order_by(col(Module.position), col(Module.id), col(Lesson.position), col(Lesson.id))).all()
    completions = dict(session.exec(
        select(LessonProgress.lesson_id, func.count())
        .where(col(LessonProgress.lesson_id).in_([lid for lid, _ in lessons]))
        .group_by(col(LessonProgress.lesson_id))).all())
    return _analytics(session, [course.id],
                      [FunnelStep(title, completions.get(lid, 0)) for lid, title in lessons])


def overall_analytics(session: Session, actor: User | None) -> Analytics:
    """Every course the actor runs (all courses for an admin)."""
    staff = require_staff(actor)
    statement = select(Course.id)
    if staff.role is not Role.ADMIN:
        statement = statement.where(Course.instructor_id == staff.id)
    return _analytics(session, list(session.exec(statement)), [])


def _analytics(session: Session, course_ids: list[int], funnel: list[FunnelStep]) -> Analytics:
    since = utcnow() - timedelta(days=ANALYTICS_DAYS - 1)
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    per_day: dict[date, int] = defaultdict(int)
    learners = completed = 0
    for created_at, status in session.exec(
            select(Enrollment.created_at, Enrollment.status)
            .where(col(Enrollment.course_id).in_(course_ids))):
        learners += 1
        completed += status is EnrollmentStatus.COMPLETED
        if as_utc(created_at) >= since:
            per_day[as_utc(created_at).date()] += 1
    days = [(since + timedelta(days=i)).date() for i in range(ANALYTICS_DAYS)]
    revenue = dict(session.exec(
        select(Payment.currency, func.sum(Payment.amount_cents))
        .where(col(Payment.course_id).in_(course_ids), Payment.status == PaymentStatus.APPROVED)
        .group_by(col(Payment.currency))).all())
    return Analytics(enrollments_by_day=[(day, per_day.get(day, 0)) for day in days],
                     funnel=funnel, revenue_cents={k: int(v or 0) for k, v in revenue.items()},
                     learners=learners, completed=completed)


def spreadsheet_cell(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralise them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
