"""Learning paths: the one rule that decides whether a learner may open a lesson, and the
instructor's tools that shape it (release rules, course prerequisites, cohorts, overrides).

The model, in the order `can_open` asks:
1. Course staff (the course's instructor, an admin) open everything: they preview.
2. The learner needs an active or completed enrollment in the course.
3. A live override (`AccessOverride`) opens early: the whole course (skips 4 and 5), a module or
   one lesson (skip 5 for those lessons). Revoking it (`revoked_at`) restores the rules.
4. Course prerequisites (`CoursePrerequisite`): another course completed, or its certificate held.
5. Release rules (`ReleaseRule`), at most one per module and one per lesson; a lesson opens when
   both its module's rule and its own allow it. Kinds (`ReleaseKind`):
   on a date-time (wall clock of the course's zone, `Course.time_zone`); `days` after the learner's
   enrollment or after their cohort starts (same wall-clock time, `days` calendar days later in the
   course's zone, so a DST change does not shift it by an hour); after a lesson is complete,
   optionally with a minimum kept score on that quiz; in sequence (after the lesson before it, in
   course order, is complete; on a module: each of its lessons).

Times: instructors enter naive wall-clock datetimes of the course's zone; they are stored so and
turned into UTC when read (`local_to_utc`): an ambiguous time (clocks going back) means its first
occurrence, a skipped one (clocks going forward) opens as if the clock had not jumped (02:30 on
the spring-forward night is 03:30 new time). Every `now` is an aware datetime passed in by the
caller (tests freeze the clock this way); something opens at exactly its unlock instant
(`now >= opens_at`).

What a locked lesson says: `Access.reason` is in the learner's words ("Opens Tue 9 Dec, 09:00",
formatted in the course's zone as a fallback; pages should format `Access.opens_at`, in UTC, in
the browser's zone), "Pass “Quiz 1” (70 %) to open", "Complete “Intro” to open"; `Access.blockers`
lists every reason with its `BlockerKind`.

Reading: `can_open` (one lesson), `outline_access` (every lesson of a course, in a fixed number of
queries), `unlocks_between` (what opens for whom between two instants: the live push and the daily
email), `newly_opened` (what an action such as passing a quiz opened: compare two outlines),
`record_release_notice` (the once-per-learner, course and release day key of the email).
Writing (course staff only, audited): `set_time_zone`, `set_rule`/`clear_rule`,
`add_prerequisite`/`remove_prerequisite`, `create_cohort`/`edit_cohort`/`delete_cohort` (empty
only), `join_cohort` (the learner or staff; seats and window checked under races), `leave_cohort`,
`grant_overrides`/`revoke_overrides` (bulk).
Refused at save with `Invalid`: a rule or prerequisite that closes a circle ("A needs B needs A"),
a rule naming a lesson of another course, an unknown time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from sqlmodel import Session, col, select

from academy_app.db import insert_or_get
from academy_app.models import (
    AccessOverride,
    Certificate,
    Cohort,
    Course,
    CoursePrerequisite,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonKind,
    LessonProgress,
    Module,
    PrerequisiteKind,
    Quiz,
    ReleaseKind,
    ReleaseNotice,
    ReleaseRule,
    Role,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import audit
from academy_app.services.accounts import require_user
from academy_app.services.certificate_rule import quiz_outcomes, reaches
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.services.permissions import require_course_staff

LEARNING = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
DATED = (ReleaseKind.ON_DATE, ReleaseKind.AFTER_ENROLMENT, ReleaseKind.AFTER_COHORT_START)


class BlockerKind(StrEnum):
    NOT_ENROLLED = "not_enrolled"
    COURSE_PREREQUISITE = "course_prerequisite"
    SCHEDULED = "scheduled"  # opens at `opens_at`
    NO_COHORT = "no_cohort"  # the rule counts from a cohort start the learner has not got
    COMPLETION = "completion"  # a lesson to complete first
    SCORE = "score"  # a quiz to pass with a minimum score first
    SEQUENCE = "sequence"  # the lesson before it to complete first


@dataclass(frozen=True)
class Blocker:
    kind: BlockerKind
    reason: str  # in the learner's words
    opens_at: datetime | None = None  # UTC, for SCHEDULED
    lesson_id: int | None = None  # the lesson to complete or quiz to pass, when there is one


@dataclass(frozen=True)
class Access:
    lesson_id: int
    is_open: bool
    reason: str  # "" when open, else the first blocker's reason
    # UTC: when it opens, if time is all that stands in the way (else None, also when open).
    opens_at: datetime | None
    blockers: tuple[Blocker, ...] = ()
    by_override: bool = False  # open only because an instructor opened it early


@dataclass(frozen=True)
class Unlock:
    user_id: int
    course_id: int
    lesson_id: int
    lesson_title: str
    opened_at: datetime  # UTC


@dataclass(frozen=True)
class RuleSpec:
    """A release rule as the instructor sets it. Which fields count depends on `kind`: ON_DATE
    `opens_at_local`; AFTER_ENROLMENT and AFTER_COHORT_START `days`; AFTER_COMPLETION
    `after_lesson_id` and optionally `min_score_percent` (the lesson must be a quiz)."""

    kind: ReleaseKind
    opens_at_local: datetime | None = None  # naive wall clock in the course's zone
    days: int | None = None
    after_lesson_id: int | None = None
    min_score_percent: int | None = None


@dataclass(frozen=True)
class CohortSpec:
    name: str
    starts_at_local: datetime  # naive wall clock in the course's zone
    capacity: int = 30
    enrol_from_local: datetime | None = None
    enrol_until_local: datetime | None = None


# --- time --------------------------------------------------------------------------------------


def zone_of(course: Course) -> ZoneInfo:
    try:
        return ZoneInfo(course.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # set_time_zone refuses unknown zones; an old row stays usable


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time of `zone` as a UTC instant (fold 0: see the module's docstring)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def utc_to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A UTC instant as the naive wall clock of `zone`."""
    return as_utc(moment).astimezone(zone).replace(tzinfo=None)


