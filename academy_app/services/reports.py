"""What staff learn about their courses: the learners table, its CSV export, analytics, and the
pacing page's reads (rules in words, cohorts with their progress, the roster, overrides)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session, col, func, select

from academy_app.models import (
    AccessOverride,
    Cohort,
    Course,
    CoursePrerequisite,
    DeadlineExtension,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonKind,
    LessonProgress,
    Module,
    Payment,
    PaymentStatus,
    Quiz,
    ReleaseKind,
    ReleaseRule,
    Role,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import access
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


# --- pacing (issue 19): what the instructor's pacing page shows -------------------------------


@dataclass(frozen=True)
class PacedLesson:
    id: int
    title: str
    is_quiz: bool
    rule: ReleaseRule | None
    quiz_id: int | None = None
    closes_at_local: datetime | None = None  # a quiz's "Closes on", the course's wall clock


@dataclass(frozen=True)
class PacedModule:
    id: int
    title: str
    rule: ReleaseRule | None
    lessons: list[PacedLesson]


@dataclass(frozen=True)
class Pacing:
    course: Course
    modules: list[PacedModule]
    prerequisites: list[tuple[CoursePrerequisite, str]]  # with the required course's title
    other_courses: list[tuple[int, str]]  # what a prerequisite may name, by title


@dataclass(frozen=True)
class CohortProgress:
    cohort: Cohort
    learners: int
    average_percent: int  # lessons done over lessons to do, across the cohort's learners
    completed: int


@dataclass(frozen=True)
class RosterLine:
    user_id: int
    name: str
    email: str
    cohort_id: int | None
    percent: int


@dataclass(frozen=True)
class OverrideLine:
    id: int
    learner: str
    email: str
    target: str  # "The whole course", "Module “Basics”", "Lesson “Intro”"
    reason: str
    granted_by: str
    granted_at: datetime
    revoked_by: str
    revoked_at: datetime | None


@dataclass(frozen=True)
class ExtensionLine:
    id: int
    learner: str
    email: str
    quiz: str  # the quiz lesson's title
    closes_at_local: datetime  # the learner's close, the course's wall clock
    reason: str
    granted_by: str
    granted_at: datetime
    revoked_by: str
    revoked_at: datetime | None


ROSTER_LIMIT = 100  # learners shown at once; a search narrows a bigger course


def pacing(session: Session, actor: User | None, course_id: int) -> Pacing:
    """The course's outline with each module's and lesson's release rule, its prerequisites and
    the courses it may require, for its staff. Five queries, whatever the course's size."""
    course = course_for_editing(session, actor, course_id)
    rules = access.course_rules(session, actor, course.id)
    by_module = {r.module_id: r for r in rules if r.module_id is not None}
    by_lesson = {r.lesson_id: r for r in rules if r.lesson_id is not None}
    lessons: dict[int, list[PacedLesson]] = defaultdict(list)
    for lesson, quiz_id, closes in session.exec(
            select(Lesson, Quiz.id, Quiz.closes_at_local)
            .join(Module, col(Module.id) == Lesson.module_id)
            .outerjoin(Quiz, col(Quiz.lesson_id) == Lesson.id)
            .where(Module.course_id == course.id)
            .order_by(col(Lesson.position), col(Lesson.id))):
        lessons[lesson.module_id].append(PacedLesson(lesson.id, lesson.title,
                                                     lesson.kind is LessonKind.QUIZ,
                                                     by_lesson.get(lesson.id), quiz_id, closes))
    modules = [PacedModule(m.id, m.title, by_module.get(m.id), lessons[m.id])
               for m in session.exec(select(Module).where(Module.course_id == course.id)
                                     .order_by(col(Module.position), col(Module.id)))]
    prerequisites = list(session.exec(
        select(CoursePrerequisite, Course.title)
        .join(Course, col(Course.id) == CoursePrerequisite.required_course_id)
        .where(CoursePrerequisite.course_id == course.id).order_by(col(CoursePrerequisite.id))))
    others = [(cid, title) for cid, title in session.exec(
        select(Course.id, Course.title).where(Course.id != course.id).order_by(col(Course.title)))]
    return Pacing(course, modules, prerequisites, others)


