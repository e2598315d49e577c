"""Learning paths in the browser (issue 19): a learner joins a course's cohort, their open lesson's
outline says what waits and when (in their own time zone), and what opens — a quiz passed in
another window, the clock passing the release moment — shows in the open page within two seconds,
without a reload; the day's release email goes once."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.models import Course, Lesson, LessonKind, Module, ReleaseKind, User
from academy_app.services import access, quizzes
from academy_app.services.access import CohortSpec, RuleSpec
from academy_app.services.quizzes import QuestionForm, QuizSettingsForm
from tests.appserver import RunningApp
from tests.e2e.test_payments import LIVE_MS
from tests.e2e.test_student_journey import log_in, sign_up

pytestmark = pytest.mark.e2e

COURSE_ZONE = "Europe/Paris"
LEARNER_ZONE = "America/New_York"  # the browser's: "Opens …" is worded on the learner's clock


def paced_course(app: RunningApp) -> tuple[str, datetime]:
    """A free course of the demo instructor, made through the services on the app's database: module
    1 holds "Welcome" and "Quiz 1" (one true/false question, pass 70 %); module 2 ("Deeper") opens
    once Quiz 1 is passed with 70 %; module 3 ("Later") on a date three days ahead, 09:00 in Paris.
    Returns its slug and module 3's opening instant (UTC)."""
    slug = f"paths-{uuid.uuid4().hex[:6]}"
    zone = ZoneInfo(COURSE_ZONE)
    local = datetime.now(zone).replace(tzinfo=None, hour=9, minute=0, second=0,
                                       microsecond=0) + timedelta(days=3)
    engine = make_engine(app.database_url)
    with Session(engine) as session:
        instructor = session.exec(select(User).where(User.email == "instructor@academy.test")).one()
        course = Course(slug=slug, title="Paths 101", subtitle="Paced", description="Paced.",
                        price_cents=0, is_published=True, instructor_id=instructor.id)
        session.add(course)
        session.flush()
        modules = []
        for position, (title, lesson) in enumerate(
                [("Basics", "Welcome"), ("Deeper", "Deeper"), ("Later", "Later")]):
            module = Module(course_id=course.id, title=title, position=position)
            session.add(module)
            session.flush()
            session.add(Lesson(module_id=module.id, title=lesson, kind=LessonKind.TEXT,
                               body=f"The {lesson} lesson's text.", position=0))
            modules.append(module)
        session.flush()
        quiz = quizzes.create_quiz(session, instructor, modules[0].id, "Quiz 1",
                                   QuizSettingsForm(pass_percent="70"))
        quizzes.add_quiz_question(session, instructor, quiz.id, QuestionForm(
            "true_false", "Water is wet.", {"answer": True}))
        access.set_time_zone(session, instructor, course.id, COURSE_ZONE)
        access.create_cohort(session, instructor, course.id, CohortSpec(
            "Autumn cohort", local - timedelta(days=10), capacity=5))
        access.set_rule(session, instructor, RuleSpec(
            ReleaseKind.AFTER_COMPLETION, after_lesson_id=quiz.lesson_id, min_score_percent=70),
            module_id=modules[1].id)
        access.set_rule(session, instructor, RuleSpec(ReleaseKind.ON_DATE, opens_at_local=local),
                        module_id=modules[2].id)
        session.commit()
    engine.dispose()
    return slug, local.replace(tzinfo=zone).astimezone(UTC)