def days_after(anchor: datetime, days: int, zone: ZoneInfo) -> datetime:
    """`days` calendar days after `anchor`, at the same wall-clock time of `zone`, in UTC."""
    return local_to_utc(utc_to_local(anchor, zone) + timedelta(days=days), zone)


def release_day(course: Course, moment: datetime) -> date:
    """The day, in the course's zone, something opening at `moment` opened: the email's key."""
    return utc_to_local(moment, zone_of(course)).date()


def opens_wording(moment: datetime, zone: ZoneInfo) -> str:
    """"Opens Tue 9 Dec, 09:00" in `zone`: the server's fallback when no browser formats it."""
    return f"Opens {moment_wording(moment, zone)}"


def moment_wording(moment: datetime, zone: ZoneInfo) -> str:
    """"Tue 9 Dec, 09:00": an instant as the wall clock of `zone` shows it."""
    local = as_utc(moment).astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


# --- reading -----------------------------------------------------------------------------------


@dataclass
class _Outline:
    """What `_evaluate` needs about one course, loaded once."""

    course: Course
    lessons: list[tuple[int, str, LessonKind, int]]  # (id, title, kind, module id), course order
    rules_by_module: dict[int, ReleaseRule] = field(default_factory=dict)
    rules_by_lesson: dict[int, ReleaseRule] = field(default_factory=dict)
    prerequisites: list[tuple[CoursePrerequisite, str]] = field(default_factory=list)


@dataclass
class _Learner:
    """What `_evaluate` needs about one learner in that course."""

    enrollment: Enrollment | None
    cohort: Cohort | None
    overrides: list[AccessOverride]
    done: set[int]  # completed lesson ids
    scores: dict[int, float | None]  # lesson id of a quiz → kept percent
    prerequisites_met: set[int]  # required course ids met


def can_open(session: Session, learner: User | None, lesson: Lesson | int,
             now: datetime) -> Access:
    """Whether `learner` may open `lesson` at `now` (aware), why not, and when it opens."""
    lesson_id = lesson if isinstance(lesson, int) else lesson.id
    course_id = session.exec(select(Module.course_id).join(Lesson, col(Lesson.module_id) == Module.id)
                             .where(Lesson.id == lesson_id)).first()
    if course_id is None:
        raise NotFound("lesson", lesson_id)
    return outline_access(session, learner, course_id, now)[lesson_id]


def outline_access(session: Session, learner: User | None, course_id: int,
                   now: datetime) -> dict[int, Access]:
    """Every lesson of the course (in course order) → its Access for `learner` at `now`.
    A fixed number of queries, whatever the size of the course."""
    user = require_user(learner)
    outline = _load_outline(session, course_id)
    if user.role is Role.ADMIN or outline.course.instructor_id == user.id:
        return {lesson_id: Access(lesson_id, True, "", None)
                for lesson_id, *_ in outline.lessons}
    return _evaluate(outline, _load_learner(session, outline, user.id), as_utc(now))


def is_gated(session: Session, course_id: int) -> bool:
    """Whether anything but the enrollment decides access in this course (a release rule or a
    prerequisite): one cheap query, so callers skip `outline_access` for the other courses."""
    return bool(session.exec(select(sa.or_(
        sa.exists().where(col(ReleaseRule.course_id) == course_id),
        sa.exists().where(col(CoursePrerequisite.course_id) == course_id)))).one())


def newly_opened(before: Mapping[int, Access], after: Mapping[int, Access]) -> list[int]:
    """Lessons closed in `before` and open in `after` (two `outline_access` reads around an
    action, such as submitting a quiz), in course order."""
    return [lesson_id for lesson_id, access in after.items()
            if access.is_open and lesson_id in before and not before[lesson_id].is_open]


def unlocks_between(session: Session, start: datetime, end: datetime, *,
                    user_id: int | None = None, course_id: int | None = None) -> list[Unlock]:
    """What opens by the clock in (start, end]: for every learner (or one) of every course (or
    one) with dated rules, the lessons locked at `start` and open at `end`. Lessons that open
    because something was completed are `newly_opened`'s business."""
    start, end = as_utc(start), as_utc(end)
    dated = select(ReleaseRule).where(col(ReleaseRule.kind).in_(DATED))
    if course_id is not None:
        dated = dated.where(ReleaseRule.course_id == course_id)
    rules = session.exec(dated).all()
    by_course: dict[int, list[ReleaseRule]] = defaultdict(list)
    for rule in rules:
        by_course[rule.course_id].append(rule)
    unlocks: list[Unlock] = []
    for cid, course_rules in sorted(by_course.items()):
        outline = _load_outline(session, cid)
        zone = zone_of(outline.course)
        titles = {lesson_id: title for lesson_id, title, *_ in outline.lessons}
        statement = (select(Enrollment, Cohort)
                     .outerjoin(Cohort, col(Cohort.id) == Enrollment.cohort_id)
                     .where(Enrollment.course_id == cid, col(Enrollment.status).in_(LEARNING))
                     .order_by(col(Enrollment.user_id)))
        if user_id is not None:
            statement = statement.where(Enrollment.user_id == user_id)
        for enrollment, cohort in session.exec(statement).all():
            instants = [_scheduled(rule, enrollment, cohort, zone) for rule in course_rules]
            if not any(moment is not None and start < moment <= end for moment in instants):
                continue
            learner = _load_learner(session, outline, enrollment.user_id)
            before, after = _evaluate(outline, learner, start), _evaluate(outline, learner, end)
            for lesson_id in newly_opened(before, after):
                opened = before[lesson_id].opens_at or end
                unlocks.append(Unlock(enrollment.user_id, cid, lesson_id, titles[lesson_id],
                                      min(max(opened, start), end)))
    return unlocks