def rule_wording(rule: ReleaseRule, titles: dict[int, str], zone_name: str,
                 on_module: bool = False) -> str:
    """A release rule in the instructor's words: "Opens 7 days after the learner's cohort
    starts", "Opens once “Quiz 1” is passed with 70 %"."""
    days = rule.days or 0
    after = f"{days} day{'' if days == 1 else 's'} after"
    if rule.kind is ReleaseKind.ON_DATE and rule.opens_at_local is not None:
        at = rule.opens_at_local
        return f"Opens {at:%a} {at.day} {at:%b %Y}, {at:%H:%M} ({zone_name})"
    if rule.kind is ReleaseKind.AFTER_ENROLMENT:
        return f"Opens {after} the learner enrols" if days else "Opens when the learner enrols"
    if rule.kind is ReleaseKind.AFTER_COHORT_START:
        return (f"Opens {after} the learner's cohort starts" if days
                else "Opens when the learner's cohort starts")
    if rule.kind is ReleaseKind.IN_SEQUENCE:
        return ("In sequence: each lesson opens once the one before it is complete" if on_module
                else "Opens once the lesson before it is complete")
    title = titles.get(rule.after_lesson_id or 0, "a deleted lesson")
    if rule.min_score_percent is not None:
        return f"Opens once “{title}” is passed with {rule.min_score_percent} %"
    return f"Opens once “{title}” is complete"


def cohort_progress(session: Session, actor: User | None, course_id: int
                    ) -> list[CohortProgress]:
    """Each cohort of the course (by start) with its learners, their average progress and how
    many completed, for its staff. Four queries, whatever the number of learners."""
    course = course_for_editing(session, actor, course_id)
    total = lesson_count(session, course.id)
    learning = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
    counts = {cohort_id: (learners, completed or 0) for cohort_id, learners, completed in
              session.exec(select(Enrollment.cohort_id, func.count(),
                                  func.sum(sa.case((col(Enrollment.status)
                                                    == EnrollmentStatus.COMPLETED, 1), else_=0)))
                           .where(Enrollment.course_id == course.id,
                                  col(Enrollment.cohort_id).is_not(None),
                                  col(Enrollment.status).in_(learning))
                           .group_by(col(Enrollment.cohort_id)))}
    done = dict(session.exec(
        select(Enrollment.cohort_id, func.count(col(LessonProgress.id)))
        .join(LessonProgress, col(LessonProgress.user_id) == Enrollment.user_id)
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(Enrollment.course_id == course.id, Module.course_id == course.id,
               col(Enrollment.cohort_id).is_not(None), col(Enrollment.status).in_(learning))
        .group_by(col(Enrollment.cohort_id))).all())
    lines = []
    for cohort in access.course_cohorts(session, course.id):
        learners, completed = counts.get(cohort.id, (0, 0))
        average = (100 * done.get(cohort.id, 0)) // (learners * total) if learners and total else 0
        lines.append(CohortProgress(cohort, learners, average, int(completed)))
    return lines


