"""Demo data: categories, six courses (each with a quiz and a cover drawn here; one paced by
release rules and run in a cohort), one login per role, a few lesson discussions (one question
answered and accepted, one waiting) and a few learners' reviews. Safe to run again; never in
production nor on a public URL.

Run with ``python -m academy_app.demo`` (``make demo``; ``make run`` does it too).
"""

from __future__ import annotations

import io
import logging
import random
import sys
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from PIL import Image, ImageDraw
from sqlmodel import Session, col, select

from academy_app.db import session_scope
from academy_app.models import (
    Category,
    Cohort,
    Coupon,
    Course,
    CourseLevel,
    DiscountKind,
    DiscussionFollow,
    DiscussionPost,
    DiscussionThread,
    DiscussionVote,
    EnrollmentStatus,
    Lesson,
    LessonKind,
    Module,
    ReleaseKind,
    Role,
    StudyGroup,
    ThreadKind,
    User,
    utcnow,
)
from academy_app.services import access, covers, enrollment, progress, quizzes, reviews
from academy_app.services.access import CohortSpec, RuleSpec
from academy_app.services.accounts import SignupForm, register
from academy_app.services.quizzes import QuestionForm, QuizSettingsForm
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
# The two colours of each category's generated covers (drawn here: the demo downloads nothing).
COVER_COLOURS = {"programming": ((79, 70, 229), (6, 182, 212)),
                 "data": ((15, 118, 110), (132, 204, 22)),
                 "design": ((190, 24, 93), (245, 158, 11))}
# (course slug, name, seats, description): the workspace's Study groups page (admin kit example).
STUDY_GROUPS = [
    ("python-foundations", "Python Circle", 12, "Tuesday evenings: one exercise, solved together."),
    ("python-foundations", "Weekend Pythonistas", 8, "Saturday mornings, for those who work."),
    ("sql-for-analysts", "SQL Study Hall", 20, "Bring a query that puzzles you."),
]

# Learners who took part of a course and reviewed it, so cards, the course page and the catalog's
# "Highest rated" sort have ratings to show. Not logins anyone needs: they have the demo password
# all the same. (email, name, [(course slug, lessons completed, stars, review, instructor reply)])
DEMO_REVIEWERS = [
    ("maya@academy.test", "Maya Lin", [
        ("python-foundations", 4, 5, "The pace is just right: every lesson ends with something "
         "that runs, and the exercises build on each other.",
         "Thank you, Maya! A module on files and errors is on its way."),
        ("sql-for-analysts", 3, 4, "JOINs finally make sense. I would have liked one more "
         "exercise on GROUP BY.", ""),
    ]),
    ("tomas@academy.test", "Tomás Rivera", [
        ("python-foundations", 2, 4, "Clear and friendly. The part on dictionaries was the most "
         "useful for my job.", ""),
        ("design-systems-101", 2, 4, "A good map of what a design system is, with tokens "
         "explained without jargon.", ""),
    ]),
    ("nadia@academy.test", "Nadia Okafor", [
        ("sql-for-analysts", 4, 5, "I use what I learned here every day at work. Short lessons, "
         "real questions.", "Great to hear, Nadia. Thanks for the kind words!"),
        ("web-apps-with-reflex", 3, 5, "Building a real-time app without JavaScript felt like "
         "cheating. Excellent course.", ""),
    ]),
]



@dataclass(frozen=True)
class DemoThread:
    """A conversation under a lesson. `posts`: (author's email, Markdown, hours after the question),
    the question first; `accepted`: the reply (1 = the first) its asker accepted, 0 for none."""

    course: str
    lesson: str
    kind: ThreadKind
    title: str
    days_ago: int
    posts: list[tuple[str, str, int]]
    accepted: int = 0


