"""Quizzes in the browser, as a learner: a demo quiz with every question type, answers kept over a
reload, a failed attempt (the course page says what is missing), a passed one and the certificate;
and no answer key in any WebSocket frame or in the page while an attempt is open."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect
from sqlmodel import Session, col, select

from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD, QUIZ_TITLE, QUIZZES
from academy_app.models import Course, Lesson, Module, Quiz, Role, User
from academy_app.services import accounts, authoring, emails, enrollment, quizzes
from academy_app.services.quizzes import QuestionForm, QuizSettingsForm
from tests.e2e.quiz_answers import (
    START,
    answer,
    question_for,
    sections,
    start,
    submit,
)
from tests.e2e.test_accessibility import violations
from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import landing, log_in, sign_up

pytestmark = pytest.mark.e2e

SLUG = "python-foundations"


def to_the_quiz(page: Page) -> None:
    """Enroll in the demo course and complete its lessons up to its quiz."""
    page.goto(f"/courses/{SLUG}")
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name="Continue learning").click()
    for _ in range(20):
        mark = page.get_by_role("button", name="Mark as complete")
        quiz = page.get_by_role("button", name=START)
        expect(mark.or_(quiz)).to_be_visible()
        if quiz.is_visible():
            return
        mark.click()
        expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
        title = page.get_by_role("heading", level=1).inner_text()
        page.get_by_role("button", name="Next lesson").click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text(title)


def expect_kept(section: Locator, form: QuestionForm) -> None:
    """The wrong answer `answer(..., right=False)` gave is shown again after a reload."""
    spec = form.spec
    expect(section.get_by_text("Saved", exact=True)).to_be_visible()
    if form.kind == "single":
        wrong = next(o["text"] for o in spec["options"] if not o.get("correct"))
        expect(section.get_by_role("radio", name=wrong, exact=True)).to_be_checked()
    elif form.kind == "multiple":
        for option in spec["options"]:
            box = section.get_by_role("checkbox", name=option["text"], exact=True)
            (expect(box).not_to_be_checked if option.get("correct") else expect(box).to_be_checked)()
    elif form.kind == "true_false":
        name = "False" if spec["answer"] else "True"
        expect(section.get_by_role("radio", name=name, exact=True)).to_be_checked()
    elif form.kind in ("numeric", "short_text"):
        expect(section.get_by_role("textbox")).to_have_value(
            "12345" if form.kind == "numeric" else "a wrong answer")
    elif form.kind == "ordering":
        expect(section.get_by_role("listitem")).to_have_text(
            [re.compile(re.escape(item)) for item in reversed(spec["items"])])
    else:
        rights = [right for _, right in spec["pairs"]]
        for number, (left, _) in enumerate(spec["pairs"]):
            select = section.get_by_role("combobox", name=f"Match for {left}", exact=True)
            expect(select.locator("option:checked")).to_have_text(rights[(number + 1) % len(rights)])


def demo_quiz_id(database_url: str) -> int:
    engine = make_engine(database_url)
    with Session(engine) as session:
        quiz_id = session.exec(select(Quiz.id).join(Lesson, col(Lesson.id) == Quiz.lesson_id)
                               .join(Module).join(Course).where(Course.slug == SLUG)).one()
    engine.dispose()
    return quiz_id


def test_fail_a_demo_quiz_then_pass_it_and_earn_a_valid_certificate(open_page, app_server):
    page = open_page()
    sign_up(page, "Ada Quizwell")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    to_the_quiz(page)
    # The instructor watches the quiz's results in another browser: each submit shows there
    # without a reload.
    results = logged_in(open_page, "instructor@academy.test")
    results.goto(f"/admin/quizzes/{demo_quiz_id(app_server.database_url)}/results")
    learner_row = results.get_by_role("rowheader", name="Ada Quizwell")
    expect(results.get_by_role("status", name="Summary")).to_be_visible()
    expect(learner_row).to_have_count(0)
    results.evaluate("window.__stillTheSamePage = true")
    expect(page.get_by_role("heading", name=QUIZ_TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Pass mark")).to_be_visible()
    expect(page.get_by_text("60%", exact=True)).to_be_visible()
    expect(page.get_by_text("Unlimited", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Mark as complete")).to_have_count(0)

    start(page)
    shown = sections(page)
    assert len(shown) == len(QUIZZES[SLUG])
    assert {question_for(SLUG, section).kind for section in shown} == {
        "single", "multiple", "true_false", "numeric", "short_text", "ordering", "matching"}
    for section in shown:
        answer(page, SLUG, section, right=False)
    numeric = next(s for s in shown if question_for(SLUG, s).kind == "numeric")
    box = numeric.get_by_role("textbox")
    box.fill("seven")
    box.press("Tab")
    expect(numeric.get_by_role("alert")).to_have_text("Enter a number, like 42 or 3.14")
    box.fill("12345")
    box.press("Tab")
    expect(numeric.get_by_role("alert")).to_have_count(0)

    page.reload()  # mid-attempt: the open attempt is resumed with every answer kept
    for section in sections(page):
        expect_kept(section, question_for(SLUG, section))
    submit(page)
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^Not passed: \d+%"))
           ).to_be_visible()
    expect(page.get_by_text("Correct answer:").first).to_be_visible()  # shown after submitting
    expect(learner_row).to_be_visible()
    expect(page.get_by_text("`len` counts the items of a list.".replace("`", ""))).to_be_visible()

    page.goto(f"/courses/{SLUG}")
    missing = page.get_by_role("region", name="Still needed for the certificate")
    expect(missing).to_contain_text(f"Pass the quiz “{QUIZ_TITLE}”")
    page.goto("/certificates")
    expect(page.get_by_text("No certificates yet")).to_be_visible()

    page.go_back()
    page.get_by_role("link", name="Continue learning").click()
    expect(page.get_by_role("button", name="Start a new attempt")).to_be_visible()
    expect(page.get_by_role("table", name="Your attempts")).to_contain_text("Not passed")
    start(page)
    for section in sections(page):
        answer(page, SLUG, section, right=True)
    page.get_by_role("button", name="Submit attempt").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Submit", exact=True).dblclick()
    expect(page.get_by_role("status").filter(has_text="Passed: 100%")).to_be_visible()
    page.get_by_role("button", name="Back to the quiz").click()
    expect(page.get_by_role("table", name="Your attempts").get_by_role("row")).to_have_count(3)
    expect(results.get_by_role("button", name="Open attempt 2 of Ada Quizwell")).to_be_visible()
    assert results.evaluate("window.__stillTheSamePage") is True

    page.goto(f"/courses/{SLUG}")
    expect(page.get_by_text("You have earned the certificate of this course.")).to_be_visible()
    page.goto("/certificates")
    expect(page.get_by_role("heading", name="Python Foundations", level=2)).to_be_visible()
    page.get_by_role("link", name="Verification page").click()
    expect(page.get_by_role("status").filter(has_text="This certificate is valid.")).to_be_visible()
    expect(page.get_by_role("main").get_by_text("Ada Quizwell")).to_be_visible()


SOCKET_IO_FRAME = re.compile(r"^\d+(?:/[^,\[{]*,)?\d*(?P<data>[\[{].*)$", re.DOTALL)


def _messages(frame: str | bytes) -> list[Any]:
    """The JSON a socket.io frame carries ("42/_event,[\"event\", {...}]"), with JSON text
    inside it decoded too. Frames without data (pings) carry nothing."""
    text = frame.decode() if isinstance(frame, bytes) else frame
    found = SOCKET_IO_FRAME.match(text)
    if found is None:
        return []
    decoded = json.loads(found["data"])
    items = decoded if isinstance(decoded, list) else [decoded]
    return [json.loads(item) if isinstance(item, str) and item[:1] in "{[" else item
            for item in items]


def _rows(value: Any) -> list[dict]:
    """Every question row (a dict with a "version_id") anywhere in a delta."""
    if isinstance(value, dict):
        own = [value] if "version_id" in value else []
        return own + [row for item in value.values() for row in _rows(item)]
    if isinstance(value, list):
        return [row for item in value for row in _rows(item)]
    return []


KEY_FIELDS = {"correct", "accepted", "tolerance", "tolerance_kind", "answer", "pairs", "items",
              "regex", "explanation", "feedback", "key", "spec"}


def test_no_answer_key_reaches_the_browser_during_an_attempt(open_page):
    page = open_page()
    frames: list[str | bytes] = []

    def record(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", record)
    sign_up(page, "Key Seeker")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    to_the_quiz(page)
    start(page)
    for section in sections(page):
        answer(page, SLUG, section, right=False)
    page.reload()
    expect(page.get_by_role("button", name="Submit attempt")).to_be_visible()
    html = page.content()

    rows = [row for frame in frames for message in _messages(frame) for row in _rows(message)]
    assert rows, "the attempt's questions came in the frames"
    for row in rows:
        fields = {name.removesuffix("_rx_state_") for name in row}
        assert not fields & KEY_FIELDS, fields
    everything = "\n".join(f.decode() if isinstance(f, bytes) else f for f in frames) + html
    for form in QUIZZES[SLUG]:
        spec = form.spec
        secrets = [form.explanation] if form.explanation else []
        secrets += [o["feedback"] for o in spec.get("options", []) if o.get("feedback")]
        secrets += [spec.get("feedback_true", ""), spec.get("feedback_false", "")]
        secrets += [f'"{accepted}"' for accepted in spec.get("accepted", [])]
        for secret in filter(None, secrets):
            assert secret not in everything, secret
        for row in rows:
            texts = [choice["text"] for choice in row.get("order_rx_state_", row.get("order", []))]
            if form.kind == "ordering" and set(texts) == set(spec["items"]):
                assert texts != spec["items"], "the right order was sent before submitting"
            matches = row.get("matches_rx_state_", row.get("matches", []))
            if form.kind == "matching" and len(matches) == len(spec["pairs"]):
                assert matches != [str(i) for i in range(len(matches))], "the pairs were sent"
    assert '"correct"' not in everything and "tolerance" not in everything


def checked(page: Page) -> list[str]:
    """axe's violations once the toasts are gone (one fading out is caught mid-animation, at a
    contrast it never rests at)."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    return violations(page)