def move_clock(app: RunningApp, seconds: float) -> None:
    request = urllib.request.Request(f"{app.url}/_test/clock", method="POST",
                                     data=json.dumps({"seconds": seconds}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def release_emails(app: RunningApp) -> list[str]:
    return [text for path in sorted(app.outbox.glob("*.eml"))
            if "new lesson" in (text := path.read_text(errors="replace"))]


def outline(page: Page):
    return page.get_by_role("navigation", name="Syllabus")


def test_an_open_lesson_shows_what_waits_and_opens_it_live_by_quiz_and_by_clock(
        browser: Browser, app_server: RunningApp):
    slug, opens = paced_course(app_server)
    context = browser.new_context(base_url=app_server.url, timezone_id=LEARNER_ZONE,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    other = browser.new_context(base_url=app_server.url, timezone_id=LEARNER_ZONE,
                                viewport={"width": 1280, "height": 900})
    other.set_default_timeout(15_000)
    try:
        page = context.new_page()
        email = sign_up(page, "Paula Paced")
        expect(page).to_have_url(re.compile(r"/dashboard/?$"))

        # A course run in cohorts: the learner chooses one to enrol; without it, a clear word.
        page.goto(f"/courses/{slug}")
        page.get_by_role("button", name="Enroll").click()
        expect(page.get_by_role("alert")).to_contain_text("Choose a cohort to enrol in")
        page.get_by_role("combobox", name="Cohort").click()
        page.get_by_role("option", name=re.compile(r"^Autumn cohort")).click()
        page.get_by_role("button", name="Enroll").dblclick()
        expect(page.get_by_text("Your cohort:")).to_contain_text("Autumn cohort")
        syllabus = page.get_by_role("main")
        expect(syllabus.get_by_label("Deeper, locked")).to_contain_text(
            "Pass “Quiz 1” (70 %) to open")

        page.get_by_role("link", name="Continue learning").click()
        expect(page.get_by_role("heading", name="Welcome", level=1)).to_be_visible()
        learner_clock = opens.astimezone(ZoneInfo(LEARNER_ZONE))
        wording = f"Opens {learner_clock:%a} {learner_clock.day} {learner_clock:%b}, " \
                  f"{learner_clock:%H:%M}"
        expect(outline(page).get_by_label("Later, locked")).to_contain_text(wording)
        expect(outline(page).get_by_label("Deeper, locked")).to_contain_text(
            "Pass “Quiz 1” (70 %) to open")
        expect(outline(page).get_by_role("link", name="Deeper")).to_have_count(0)

        # Another window of the same learner passes the quiz: this page opens module 2 live.
        quiz_page = other.new_page()
        quiz_page.goto("/login")
        log_in(quiz_page, email, "a-good-long-password")
        expect(quiz_page).to_have_url(re.compile(r"/dashboard/?$"))
        quiz_page.goto(f"/courses/{slug}")
        quiz_page.get_by_role("main").get_by_role("link", name="Quiz 1").click()
        quiz_page.get_by_role("button", name=re.compile(r"^Start the quiz$")).click()
        quiz_page.get_by_role("radio", name="True", exact=True).click()
        quiz_page.get_by_role("button", name="Submit attempt").click()
        quiz_page.get_by_role("alertdialog").get_by_role("button", name="Submit",
                                                         exact=True).click()
        expect(quiz_page.get_by_role("status").filter(has_text="Passed: 100%")).to_be_visible()
        expect(quiz_page.get_by_text("Quiz passed. Well done! Now open: Deeper")).to_be_visible()
        expect(outline(quiz_page).get_by_role("link", name="Deeper")).to_be_visible()
        expect(outline(page).get_by_role("link", name="Deeper")).to_be_visible(timeout=LIVE_MS)
        expect(page.get_by_text("“Deeper” is open")).to_be_visible(timeout=LIVE_MS)

        # The clock passes module 3's moment (the test clock; the beat's sweep runs with it).
        move_clock(app_server, (opens - datetime.now(UTC)).total_seconds() + 30)
        expect(outline(page).get_by_role("link", name="Later")).to_be_visible(timeout=LIVE_MS)
        expect(page.get_by_text("“Later” is open")).to_be_visible(timeout=LIVE_MS)
        move_clock(app_server, (opens - datetime.now(UTC)).total_seconds() + 90)  # a later sweep
        mine = [text for text in release_emails(app_server) if email in text]
        assert len(mine) == 1, mine
        assert "Paths 101: 1 new lesson open" in mine[0] and "Later" in mine[0]
    finally:
        move_clock(app_server, 0)
        context.close()
        other.close()