def record_release_notice(session: Session, user_id: int, course_id: int, day: date,
                          lesson_ids: Sequence[int]) -> bool:
    """Claim the release email of (learner, course, day): True for the one caller that should
    send it, False for every other (a retried task, a second beat, a race)."""
    notice = ReleaseNotice(user_id=user_id, course_id=course_id, release_day=day,
                           lesson_ids=list(lesson_ids))
    _, created = insert_or_get(session, notice, lambda: session.exec(select(ReleaseNotice).where(
        ReleaseNotice.user_id == user_id, ReleaseNotice.course_id == course_id,
        ReleaseNotice.release_day == day)).first())
    return created


def _load_outline(session: Session, course_id: int) -> _Outline:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("course", course_id)
    lessons = [(lesson_id, title, kind, module_id) for lesson_id, title, kind, module_id in
               session.exec(
                   select(Lesson.id, Lesson.title, Lesson.kind, Lesson.module_id)
                   .join(Module, col(Module.id) == Lesson.module_id)
                   .where(Module.course_id == course_id)
                   .order_by(col(Module.position), col(Module.id), col(Lesson.position),
                             col(Lesson.id)))]
    outline = _Outline(course, lessons)
    for rule in session.exec(select(ReleaseRule).where(ReleaseRule.course_id == course_id)):
        if rule.module_id is not None:
            outline.rules_by_module[rule.module_id] = rule
        elif rule.lesson_id is not None:
            outline.rules_by_lesson[rule.lesson_id] = rule
    outline.prerequisites = list(session.exec(
        select(CoursePrerequisite, Course.title)
        .join(Course, col(Course.id) == CoursePrerequisite.required_course_id)
        .where(CoursePrerequisite.course_id == course_id).order_by(col(CoursePrerequisite.id))))
    return outline


def _load_learner(session: Session, outline: _Outline, user_id: int) -> _Learner:
    course_id = outline.course.id
    row = session.exec(select(Enrollment, Cohort)
                       .outerjoin(Cohort, col(Cohort.id) == Enrollment.cohort_id)
                       .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
                       ).first()
    enrollment, cohort = row if row is not None else (None, None)
    if enrollment is None or enrollment.status not in LEARNING:
        return _Learner(None, None, [], set(), {}, set())
    overrides = list(session.exec(select(AccessOverride).where(
        AccessOverride.user_id == user_id, AccessOverride.course_id == course_id,
        col(AccessOverride.revoked_at).is_(None))))
    lesson_ids = [lesson_id for lesson_id, *_ in outline.lessons]
    done = set(session.exec(select(LessonProgress.lesson_id).where(
        LessonProgress.user_id == user_id, col(LessonProgress.lesson_id).in_(lesson_ids))))
    scored = {rule.after_lesson_id for rule in (*outline.rules_by_module.values(),
                                                *outline.rules_by_lesson.values())
              if rule.min_score_percent is not None and rule.after_lesson_id is not None}
    scores: dict[int, float | None] = {}
    if scored:
        quizzes = session.exec(select(Quiz).where(col(Quiz.lesson_id).in_(scored))).all()
        scores = {outcome.lesson_id: outcome.kept_percent for outcome in quiz_outcomes(
            session, user_id, quizzes=[(quiz, "") for quiz in quizzes])}
    met: set[int] = set()
    if outline.prerequisites:
        required = [p.required_course_id for p, _ in outline.prerequisites]
        completed = set(session.exec(select(Enrollment.course_id).where(
            Enrollment.user_id == user_id, col(Enrollment.course_id).in_(required),
            Enrollment.status == EnrollmentStatus.COMPLETED)))
        certified = set(session.exec(select(Certificate.course_id).where(
            Certificate.user_id == user_id, col(Certificate.course_id).in_(required),
            col(Certificate.revoked_at).is_(None))))
        for prerequisite, _ in outline.prerequisites:
            held = certified if prerequisite.kind is PrerequisiteKind.CERTIFICATE else completed
            if prerequisite.required_course_id in held:
                met.add(prerequisite.required_course_id)
    return _Learner(enrollment, cohort, overrides, done, scores, met)