def test_the_quiz_pages_have_no_wcag_violations(open_page):
    page = open_page()
    sign_up(page, "Axel Checker")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    to_the_quiz(page)
    assert checked(page) == []  # the settings
    start(page)
    shown = sections(page)
    answer(page, SLUG, shown[0], right=True)
    numeric = next(s for s in shown if question_for(SLUG, s).kind == "numeric")
    numeric.get_by_role("textbox").fill("seven")
    numeric.get_by_role("textbox").press("Tab")
    expect(numeric.get_by_role("alert")).to_be_visible()
    assert checked(page) == []  # questions of every type, one with its error
    submit(page)
    assert checked(page) == []  # the result
    page.goto(f"/courses/{SLUG}")
    expect(page.get_by_role("region", name="Still needed for the certificate")).to_be_visible()
    assert checked(page) == []


def test_course_staff_previewing_a_quiz_lesson_are_told_where_its_questions_are(open_page,
                                                                                 app_server):
    with sqlite3.connect(app_server.database_url.removeprefix("sqlite:///")) as connection:
        lesson_id = connection.execute(
            "SELECT q.lesson_id FROM quizzes q JOIN lessons l ON l.id = q.lesson_id JOIN modules m "
            "ON m.id = l.module_id JOIN courses c ON c.id = m.course_id WHERE c.slug = ?",
            (SLUG,)).fetchone()[0]
    page = open_page()
    page.goto("/login")
    log_in(page, "instructor@academy.test")
    expect(page).to_have_url(landing("instructor@academy.test"))
    page.goto(f"/learn/{SLUG}/{lesson_id}")
    expect(page.get_by_text("Enrolled learners take this quiz here")).to_be_visible()
    expect(page.get_by_role("button", name=START)).to_have_count(0)


