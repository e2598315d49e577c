"""Reminder emails to learners who stopped: one per quiet spell, never to those who opted out
(emails.queue_once obeys their switch).

A learner is quiet when nothing of theirs moved for `INACTIVE_AFTER` (an enrollment's `updated_at`
doubles as its last activity) while a course of theirs is unfinished. Each quiet spell is named by
the moment it began, and that name keys the email log: the daily job can run twice, or on two
machines, and still send one reminder per spell; coming back and going quiet again starts a new one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from academy_app.models import Course, Enrollment, EnrollmentStatus, User, as_utc, utcnow
from academy_app.services import emails

INACTIVE_AFTER = timedelta(days=7)
# Spells that began longer ago are let be: the first run after this feature ships, or after a long
# outage of the scheduler, must not email everyone who ever drifted away.
FORGET_AFTER = timedelta(days=30)
BATCH = 500


def queue_inactivity_reminders(session: Session, now: datetime | None = None) -> list[int]:
    """Queue the reminders due now; the ids of the emails written (none twice for one spell)."""
    now = now or utcnow()
    written: list[int] = []
    after = 0
    while batch := _quiet_learners(session, now - INACTIVE_AFTER, now - FORGET_AFTER, after):
        resume = _course_to_resume(session, [user_id for user_id, *_ in batch])
        written += emails.queue_once(session, [
            _reminder(user_id, address, name, since, *resume[user_id])
            for user_id, address, name, since in batch
            if user_id in resume])  # finished or left the course since the first query: no email
        after = batch[-1][0]
    return written


def _quiet_learners(session: Session, cutoff: datetime, forgotten: datetime,
                    after: int) -> list[tuple]:
    """Learners (by id, from `after` on) with an unfinished course, no activity since `cutoff`,
    and some since `forgotten`."""
    last_activity = func.max(Enrollment.updated_at)
    unfinished = func.sum(sa.case((Enrollment.status == EnrollmentStatus.ACTIVE, 1), else_=0))
    return list(session.exec(
        select(User.id, User.email, User.full_name, last_activity)
        .join(Enrollment, col(Enrollment.user_id) == User.id)
        .where(col(User.id) > after, col(User.is_active).is_(True),
               col(Enrollment.status).in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED]))
        .group_by(col(User.id), col(User.email), col(User.full_name))
        .having(last_activity <= cutoff, last_activity > forgotten, unfinished > 0)
        .order_by(col(User.id)).limit(BATCH)))


def _reminder(user_id: int, address: str, name: str, since: datetime, course: str,
              slug: str) -> dict:
    title = f"Pick up {course} where you left off"
    return {"kind": "reminder.inactive", "user_id": user_id, "to_address": address,
            "dedupe_key": f"reminder.inactive:user:{user_id}:{int(as_utc(since).timestamp())}",
            "subject": title[:200],
            "context": json.dumps({
                "name": name, "title": title, "link": f"/courses/{slug}",
                "body": "A few minutes today keeps the momentum going: your next lesson is waiting."})}


def _course_to_resume(session: Session, user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each learner's most recently touched unfinished course: (title, slug)."""
    latest: dict[int, tuple[str, str]] = {}
    for user_id, title, slug in session.exec(
            select(Enrollment.user_id, Course.title, Course.slug)
            .join(Course, col(Course.id) == Enrollment.course_id)
            .where(col(Enrollment.user_id).in_(user_ids),
                   Enrollment.status == EnrollmentStatus.ACTIVE)
            .order_by(col(Enrollment.updated_at).desc(), col(Enrollment.id).desc())):
        latest.setdefault(user_id, (title, slug))
    return latest