def _evaluate(outline: _Outline, learner: _Learner, now: datetime) -> dict[int, Access]:
    if learner.enrollment is None:
        blocker = Blocker(BlockerKind.NOT_ENROLLED, "Enrol in this course to open it")
        return {lesson_id: Access(lesson_id, False, blocker.reason, None, (blocker,))
                for lesson_id, *_ in outline.lessons}
    open_course = any(o.module_id is None and o.lesson_id is None for o in learner.overrides)
    open_modules = {o.module_id for o in learner.overrides if o.module_id is not None}
    open_lessons = {o.lesson_id for o in learner.overrides if o.lesson_id is not None}
    course_blockers = [] if open_course else [
        Blocker(BlockerKind.COURSE_PREREQUISITE,
                f"Earn the certificate of “{title}” first"
                if prerequisite.kind is PrerequisiteKind.CERTIFICATE
                else f"Complete the course “{title}” first")
        for prerequisite, title in outline.prerequisites
        if prerequisite.required_course_id not in learner.prerequisites_met]
    zone = zone_of(outline.course)
    titles = {lesson_id: title for lesson_id, title, *_ in outline.lessons}
    previous: dict[int, int | None] = {}
    for index, (lesson_id, *_rest) in enumerate(outline.lessons):
        previous[lesson_id] = outline.lessons[index - 1][0] if index else None
    result: dict[int, Access] = {}
    for lesson_id, _title, _kind, module_id in outline.lessons:
        overridden = open_course or module_id in open_modules or lesson_id in open_lessons
        blockers = list(course_blockers)
        if not overridden:
            for rule in (outline.rules_by_module.get(module_id),
                         outline.rules_by_lesson.get(lesson_id)):
                if rule is not None:
                    blockers += _rule_blockers(rule, lesson_id, learner, now, zone, titles,
                                               previous)
        gated = bool(outline.prerequisites) or module_id in outline.rules_by_module \
            or lesson_id in outline.rules_by_lesson
        if not blockers:
            result[lesson_id] = Access(lesson_id, True, "", None,
                                       by_override=overridden and gated)
            continue
        dated = [b.opens_at for b in blockers if b.kind is BlockerKind.SCHEDULED]
        only_time = len(dated) == len(blockers)
        result[lesson_id] = Access(lesson_id, False, blockers[0].reason,
                                   max(dated) if only_time else None,  # type: ignore[type-var]
                                   tuple(blockers))
    return result


def _rule_blockers(rule: ReleaseRule, lesson_id: int, learner: _Learner, now: datetime,
                   zone: ZoneInfo, titles: Mapping[int, str],
                   previous: Mapping[int, int | None]) -> list[Blocker]:
    if rule.kind in DATED:
        moment = _scheduled(rule, learner.enrollment, learner.cohort, zone)
        if moment is None:
            return [Blocker(BlockerKind.NO_COHORT, "Join a cohort of this course to open it")]
        if now >= moment:
            return []
        return [Blocker(BlockerKind.SCHEDULED, opens_wording(moment, zone), moment)]
    if rule.kind is ReleaseKind.IN_SEQUENCE:
        before = previous.get(lesson_id)
        if before is None or before in learner.done:
            return []
        return [Blocker(BlockerKind.SEQUENCE, f"Complete “{titles[before]}” to open", None,
                        before)]
    needed = rule.after_lesson_id
    if needed is None or needed not in titles:
        return []  # the lesson it named was deleted with its rule (ON DELETE CASCADE)
    if rule.min_score_percent is not None:
        score = learner.scores.get(needed)
        if score is not None and reaches(score, rule.min_score_percent):
            return []
        return [Blocker(BlockerKind.SCORE,
                        f"Pass “{titles[needed]}” ({rule.min_score_percent} %) to open", None,
                        needed)]
    if needed in learner.done:
        return []
    return [Blocker(BlockerKind.COMPLETION, f"Complete “{titles[needed]}” to open", None, needed)]


def _scheduled(rule: ReleaseRule, enrollment: Enrollment | None, cohort: Cohort | None,
               zone: ZoneInfo) -> datetime | None:
    """The UTC instant a dated rule opens for this learner; None if it counts from a cohort start
    and they have no cohort (or the rule is not dated)."""
    if rule.kind is ReleaseKind.ON_DATE and rule.opens_at_local is not None:
        return local_to_utc(rule.opens_at_local, zone)
    if rule.kind is ReleaseKind.AFTER_ENROLMENT and enrollment is not None:
        return days_after(enrollment.created_at, rule.days or 0, zone)
    if rule.kind is ReleaseKind.AFTER_COHORT_START and cohort is not None:
        return days_after(local_to_utc(cohort.starts_at_local, zone), rule.days or 0, zone)
    return None


# --- instructor operations (course staff; each audited) ---------------------------------------


def set_time_zone(session: Session, actor: User | None, course_id: int, zone_name: str) -> Course:
    """The IANA zone (e.g. "Europe/Paris") the course's dates are typed in."""
    course = _course(session, course_id)
    staff = require_course_staff(actor, course)
    zone_name = zone_name.strip()
    if zone_name not in available_timezones():
        raise Invalid({"time_zone": f"“{zone_name[:64]}” is not a time zone, "
                                    "e.g. Europe/Paris or America/New_York"})
    before = audit.snapshot(course, "time_zone")
    course.time_zone = zone_name
    audit.record(session, staff, "course.time_zone", course, before,
                 audit.snapshot(course, "time_zone"))
    return course


def course_rules(session: Session, actor: User | None, course_id: int) -> list[ReleaseRule]:
    """The course's release rules, for its staff."""
    require_course_staff(actor, _course(session, course_id))
    return list(session.exec(select(ReleaseRule).where(ReleaseRule.course_id == course_id)
                             .order_by(col(ReleaseRule.id))))