def timed_quiz(database_url: str) -> tuple[str, str]:
    """A published course of the demo instructor whose quiz has a 5-minute limit, and a learner
    enrolled in it: (the quiz lesson's address, the learner's email). Rows only: the app sends
    the emails."""
    engine = make_engine(database_url)
    email = f"timed-{uuid.uuid4().hex[:6]}@example.com"
    with pytest.MonkeyPatch.context() as patch, Session(engine, expire_on_commit=False) as session:
        patch.setattr(emails, "send_later", lambda _ids: None)
        instructor = session.exec(select(User).where(
            User.email == "instructor@academy.test")).one()
        course = authoring.create_course(session, instructor, authoring.CourseForm(
            title=f"Timed {uuid.uuid4().hex[:4]}"))
        module = authoring.add_module(session, instructor, course.id, "Exam")
        quiz = quizzes.create_quiz(session, instructor, module.id, "Timed quiz",
                                   QuizSettingsForm(time_limit_minutes="5"))
        quizzes.add_quiz_question(session, instructor, quiz.id, QuestionForm(
            "true_false", "The clock is the server's.", {"answer": True}))
        authoring.set_published(session, instructor, course.id, True)
        learner = accounts.register(session, accounts.SignupForm("Tim Keeper", email,
                                                                 DEMO_PASSWORD), role=Role.STUDENT)
        session.flush()
        enrollment.enroll_free(session, learner, course.id)
        session.commit()
        address = f"/learn/{course.slug}/{quiz.lesson_id}"
    engine.dispose()
    return address, email


def test_the_browser_counts_the_time_left_down_without_a_frame_a_second(open_page, app_server):
    """The server sends the seconds left once; the badge counts down by itself."""
    address, email = timed_quiz(app_server.database_url)
    page = open_page()
    frames: list[str | bytes] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda f: frames.append(f)))
    page.goto("/login")
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto(address)
    start(page)
    timer = page.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^Time left 4:5\d$"))
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    page.wait_for_timeout(1_000)  # the last answers of the start have come
    first, heard = timer.inner_text(), len(frames)
    page.wait_for_timeout(3_000)
    assert timer.inner_text() != first, "the time left did not change in 3 s"
    assert len(frames) - heard <= 1, "the server sent frames while the clock ran"  # a ping at most
    expect(timer).to_have_attribute("aria-label", timer.inner_text())