SAM, ALEX, IRIS = "student@academy.test", "student2@academy.test", "instructor@academy.test"
DISCUSSIONS = [
    DemoThread("python-foundations", "Your first program", ThreadKind.QUESTION,
               "Do I need Python 3.12 for this course?", 6, [
                   (SAM, "My laptop has Python 3.9. Will the examples work, or should I upgrade "
                         "first?", 0),
                   (IRIS, "Anything from **3.10** up works: we use `match` once, in the last "
                          "module. Check with:\n\n```bash\npython3 --version\n```", 3),
                   (ALEX, "I upgraded with the installer from python.org, it took five minutes.",
                    20),
               ], accepted=1),
    DemoThread("python-foundations", "Your first program", ThreadKind.QUESTION,
               "Why does print need parentheses?", 2, [
                   (ALEX, "An old tutorial writes `print \"hello\"` without them, and I get a "
                          "`SyntaxError`. Which one is right?", 0),
                   (SAM, "I think `print` became a function in Python 3, so it is called like "
                         "any other function?", 5),
               ]),
    DemoThread("python-foundations", "Lists and dictionaries", ThreadKind.DISCUSSION,
               "Share the dictionary you built in the exercise", 4, [
                   (IRIS, "Post the dictionary you made for the exercise, and one thing that "
                          "surprised you about it.", 0),
                   (SAM, "```python\npantry = {\"rice\": 2, \"beans\": 5}\n```\nSurprise: "
                         "`pantry[\"oil\"]` raises `KeyError`, `pantry.get(\"oil\")` gives "
                         "`None`.", 6),
                   (ALEX, "Mine counts words in a sentence. I did not know dictionaries keep "
                          "the order things were added in!", 30),
               ]),
    DemoThread("sql-for-analysts", "JOINs explained", ThreadKind.QUESTION,
               "When do I use LEFT JOIN instead of JOIN?", 3, [
                   (ALEX, "My report lost every customer without an order. What did I do "
                          "wrong?", 0),
                   (IRIS, "`JOIN` keeps only rows that match on both sides. A `LEFT JOIN` "
                          "keeps every customer, with `NULL` order columns where there is no "
                          "order.", 2),
               ], accepted=1),
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


def _choices(right: str, *wrong: str) -> dict:
    return {"options": [{"text": right, "correct": True}] + [{"text": w} for w in wrong]}


# One quiz per course, at the end of its last module, mixing the question types.
QUIZ_TITLE = "Check your understanding"
QUIZZES: dict[str, list[QuestionForm]] = {
    "python-foundations": [
        QuestionForm("single", "What does `len([1, 2, 3])` return?", _choices("3", "2", "6"),
                     explanation="`len` counts the items of a list."),
        QuestionForm("multiple", "Which of these are mutable?", {"options": [
            {"text": "list", "correct": True}, {"text": "dict", "correct": True},
            {"text": "tuple", "feedback": "A tuple cannot change once made."},
            {"text": "str"}], "scoring": "per_option", "penalty": 0.5}, points="2"),
        QuestionForm("true_false", "Python indexes lists from 1.",
                     {"answer": False, "feedback_true": "The first item is at index 0."}),
        QuestionForm("numeric", "What is `7 // 2`?", {"answer": 3, "tolerance": 0}),
        QuestionForm("short_text", "Which keyword defines a function?", {"accepted": ["def"]}),
        QuestionForm("ordering", "Put the steps of running a script in order",
                     {"items": ["Write the code", "Save the file", "Run python script.py"]}),
        QuestionForm("matching", "Match each value to its type",
                     {"pairs": [["42", "int"], ["'hi'", "str"], ["3.5", "float"]]}),
    ],
    "web-apps-with-reflex": [
        QuestionForm("single", "Where does a Reflex app's state live?",
                     _choices("On the server", "In the browser's localStorage", "In a cookie")),
        QuestionForm("true_false", "An event handler can change state vars.", {"answer": True}),
        QuestionForm("short_text", "Which command starts the development server?",
                     {"accepted": ["reflex run"]}),
        QuestionForm("ordering", "Order the layers, top to bottom",
                     {"items": ["Pages", "States", "Services", "Models"]}),
    ],
    "sql-for-analysts": [
        QuestionForm("single", "Which clause filters groups after aggregation?",
                     _choices("HAVING", "WHERE", "ORDER BY")),
        QuestionForm("multiple", "Which are aggregate functions?", {"options": [
            {"text": "COUNT", "correct": True}, {"text": "SUM", "correct": True},
            {"text": "UPPER"}]}),
        QuestionForm("short_text", "Which keyword removes duplicate rows?",
                     {"accepted": ["DISTINCT", "SELECT DISTINCT"]}),
        QuestionForm("matching", "Match each join to the rows it keeps", {"pairs": [
            ["INNER JOIN", "rows matched on both sides"],
            ["LEFT JOIN", "every row of the left table"]]}),
    ],
    "statistics-you-can-use": [
        QuestionForm("numeric", "What is the mean of 2, 4 and 9?",
                     {"answer": 5, "tolerance": 0.01}),
        QuestionForm("single", "Which is least affected by an outlier?",
                     _choices("The median", "The mean", "The range")),
        QuestionForm("true_false", "A p-value is the chance the null hypothesis is true.",
                     {"answer": False}),
        QuestionForm("numeric", "About what percent of a normal distribution lies within one "
                     "standard deviation of the mean?",
                     {"answer": 68, "tolerance": 5, "tolerance_kind": "percent"}),
    ],
    "design-systems-101": [
        QuestionForm("single", "What is a design token?", _choices(
            "A named design decision, like a colour", "A login credential", "A UI component")),
        QuestionForm("true_false", "A design system needs documentation.", {"answer": True}),
        QuestionForm("matching", "Match each token to an example value", {"pairs": [
            ["color.primary", "#1f6feb"], ["space.small", "4px"], ["font.body", "Inter"]]}),
        QuestionForm("ordering", "Order from smallest to largest",
                     {"items": ["Token", "Component", "Pattern", "Page"]}),
    ],
    "accessible-interfaces": [
        QuestionForm("single", "What gives a button its accessible name?",
                     _choices("Its text or aria-label", "Its colour", "Its size")),
        QuestionForm("multiple", "Which can a screen reader announce?", {"options": [
            {"text": "A name", "correct": True}, {"text": "A role", "correct": True},
            {"text": "A hover colour"}]}),
        QuestionForm("short_text", "Which key moves focus to the next control?",
                     {"accepted": ["Tab", "the Tab key"]}),
        QuestionForm("numeric", "The minimum contrast ratio for body text (WCAG AA), as x in x:1?",
                     {"answer": 4.5, "tolerance": 0}),
    ],
}


# The course paced by release rules (services/access.py): its first module in sequence, the rest a
# week after the learner's cohort starts. The cohort starts on the day the demo is loaded.
PACED_COURSE = "statistics-you-can-use"
PACED_ZONE = "Europe/Paris"
PACED_COHORT = "Spring cohort"


def _pace_course(session: Session, instructor: User, course: Course) -> None:
    access.set_time_zone(session, instructor, course.id, PACED_ZONE)
    today = access.utc_to_local(utcnow(), access.zone_of(course)).date()
    start = datetime.combine(today, time(9, 0))
    access.create_cohort(session, instructor, course.id, CohortSpec(
        PACED_COHORT, start, capacity=25, enrol_until_local=start + timedelta(days=14)))
    modules = session.exec(select(Module).where(Module.course_id == course.id)
                           .order_by(col(Module.position))).all()
    access.set_rule(session, instructor, RuleSpec(ReleaseKind.IN_SEQUENCE), module_id=modules[0].id)
    for module in modules[1:]:
        access.set_rule(session, instructor, RuleSpec(ReleaseKind.AFTER_COHORT_START, days=7),
                        module_id=module.id)


def _add_quiz(session: Session, instructor: User, course: Course) -> None:
    module = session.exec(select(Module).where(Module.course_id == course.id)
                          .order_by(col(Module.position).desc())).first()
    quiz = quizzes.create_quiz(session, instructor, module.id, QUIZ_TITLE,
                               QuizSettingsForm(pass_percent="60", shuffle_options=True))
    for form in QUIZZES[course.slug]:
        quizzes.add_quiz_question(session, instructor, quiz.id, form)


def _cover_picture(demo: DemoCourse) -> bytes:
    """An abstract cover for a demo course: its category's colours on a diagonal, with soft
    shapes placed by its slug (each course its own, the same on every run), as a PNG upload."""
    width, height = 1600, 900
    start, end = COVER_COLOURS[demo.category]
    ramp = Image.linear_gradient("L")
    mask = Image.blend(ramp.resize((width, height)), ramp.rotate(90).resize((width, height)), 0.5)
    picture = Image.composite(Image.new("RGB", (width, height), end),
                              Image.new("RGB", (width, height), start), mask).convert("RGBA")
    shapes = Image.new("RGBA", (width, height))
    draw = ImageDraw.Draw(shapes)
    chance = random.Random(demo.slug)
    for _ in range(7):
        x, y, r = chance.randint(0, width), chance.randint(0, height), chance.randint(60, 320)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, chance.randint(18, 48)))
    left, top = chance.randint(760, 900), chance.randint(200, 300)
    draw.rounded_rectangle((left, top, left + 560, top + 360), radius=36,
                           fill=(255, 255, 255, 70), outline=(255, 255, 255, 150), width=6)
    for line in range(4):
        draw.rounded_rectangle((left + 48, top + 60 + line * 70,
                                left + 48 + chance.randint(200, 460), top + 92 + line * 70),
                               radius=16, fill=(255, 255, 255, 150))
    output = io.BytesIO()
    Image.alpha_composite(picture, shapes).convert("RGB").save(output, format="PNG")
    return output.getvalue()


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