def set_rule(session: Session, actor: User | None, spec: RuleSpec, *,
             module_id: int | None = None, lesson_id: int | None = None) -> ReleaseRule:
    """Set the release rule of one module or one lesson (replacing the one it had)."""
    if (module_id is None) == (lesson_id is None):
        raise Invalid({"target": "Choose a module or a lesson"})
    if module_id is not None:
        module = session.get(Module, module_id)
        if module is None:
            raise NotFound("module", module_id)
        course_id = module.course_id
    else:
        course_id = session.exec(select(Module.course_id).join(
            Lesson, col(Lesson.module_id) == Module.id).where(Lesson.id == lesson_id)).first()
        if course_id is None:
            raise NotFound("lesson", lesson_id)
    course = _course(session, course_id, lock=True)  # one rule change per course at a time
    staff = require_course_staff(actor, course)
    _check_spec(session, spec, course_id)
    rule = session.exec(select(ReleaseRule).where(
        ReleaseRule.module_id == module_id if module_id is not None
        else ReleaseRule.lesson_id == lesson_id)).first()
    fields = ("kind", "opens_at_local", "days", "after_lesson_id", "min_score_percent")
    before = audit.snapshot(rule, *fields) if rule is not None else {}
    if rule is None:
        rule = ReleaseRule(course_id=course_id, module_id=module_id, lesson_id=lesson_id,
                           kind=spec.kind, created_by_id=staff.id)
    rule.kind = spec.kind
    rule.opens_at_local = spec.opens_at_local if spec.kind is ReleaseKind.ON_DATE else None
    rule.days = spec.days if spec.kind in (ReleaseKind.AFTER_ENROLMENT,
                                           ReleaseKind.AFTER_COHORT_START) else None
    completion = spec.kind is ReleaseKind.AFTER_COMPLETION
    rule.after_lesson_id = spec.after_lesson_id if completion else None
    rule.min_score_percent = spec.min_score_percent if completion else None
    rule.updated_at = utcnow()
    _refuse_lesson_circle(session, course_id, rule)
    session.add(rule)
    session.flush()
    audit.record(session, staff, "release_rule.set", rule, before, audit.snapshot(rule, *fields))
    return rule


def clear_rule(session: Session, actor: User | None, rule_id: int) -> None:
    rule = session.get(ReleaseRule, rule_id)
    if rule is None:
        raise NotFound("release rule", rule_id)
    staff = require_course_staff(actor, _course(session, rule.course_id))
    audit.record(session, staff, "release_rule.clear", rule,
                 audit.snapshot(rule, "module_id", "lesson_id", "kind"), {})
    session.delete(rule)
    session.flush()


def add_prerequisite(session: Session, actor: User | None, course_id: int,
                     required_course_id: int,
                     kind: PrerequisiteKind = PrerequisiteKind.COMPLETED) -> CoursePrerequisite:
    """Course `course_id` opens once `required_course_id` is completed (or its certificate held).
    Adding it again changes its kind."""
    course = _course(session, course_id, lock=True)
    staff = require_course_staff(actor, course)
    required = _course(session, required_course_id)
    if required.id == course.id:
        raise Invalid({"required_course_id": "A course cannot require itself"})
    _refuse_course_circle(session, course, required)
    existing = session.exec(select(CoursePrerequisite).where(
        CoursePrerequisite.course_id == course_id,
        CoursePrerequisite.required_course_id == required_course_id)).first()
    prerequisite = existing or CoursePrerequisite(course_id=course_id,
                                                  required_course_id=required_course_id)
    prerequisite.kind = kind
    session.add(prerequisite)
    session.flush()
    audit.record(session, staff, "course_prerequisite.set", prerequisite, {},
                 audit.snapshot(prerequisite, "course_id", "required_course_id", "kind"))
    return prerequisite


def remove_prerequisite(session: Session, actor: User | None, prerequisite_id: int) -> None:
    prerequisite = session.get(CoursePrerequisite, prerequisite_id)
    if prerequisite is None:
        raise NotFound("prerequisite", prerequisite_id)
    staff = require_course_staff(actor, _course(session, prerequisite.course_id))
    audit.record(session, staff, "course_prerequisite.remove", prerequisite,
                 audit.snapshot(prerequisite, "course_id", "required_course_id", "kind"), {})
    session.delete(prerequisite)
    session.flush()


def course_prerequisites(session: Session, course_id: int) -> list[CoursePrerequisite]:
    """Public: the catalogue may say what a course needs."""
    return list(session.exec(select(CoursePrerequisite).where(
        CoursePrerequisite.course_id == course_id).order_by(col(CoursePrerequisite.id))))


COHORT_FIELDS = ("name", "starts_at_local", "capacity", "enrol_from_local", "enrol_until_local")


def create_cohort(session: Session, actor: User | None, course_id: int,
                  spec: CohortSpec) -> Cohort:
    staff = require_course_staff(actor, _course(session, course_id))
    _check_cohort(spec)
    cohort = Cohort(course_id=course_id, **_cohort_values(spec))
    _flush_named(session, cohort, spec.name)
    audit.record(session, staff, "cohort.create", cohort, {}, audit.snapshot(cohort, *COHORT_FIELDS))
    return cohort


