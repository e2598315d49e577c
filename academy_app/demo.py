"""Demo data: categories, six courses and one login per role. Safe to run again; never in production
nor on a public URL.

Run with ``python -m academy_app.demo`` (``make demo``; ``make run`` does it too).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from sqlmodel import Session, select

from academy_app.db import session_scope
from academy_app.models import (
    Category,
    Coupon,
    Course,
    CourseLevel,
    DiscountKind,
    Lesson,
    LessonKind,
    Module,
    Role,
    StudyGroup,
    User,
)
from academy_app.services.accounts import SignupForm, register
from academy_app.settings import get_settings

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password-123"
DEMO_USERS = [
    ("admin@academy.test", "Ada Admin", Role.ADMIN),
    ("instructor@academy.test", "Iris Instructor", Role.INSTRUCTOR),
    ("student@academy.test", "Sam Student", Role.STUDENT),
    ("student2@academy.test", "Alex Student", Role.STUDENT),
]
# A public-domain clip, so video lessons have something to play when the network allows.
DEMO_VIDEO_URL = "https://interactive-examples.mdn.mozilla.net/media/cc0-videos/flower.mp4"
# (code, kind, value, max uses): try them on any paid course.
COUPONS = [("HALFPRICE", DiscountKind.PERCENT, 50, 100), ("FREEPASS", DiscountKind.PERCENT, 100, 20)]
CATEGORIES = [("Programming", "programming"), ("Data", "data"), ("Design", "design")]
# (course slug, name, seats, description): the workspace's Study groups page (admin kit example).
STUDY_GROUPS = [
    ("python-foundations", "Python Circle", 12, "Tuesday evenings: one exercise, solved together."),
    ("python-foundations", "Weekend Pythonistas", 8, "Saturday mornings, for those who work."),
    ("sql-for-analysts", "SQL Study Hall", 20, "Bring a query that puzzles you."),
]


@dataclass(frozen=True)
class DemoCourse:
    slug: str
    title: str
    subtitle: str
    category: str
    level: CourseLevel
    price_cents: int
    modules: list[tuple[str, list[tuple[str, LessonKind]]]]


COURSES = [
    DemoCourse("python-foundations", "Python Foundations",
               "Variables, functions and data structures, one small step at a time",
               "programming", CourseLevel.BEGINNER, 0, [
                   ("Getting started", [("Why Python?", LessonKind.VIDEO),
                                        ("Your first program", LessonKind.TEXT)]),
                   ("Working with data", [("Lists and dictionaries", LessonKind.TEXT),
                                          ("Functions that return values", LessonKind.TEXT)]),
               ]),
    DemoCourse("web-apps-with-reflex", "Web Apps in Pure Python",
               "Build full-stack, real-time apps with Reflex and no JavaScript",
               "programming", CourseLevel.INTERMEDIATE, 4900, [
                   ("State and events", [("How Reflex state works", LessonKind.VIDEO),
                                         ("Event handlers", LessonKind.TEXT)]),
                   ("Data", [("Models and migrations", LessonKind.TEXT),
                             ("Services and permissions", LessonKind.TEXT)]),
                   ("Shipping", [("Deploying with Redis", LessonKind.TEXT)]),
               ]),
    DemoCourse("sql-for-analysts", "SQL for Analysts",
               "Answer real business questions with SELECT, JOIN and GROUP BY",
               "data", CourseLevel.BEGINNER, 0, [
                   ("Querying", [("SELECT and WHERE", LessonKind.TEXT),
                                 ("Sorting and limiting", LessonKind.VIDEO)]),
                   ("Combining tables", [("JOINs explained", LessonKind.TEXT),
                                         ("GROUP BY and aggregates", LessonKind.TEXT)]),
               ]),
    DemoCourse("statistics-you-can-use", "Statistics You Can Use",
               "Averages, spread, sampling and A/B tests without the jargon",
               "data", CourseLevel.INTERMEDIATE, 2900, [
                   ("Describing data", [("Mean, median and mode", LessonKind.TEXT),
                                        ("Variance in pictures", LessonKind.VIDEO)]),
                   ("Testing ideas", [("Sampling", LessonKind.TEXT),
                                      ("A/B tests done right", LessonKind.TEXT)]),
               ]),
    DemoCourse("design-systems-101", "Design Systems 101",
               "Tokens, components and documentation that teams actually use",
               "design", CourseLevel.BEGINNER, 0, [
                   ("Foundations", [("What a design system is", LessonKind.VIDEO),
                                    ("Design tokens", LessonKind.TEXT)]),
                   ("Components", [("Building a button", LessonKind.TEXT)]),
               ]),
    DemoCourse("accessible-interfaces", "Accessible Interfaces",
               "Make every screen usable with a keyboard, a screen reader and a zoomed display",
               "design", CourseLevel.ADVANCED, 3900, [
                   ("Principles", [("Who we design for", LessonKind.VIDEO),
                                   ("Names, roles and values", LessonKind.TEXT)]),
                   ("Practice", [("Forms that explain themselves", LessonKind.TEXT),
                                 ("Testing with a screen reader", LessonKind.TEXT)]),
               ]),
]


def _lesson_body(course: DemoCourse, title: str) -> str:
    return (
        f"Welcome to **{title}**, part of *{course.title}*.\n\n"
        "In this lesson you will:\n\n"
        "- learn the idea behind the topic,\n"
        "- see a worked example,\n"
        "- try it yourself in a short exercise.\n\n"
        "```python\nprint('Keep going, you are doing great!')\n```\n\n"
        "> Tip: mark the lesson complete when you are done, and the next one unlocks on your dashboard."
    )


def load_demo_data(session: Session) -> bool:
    """Insert what is missing. Returns True if anything was added."""
    added = False
    users: dict[str, User] = {}
    for email, name, role in DEMO_USERS:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = register(session, SignupForm(full_name=name, email=email,
                                                password=DEMO_PASSWORD), role=role)
            added = True
        users[email] = user
    categories: dict[str, Category] = {}
    for name, slug in CATEGORIES:
        category = session.exec(select(Category).where(Category.slug == slug)).first()
        if category is None:
            category = Category(name=name, slug=slug)
            session.add(category)
            added = True
        categories[slug] = category
    session.flush()
    instructor = users["instructor@academy.test"]
    for demo in COURSES:
        if session.exec(select(Course.id).where(Course.slug == demo.slug)).first() is not None:
            continue
        course = Course(slug=demo.slug, title=demo.title, subtitle=demo.subtitle,
                        description=f"{demo.subtitle}.\n\nEach lesson is short, "
                                    "practical and ends with an exercise.",
                        level=demo.level, category_id=categories[demo.category].id,
                        price_cents=demo.price_cents, is_published=True,
                        instructor_id=instructor.id)
        session.add(course)
        session.flush()
        for module_position, (module_title, lessons) in enumerate(demo.modules):
            module = Module(course_id=course.id, title=module_title, position=module_position)
            session.add(module)
            session.flush()
            for lesson_position, (lesson_title, kind) in enumerate(lessons):
                session.add(Lesson(
                    module_id=module.id, title=lesson_title, kind=kind,
                    body=_lesson_body(demo, lesson_title),
                    video_url=DEMO_VIDEO_URL if kind is LessonKind.VIDEO else "",
                    duration_minutes=4 + 3 * lesson_position + module_position,
                    position=lesson_position))
        added = True
    for code, kind, value, max_uses in COUPONS:
        if session.exec(select(Coupon.id).where(Coupon.code == code)).first() is None:
            session.add(Coupon(code=code, kind=kind, value=value, max_uses=max_uses))
            added = True
    session.flush()
    for slug, name, capacity, description in STUDY_GROUPS:
        course_id = session.exec(select(Course.id).where(Course.slug == slug)).first()
        if course_id is not None and session.exec(select(StudyGroup.id).where(
                StudyGroup.name == name)).first() is None:
            session.add(StudyGroup(name=name, course_id=course_id, capacity=capacity,
                                   description=description, created_by_id=instructor.id))
            added = True
    return added


def main(argv: list[str]) -> int:
    """``--unless-production`` (used by ``make run``) skips instead of failing."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    if settings.is_production:
        if "--unless-production" in argv:
            log.info("ACADEMY_ENV=production: demo data not loaded.")
            return 0
        log.error("Refusing to load demo data: ACADEMY_ENV=production")
        return 1
    if settings.is_reached_from_elsewhere:
        # The demo admin's password is in the README: on a site others reach, it would be theirs.
        log.warning("Demo data not loaded: ACADEMY_PUBLIC_URL=%s is not this machine (localhost, "
                    "127.0.0.1 or [::1]), and the demo logins' password is published.",
                    settings.public_url)
        return 0 if "--unless-production" in argv else 1
    with session_scope() as session:
        added = load_demo_data(session)
    log.info("Demo data %s.", "loaded" if added else "already present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