def _lesson_captions(title: str) -> str:
    """Captions for a demo video lesson, so the player's captions and transcript have words."""
    return (
        "WEBVTT\n\n"
        f"00:00.000 --> 00:03.500\nWelcome to this lesson: {title}\n\n"
        "00:03.500 --> 00:07.000\nWatch the flower open: every step builds on the last.\n\n"
        "00:07.000 --> 00:10.000\nWhen you are ready, mark the lesson complete.\n"
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
                    captions_vtt=_lesson_captions(lesson_title) if kind is LessonKind.VIDEO
                    else "",
                    duration_minutes=4 + 3 * lesson_position + module_position,
                    position=lesson_position))
        session.flush()
        _add_quiz(session, instructor, course)
        added = True
    for demo in COURSES:  # a database made before covers existed gets them too
        course = session.exec(select(Course).where(Course.slug == demo.slug)).one()
        if not course.cover_key:
            covers.set_cover(session, instructor, course.id, _cover_picture(demo))
            added = True
    paced = session.exec(select(Course).where(Course.slug == PACED_COURSE)).first()
    if paced is not None and session.exec(select(Cohort.id).where(
            Cohort.course_id == paced.id)).first() is None:
        _pace_course(session, instructor, paced)
        added = True
    for code, kind, value, max_uses in COUPONS:
        if session.exec(select(Coupon.id).where(Coupon.code == code)).first() is None:
            session.add(Coupon(code=code, kind=kind, value=value, max_uses=max_uses))
            added = True
    session.flush()
    added = _add_reviews(session, instructor) or added
    for slug, name, capacity, description in STUDY_GROUPS:
        course_id = session.exec(select(Course.id).where(Course.slug == slug)).first()
        if course_id is not None and session.exec(select(StudyGroup.id).where(
                StudyGroup.name == name)).first() is None:
            session.add(StudyGroup(name=name, course_id=course_id, capacity=capacity,
                                   description=description, created_by_id=instructor.id))
            added = True
    for demo_thread in DISCUSSIONS:
        added = _add_thread(session, users, demo_thread) or added
    return added