def edit_cohort(session: Session, actor: User | None, cohort_id: int, spec: CohortSpec) -> Cohort:
    cohort = session.exec(select(Cohort).where(Cohort.id == cohort_id).with_for_update()).first()
    if cohort is None:
        raise NotFound("cohort", cohort_id)
    staff = require_course_staff(actor, _course(session, cohort.course_id))
    _check_cohort(spec)
    if spec.capacity < cohort.seats_taken:
        raise Invalid({"capacity": f"{cohort.seats_taken} learners are already in it: "
                                   f"keep at least {cohort.seats_taken} seats"})
    before = audit.snapshot(cohort, *COHORT_FIELDS)
    for name, value in _cohort_values(spec).items():
        setattr(cohort, name, value)
    cohort.updated_at = utcnow()
    _flush_named(session, cohort, spec.name)
    audit.record(session, staff, "cohort.edit", cohort, before,
                 audit.snapshot(cohort, *COHORT_FIELDS))
    return cohort


def course_cohorts(session: Session, course_id: int) -> list[Cohort]:
    """The course's cohorts by start: learners choose among them, staff manage them."""
    return list(session.exec(select(Cohort).where(Cohort.course_id == course_id)
                             .order_by(col(Cohort.starts_at_local), col(Cohort.id))))


def join_cohort(session: Session, actor: User | None, cohort_id: int, now: datetime, *,
                user_id: int | None = None) -> Enrollment:
    """Put a learner (the actor, or `user_id` when course staff place someone) into a cohort of a
    course they are enrolled in, leaving the cohort they were in. A learner must join within the
    enrolment window; staff may place outside it; nobody beyond the seats. Safe to call twice."""
    user = require_user(actor)
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("cohort", cohort_id)
    course = _course(session, cohort.course_id)
    learner_id = user.id if user_id is None else user_id
    by_staff = learner_id != user.id
    if by_staff:
        require_course_staff(user, course)
    enrollment = session.exec(select(Enrollment).where(
        Enrollment.user_id == learner_id, Enrollment.course_id == course.id).with_for_update()
    ).first()
    if enrollment is None or enrollment.status not in LEARNING:
        raise Conflict("Enrol in the course before choosing a cohort" if not by_staff
                       else "This learner is not enrolled in the course")
    if enrollment.cohort_id == cohort.id:
        return enrollment
    if not by_staff:
        _check_window(cohort, course, as_utc(now))
    taken = session.execute(sa.update(Cohort).where(
        col(Cohort.id) == cohort.id, col(Cohort.seats_taken) < col(Cohort.capacity))
        .values(seats_taken=col(Cohort.seats_taken) + 1)).rowcount
    if not taken:
        raise Conflict(f"“{cohort.name}” is full")
    if enrollment.cohort_id is not None:
        session.execute(sa.update(Cohort).where(
            col(Cohort.id) == enrollment.cohort_id, col(Cohort.seats_taken) > 0)
            .values(seats_taken=col(Cohort.seats_taken) - 1))
    before = {"cohort_id": enrollment.cohort_id}
    enrollment.cohort_id = cohort.id
    enrollment.updated_at = utcnow()
    session.add(enrollment)
    session.flush()
    session.expire(cohort)  # its seats changed in the database, not in this object
    if by_staff:
        audit.record(session, user, "enrollment.cohort", enrollment, before,
                     {"cohort_id": cohort.id})
    return enrollment


def leave_cohort(session: Session, actor: User | None, course_id: int, *,
                 user_id: int | None = None) -> Enrollment:
    """Take a learner (the actor, or `user_id` for course staff) out of their cohort of the
    course, freeing the seat. Safe to call twice."""
    user = require_user(actor)
    course = _course(session, course_id)
    learner_id = user.id if user_id is None else user_id
    if learner_id != user.id:
        require_course_staff(user, course)
    enrollment = session.exec(select(Enrollment).where(
        Enrollment.user_id == learner_id, Enrollment.course_id == course_id).with_for_update()
    ).first()
    if enrollment is None:
        raise NotFound("enrollment", course_id)
    if enrollment.cohort_id is None:
        return enrollment
    session.execute(sa.update(Cohort).where(
        col(Cohort.id) == enrollment.cohort_id, col(Cohort.seats_taken) > 0)
        .values(seats_taken=col(Cohort.seats_taken) - 1))
    before = {"cohort_id": enrollment.cohort_id}
    enrollment.cohort_id = None
    enrollment.updated_at = utcnow()
    session.add(enrollment)
    session.flush()
    if learner_id != user.id:
        audit.record(session, user, "enrollment.cohort", enrollment, before, {"cohort_id": None})
    return enrollment


def delete_cohort(session: Session, actor: User | None, cohort_id: int) -> None:
    """Delete a cohort nobody is in (its learners would silently lose their schedule)."""
    cohort = session.exec(select(Cohort).where(Cohort.id == cohort_id).with_for_update()).first()
    if cohort is None:
        raise NotFound("cohort", cohort_id)
    staff = require_course_staff(actor, _course(session, cohort.course_id))
    if cohort.seats_taken:
        raise Conflict(f"“{cohort.name}” has {cohort.seats_taken} learner"
                       f"{'s' if cohort.seats_taken > 1 else ''}: move them to another cohort first")
    audit.record(session, staff, "cohort.delete", cohort, audit.snapshot(cohort, *COHORT_FIELDS), {})
    session.delete(cohort)
    session.flush()


