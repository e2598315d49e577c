"""Telling a learner that lessons opened: live in their open tabs, and one email per release day.

Two ways a lesson opens (services/access.py decides which is open):
- the learner met a prerequisite (marked a lesson complete, passed a quiz): the action's service
  compares the outline before and after (`access.newly_opened`) and calls `tell_opened` in its
  transaction;
- the clock passed a dated rule's instant: the beat task (tasks/releases.py) runs `announce_due`
  every minute over the last few minutes.

Each opened lesson becomes a notification ("lesson.opened", at most one per learner and lesson:
an overlapping sweep or a retry finds it and stays quiet) and a page refresh for the learner, so
every open tab shows a toast and redraws its outline without a reload. A sweep also claims the
learner's release email for the course and the day (`access.record_release_notice`): exactly one
email per learner, course and release day, whatever the number of sweeps, retries or workers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from academy_app.infra import bus
from academy_app.models import Course, Lesson, Module, Notification, User
from academy_app.services import access, emails
from academy_app.services.notifications import notify

OPENED = "lesson.opened"
RELEASE_EMAIL = "lessons.released"
# How far back each sweep looks. The beat runs it every minute; the overlap lets a late or missed
# run catch up, and the notifications' uniqueness per lesson keeps the overlap quiet.
SWEEP_WINDOW = timedelta(minutes=15)
EMAIL_LINES = 20


def tell_opened(session: Session, user_id: int, lesson_ids: Sequence[int]) -> list[int]:
    """Notify the learner (live, once per lesson) that these lessons opened; returns the lessons
    newly told. Call inside the transaction that opened them."""
    if not lesson_ids:
        return []
    rows = session.exec(select(Lesson.id, Lesson.title, Course.slug, Course.title)
                        .join(Module, col(Module.id) == Lesson.module_id)
                        .join(Course, col(Course.id) == Module.course_id)
                        .where(col(Lesson.id).in_(lesson_ids))).all()
    links = {lesson_id: f"/learn/{slug}/{lesson_id}" for lesson_id, _, slug, _ in rows}
    told = set(session.exec(select(Notification.link).where(
        Notification.user_id == user_id, Notification.kind == OPENED,
        col(Notification.link).in_(list(links.values())))))
    fresh = []
    for lesson_id, title, _, course_title in sorted(rows, key=lambda r: lesson_ids.index(r[0])):
        if links[lesson_id] in told:
            continue
        notify(session, user_id, OPENED, f"“{title}” is open", f"{course_title}: you can start it now.",
               links[lesson_id])
        fresh.append(lesson_id)
    if fresh:
        bus.refresh(session, user_id)  # the outline of every open tab shows them open
    return fresh


def announce_due(session: Session, now: datetime,
                 since: datetime | None = None) -> list[access.Unlock]:
    """What the clock opened in (since, now] (default: the sweep window): told live, and the day's
    release email queued once per learner and course. Returns the unlocks found."""
    unlocks = access.unlocks_between(session, since or now - SWEEP_WINDOW, now)
    by_learner: dict[tuple[int, int], list[access.Unlock]] = defaultdict(list)
    for unlock in unlocks:
        by_learner[(unlock.user_id, unlock.course_id)].append(unlock)
    courses = {course.id: course for course in session.exec(select(Course).where(
        col(Course.id).in_({course_id for _, course_id in by_learner})))}
    users = {user.id: user for user in session.exec(select(User).where(
        col(User.id).in_({user_id for user_id, _ in by_learner}), col(User.is_active).is_(True)))}
    mails = []
    for (user_id, course_id), opened in sorted(by_learner.items()):
        tell_opened(session, user_id, [unlock.lesson_id for unlock in opened])
        course, user = courses[course_id], users.get(user_id)
        by_day: dict = defaultdict(list)
        for unlock in opened:
            by_day[access.release_day(course, unlock.opened_at)].append(unlock)
        for day, released in sorted(by_day.items()):
            if not access.record_release_notice(session, user_id, course_id, day,
                                                [unlock.lesson_id for unlock in released]):
                continue  # this day's email is another sweep's (sent, or being sent)
            if user is not None:  # and wants it: emails.queue_once asks
                mails.append(_release_email(user, course, day.isoformat(), released))
    emails.queue_once(session, mails)
    return unlocks


def _release_email(user: User, course: Course, day: str, released: Sequence[access.Unlock]) -> dict:
    lines = [f"- {unlock.lesson_title}" for unlock in released[:EMAIL_LINES]]
    if len(released) > EMAIL_LINES:
        lines.append(f"- and {len(released) - EMAIL_LINES} more")
    count = len(released)
    title = f"{course.title}: {count} new lesson{'s' if count > 1 else ''} open"
    return {"kind": RELEASE_EMAIL, "user_id": user.id, "to_address": user.email,
            "dedupe_key": f"{RELEASE_EMAIL}:user:{user.id}:course:{course.id}:{day}",
            "subject": title,
            "context": json.dumps({"name": user.full_name, "title": title,
                                   "body": "Opened today:\n" + "\n".join(lines),
                                   "link": f"/learn/{course.slug}/{released[0].lesson_id}"})}