def _add_thread(session: Session, users: dict[str, User], demo: DemoThread) -> bool:
    """One demo conversation, as it would stand had its people written it over the past days.
    Written as rows, not through services/discussions.py: the demo learners are not enrolled
    (tests enrol them in the demo courses), and the service admits only the enrolled."""
    row = session.exec(select(Lesson.id, Course.id).join(Module, col(Module.id) == Lesson.module_id)
                       .join(Course, col(Course.id) == Module.course_id)
                       .where(Course.slug == demo.course, Lesson.title == demo.lesson)).first()
    if row is None or session.exec(select(DiscussionThread.id).where(
            DiscussionThread.course_id == row[1], DiscussionThread.title == demo.title)).first():
        return False
    lesson_id, course_id = row
    asked = utcnow() - timedelta(days=demo.days_ago)
    author = users[demo.posts[0][0]]
    thread = DiscussionThread(course_id=course_id, lesson_id=lesson_id, author_id=author.id,
                              kind=demo.kind, title=demo.title, created_at=asked,
                              last_activity_at=asked + timedelta(hours=demo.posts[-1][2]),
                              reply_count=len(demo.posts) - 1)
    session.add(thread)
    session.flush()
    posts = []
    for index, (email, body, hours) in enumerate(demo.posts):
        post = DiscussionPost(thread_id=thread.id, author_id=users[email].id,
                              request_id=f"demo-thread-{thread.id}-post-{index}",
                              is_opening=index == 0, body=body,
                              created_at=asked + timedelta(hours=hours))
        session.add(post)
        posts.append(post)
    session.flush()
    staff_replies = [post for post in posts[1:] if post.author_id == users[IRIS].id]
    if demo.kind is ThreadKind.QUESTION and staff_replies:
        thread.answered_at = staff_replies[0].created_at
    if demo.accepted:
        accepted = posts[demo.accepted]
        thread.accepted_post_id = accepted.id
        accepted.endorsed_at = accepted.created_at
        # The asker upvoted the answer they accepted.
        session.add(DiscussionVote(post_id=accepted.id, user_id=author.id))
        accepted.upvotes = 1
    for user_id in dict.fromkeys(post.author_id for post in posts):
        session.add(DiscussionFollow(thread_id=thread.id, user_id=user_id))
    return True


def _add_reviews(session: Session, instructor: User) -> bool:
    """The reviewers' enrollments, progress and reviews, through the services that check them."""
    added = False
    for email, name, reviewed in DEMO_REVIEWERS:
        learner = session.exec(select(User).where(User.email == email)).first()
        if learner is not None:
            continue
        learner = register(session, SignupForm(full_name=name, email=email,
                                               password=DEMO_PASSWORD))
        added = True
        for slug, done, stars, text, reply in reviewed:
            course = session.exec(select(Course).where(Course.slug == slug)).one()
            enrollment.ensure_enrollment(session, learner.id, course.id, EnrollmentStatus.ACTIVE)
            lesson_ids = session.exec(
                select(Lesson.id).join(Module).where(Module.course_id == course.id,
                                                     Lesson.kind != LessonKind.QUIZ)
                .order_by(col(Module.position), col(Lesson.position))).all()
            for lesson_id in lesson_ids[:done]:
                progress.set_lesson_completion(session, learner, lesson_id, True)
            review = reviews.save_review(session, learner, course.id, stars, text)
            if reply:
                reviews.save_reply(session, instructor, review.id, reply)
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