def grant_overrides(session: Session, actor: User | None, user_ids: Iterable[int], *,
                    course_id: int, module_id: int | None = None, lesson_id: int | None = None,
                    reason: str = "") -> list[AccessOverride]:
    """Open the whole course (neither id), a module or a lesson early for each learner, bulk.
    A learner who already has a live override of that target keeps it (no duplicate)."""
    staff = require_course_staff(actor, _course(session, course_id))
    if module_id is not None and lesson_id is not None:
        raise Invalid({"target": "Choose the course, a module or a lesson"})
    if module_id is not None:
        module = session.get(Module, module_id)
        if module is None or module.course_id != course_id:
            raise Invalid({"module_id": "This module is not part of the course"})
        scope_key = f"module:{module_id}"
    elif lesson_id is not None:
        if session.exec(select(Module.course_id).join(Lesson, col(Lesson.module_id) == Module.id)
                        .where(Lesson.id == lesson_id)).first() != course_id:
            raise Invalid({"lesson_id": "This lesson is not part of the course"})
        scope_key = f"lesson:{lesson_id}"
    else:
        scope_key = f"course:{course_id}"
    ids = sorted({int(i) for i in user_ids})
    enrolled = set(session.exec(select(Enrollment.user_id).where(
        Enrollment.course_id == course_id, col(Enrollment.user_id).in_(ids),
        col(Enrollment.status).in_(LEARNING))))
    if missing := [i for i in ids if i not in enrolled]:
        raise Invalid({"user_ids": f"{len(missing)} of the chosen learners are not enrolled "
                                   "in this course"})
    granted: list[AccessOverride] = []
    for learner_id in ids:
        override = AccessOverride(user_id=learner_id, course_id=course_id, module_id=module_id,
                                  lesson_id=lesson_id, scope_key=scope_key,
                                  reason=reason.strip()[:500], granted_by_id=staff.id)
        row, created = insert_or_get(session, override, lambda lid=learner_id: session.exec(
            select(AccessOverride).where(AccessOverride.user_id == lid,
                                         AccessOverride.scope_key == scope_key,
                                         col(AccessOverride.revoked_at).is_(None))).first())
        if created:
            audit.record(session, staff, "access_override.grant", row, {},
                         audit.snapshot(row, "user_id", "scope_key", "reason"))
        granted.append(row)
    return granted


def revoke_overrides(session: Session, actor: User | None, override_ids: Iterable[int],
                     now: datetime) -> int:
    """Revoke live overrides (bulk); the rows stay with `revoked_at`. Returns how many were live."""
    user = require_user(actor)
    rows = session.exec(select(AccessOverride).where(
        col(AccessOverride.id).in_(sorted({int(i) for i in override_ids})))
        .order_by(col(AccessOverride.id)).with_for_update()).all()
    courses = {row.course_id for row in rows}
    for course_id in courses:
        require_course_staff(user, _course(session, course_id))
    revoked = 0
    for row in rows:
        if row.revoked_at is not None:
            continue
        row.revoked_at = as_utc(now)
        row.revoked_by_id = user.id
        session.add(row)
        audit.record(session, user, "access_override.revoke", row,
                     {"revoked_at": None}, audit.snapshot(row, "revoked_at"))
        revoked += 1
    session.flush()
    return revoked


def learner_overrides(session: Session, actor: User | None, course_id: int, *,
                      include_revoked: bool = False) -> list[AccessOverride]:
    """The course's overrides, for its staff: live ones, or every one ever granted."""
    require_course_staff(actor, _course(session, course_id))
    statement = select(AccessOverride).where(AccessOverride.course_id == course_id)
    if not include_revoked:
        statement = statement.where(col(AccessOverride.revoked_at).is_(None))
    return list(session.exec(statement.order_by(col(AccessOverride.id))))


# --- checks -------------------------------------------------------------------------------------


def _course(session: Session, course_id: int, *, lock: bool = False) -> Course:
    statement = select(Course).where(Course.id == course_id)
    course = session.exec(statement.with_for_update() if lock else statement).first()
    if course is None:
        raise NotFound("course", course_id)
    return course


def _check_spec(session: Session, spec: RuleSpec, course_id: int) -> None:
    if spec.kind is ReleaseKind.ON_DATE and spec.opens_at_local is None:
        raise Invalid({"opens_at_local": "Choose the date and time it opens"})
    if spec.kind is ReleaseKind.ON_DATE and spec.opens_at_local.tzinfo is not None:
        raise Invalid({"opens_at_local": "Give the time as the course's clock shows it"})
    if spec.kind in (ReleaseKind.AFTER_ENROLMENT, ReleaseKind.AFTER_COHORT_START) and (
            spec.days is None or not 0 <= spec.days <= 3650):
        raise Invalid({"days": "Choose a number of days from 0 to 3650"})
    if spec.kind is not ReleaseKind.AFTER_COMPLETION:
        return
    if spec.after_lesson_id is None:
        raise Invalid({"after_lesson_id": "Choose the lesson to complete first"})
    row = session.exec(select(Module.course_id, Lesson.kind).join(
        Lesson, col(Lesson.module_id) == Module.id).where(Lesson.id == spec.after_lesson_id)).first()
    if row is None or row[0] != course_id:
        raise Invalid({"after_lesson_id": "Choose a lesson of this course: a rule cannot wait "
                                          "for a lesson of another course"})
    if spec.min_score_percent is not None:
        if row[1] is not LessonKind.QUIZ:
            raise Invalid({"min_score_percent": "A minimum score needs a quiz to pass"})
        if not 0 <= spec.min_score_percent <= 100:
            raise Invalid({"min_score_percent": "Choose a score from 0 to 100 %"})