def course_roster(session: Session, actor: User | None, course_id: int, text: str = ""
                  ) -> tuple[list[RosterLine], int]:
    """The course's learners (active or completed) by name, at most ROSTER_LIMIT of them matching
    `text` (in name or email), and how many match in all: whom to open something for, or to place
    in a cohort."""
    course = course_for_editing(session, actor, course_id)
    total = lesson_count(session, course.id)
    statement = (select(Enrollment.user_id, User.full_name, User.email, Enrollment.cohort_id)
                 .join(User, col(User.id) == Enrollment.user_id)
                 .where(Enrollment.course_id == course.id,
                        col(Enrollment.status).in_((EnrollmentStatus.ACTIVE,
                                                    EnrollmentStatus.COMPLETED))))
    needle = " ".join(str(text or "").split())[:100]
    if needle:
        pattern = f"%{needle}%"
        statement = statement.where(col(User.full_name).ilike(pattern) | col(User.email).ilike(pattern))
    matching = session.exec(select(func.count()).select_from(statement.subquery())).one()
    found = session.exec(statement.order_by(func.lower(User.full_name), col(User.id))
                         .limit(ROSTER_LIMIT)).all()
    done = dict(session.exec(
        select(LessonProgress.user_id, func.count())
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(Module.course_id == course.id,
               col(LessonProgress.user_id).in_([row[0] for row in found]))
        .group_by(col(LessonProgress.user_id))).all())
    return [RosterLine(user_id, name, email, cohort_id,
                       (100 * done.get(user_id, 0)) // total if total else 0)
            for user_id, name, email, cohort_id in found], matching


def override_lines(session: Session, actor: User | None, course_id: int, *,
                   include_revoked: bool = False) -> list[OverrideLine]:
    """The course's overrides with who they are for, what they open, who granted and revoked them
    and when, newest first, for its staff. One query."""
    course = course_for_editing(session, actor, course_id)
    learner, granter, revoker = (sa.orm.aliased(User) for _ in range(3))
    statement = (
        select(AccessOverride, learner.full_name, learner.email, Module.title, Lesson.title,
               granter.full_name, revoker.full_name)
        .join(learner, learner.id == AccessOverride.user_id)
        .outerjoin(Module, col(Module.id) == AccessOverride.module_id)
        .outerjoin(Lesson, col(Lesson.id) == AccessOverride.lesson_id)
        .outerjoin(granter, granter.id == AccessOverride.granted_by_id)
        .outerjoin(revoker, revoker.id == AccessOverride.revoked_by_id)
        .where(AccessOverride.course_id == course.id)
        .order_by(col(AccessOverride.granted_at).desc(), col(AccessOverride.id).desc()))
    if not include_revoked:
        statement = statement.where(col(AccessOverride.revoked_at).is_(None))
    lines = []
    for row, name, email, module, lesson, granted_by, revoked_by in session.exec(statement):
        target = (f"Lesson “{lesson}”" if row.lesson_id is not None else
                  f"Module “{module}”" if row.module_id is not None else "The whole course")
        lines.append(OverrideLine(row.id, name, email, target, row.reason, granted_by or "",
                                  as_utc(row.granted_at), revoked_by or "",
                                  as_utc(row.revoked_at) if row.revoked_at else None))
    return lines


def extension_lines(session: Session, actor: User | None, course_id: int, *,
                    include_revoked: bool = False) -> list[ExtensionLine]:
    """The course's due date extensions (services/deadlines.py) with whom and which quiz they are
    for, who granted and revoked them and when, newest first, for its staff. One query."""
    course = course_for_editing(session, actor, course_id)
    learner, granter, revoker = (sa.orm.aliased(User) for _ in range(3))
    statement = (
        select(DeadlineExtension, learner.full_name, learner.email, Lesson.title,
               granter.full_name, revoker.full_name)
        .join(learner, learner.id == DeadlineExtension.user_id)
        .join(Quiz, col(Quiz.id) == DeadlineExtension.quiz_id)
        .join(Lesson, col(Lesson.id) == Quiz.lesson_id)
        .outerjoin(granter, granter.id == DeadlineExtension.granted_by_id)
        .outerjoin(revoker, revoker.id == DeadlineExtension.revoked_by_id)
        .where(DeadlineExtension.course_id == course.id)
        .order_by(col(DeadlineExtension.granted_at).desc(), col(DeadlineExtension.id).desc()))
    if not include_revoked:
        statement = statement.where(col(DeadlineExtension.revoked_at).is_(None))
    return [ExtensionLine(row.id, name, email, quiz, row.closes_at_local, row.reason,
                          granted_by or "", as_utc(row.granted_at), revoked_by or "",
                          as_utc(row.revoked_at) if row.revoked_at else None)
            for row, name, email, quiz, granted_by, revoked_by in session.exec(statement)]