def _flush_named(session: Session, cohort: Cohort, name: str) -> None:
    """Save the cohort; its name is unique in the course (a race included: the database says)."""
    try:
        with session.begin_nested():
            session.add(cohort)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise Invalid({"name": f"Another cohort of this course is called “{name.strip()}”"}) from exc


def _check_cohort(spec: CohortSpec) -> None:
    errors: dict[str, str] = {}
    if not spec.name.strip() or len(spec.name.strip()) > 80:
        errors["name"] = "Give the cohort a name of at most 80 characters"
    if not 1 <= spec.capacity <= 10_000:
        errors["capacity"] = "Choose from 1 to 10000 seats"
    if spec.enrol_from_local and spec.enrol_until_local \
            and spec.enrol_until_local <= spec.enrol_from_local:
        errors["enrol_until_local"] = "The enrolment window must close after it opens"
    if any(moment is not None and moment.tzinfo is not None for moment in (
            spec.starts_at_local, spec.enrol_from_local, spec.enrol_until_local)):
        errors["starts_at_local"] = "Give times as the course's clock shows them"
    if errors:
        raise Invalid(errors)


def _cohort_values(spec: CohortSpec) -> dict[str, object]:
    return {"name": spec.name.strip(), "starts_at_local": spec.starts_at_local,
            "capacity": spec.capacity, "enrol_from_local": spec.enrol_from_local,
            "enrol_until_local": spec.enrol_until_local}


def _check_window(cohort: Cohort, course: Course, now: datetime) -> None:
    zone = zone_of(course)
    if cohort.enrol_from_local is not None and now < local_to_utc(cohort.enrol_from_local, zone):
        raise Conflict(f"“{cohort.name}” takes learners from "
                       f"{moment_wording(local_to_utc(cohort.enrol_from_local, zone), zone)}")
    if cohort.enrol_until_local is not None and now >= local_to_utc(cohort.enrol_until_local,
                                                                     zone):
        raise Conflict(f"“{cohort.name}” no longer takes learners")


def _refuse_lesson_circle(session: Session, course_id: int, changed: ReleaseRule) -> None:
    """Refuse `changed` (not yet saved) if, with the course's other rules, some lesson would wait
    for itself: "“A” needs “B” needs “A”"."""
    outline = _load_outline(session, course_id)
    rules = [r for r in (*outline.rules_by_module.values(), *outline.rules_by_lesson.values())
             if r.id is None or r.id != changed.id]
    rules.append(changed)
    order = [lesson_id for lesson_id, *_ in outline.lessons]
    titles = {lesson_id: title for lesson_id, title, *_ in outline.lessons}
    in_module: dict[int, list[int]] = defaultdict(list)
    for lesson_id, _title, _kind, module_id in outline.lessons:
        in_module[module_id].append(lesson_id)
    needs: dict[int, set[int]] = defaultdict(set)
    for rule in rules:
        targets = in_module[rule.module_id] if rule.module_id is not None else [rule.lesson_id]
        for lesson_id in targets:
            if rule.kind is ReleaseKind.AFTER_COMPLETION and rule.after_lesson_id is not None:
                needs[lesson_id].add(rule.after_lesson_id)
            elif rule.kind is ReleaseKind.IN_SEQUENCE and lesson_id in order \
                    and order.index(lesson_id) > 0:
                needs[lesson_id].add(order[order.index(lesson_id) - 1])
    if circle := _find_circle(needs):
        said = " needs ".join(f"“{titles.get(i, i)}”" for i in circle)
        raise Invalid({"rule": f"This rule would make lessons wait for each other forever: {said}"})


def _refuse_course_circle(session: Session, course: Course, required: Course) -> None:
    needs: dict[int, set[int]] = defaultdict(set)
    for prerequisite in session.exec(select(CoursePrerequisite)):
        needs[prerequisite.course_id].add(prerequisite.required_course_id)
    needs[course.id].add(required.id)
    if circle := _find_circle(needs, start=course.id):
        titles = dict(session.exec(select(Course.id, Course.title)
                                   .where(col(Course.id).in_(set(circle)))).all())
        said = " needs ".join(f"“{titles[i]}”" for i in circle)
        raise Invalid({"required_course_id": f"This would make courses wait for each other "
                                             f"forever: {said}"})


def _find_circle(needs: Mapping[int, set[int]], start: int | None = None) -> list[int]:
    """A path that comes back to where it began ([a, b, a]), or [] if there is none. Depth-first
    with the path on an explicit stack (a long sequence of lessons would exhaust recursion)."""
    finished: set[int] = set()
    for root in [start] if start is not None else sorted(needs):
        if root in finished:
            continue
        path: list[int] = [root]
        on_path = {root}
        pending = [iter(sorted(needs.get(root, ())))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                pending.pop()
                finished.add(on_path_node := path.pop())
                on_path.discard(on_path_node)
                continue
            if nxt in on_path:
                return [*path[path.index(nxt):], nxt]
            if nxt not in finished:
                path.append(nxt)
                on_path.add(nxt)
                pending.append(iter(sorted(needs.get(nxt, ()))))
    return []
