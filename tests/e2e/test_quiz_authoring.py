"""An instructor builds a quiz with every question type, imports GIFT questions through the
preview, adds a bank question to the quiz, sets the certificate rule and fixes a key with a
regrade; the results page, open in another browser, follows without a reload.

A learner's attempt is taken through the quiz services in a thread of this test, against the app's
database (the learner's pages are not part of this file). This app runs without Redis, so its bus
stays in its own process: the push the results page gets here is the regrade's, made in the
instructor's other browser. A learner's submit from another process reaching an open results page
over Redis is tests/integration/test_quiz_results_live.py.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Role, User
from academy_app.services import (
    accounts,
    attempts,
    authoring,
    certificates,
    emails,
    enrollment,
)
from tests.appserver import RunningApp
from tests.e2e.test_payments import logged_in

pytestmark = pytest.mark.e2e

SMALL_GIFT = """$CATEGORY: $course$/top/Imported

::Capital::What is the capital of Italy? {=Rome ~Milan ~Turin}

::Boiling::Water boils at 100 °C at sea level. {T}

An essay question with nowhere to answer {}
"""
# What the learner answers, by the shown kind (a response names positions in the spec).
RIGHT = {"single": {"choice": 0}, "multiple": {"choices": [0, 1]}, "true_false": {"value": True},
         "numeric": {"value": "3.14"}, "short_text": {"text": "guido VAN rossum"},
         "ordering": {"order": [0, 1, 2, 3]}, "matching": {"matches": {"0": 0, "1": 1}}}


@pytest.fixture(scope="module")
def lab(app_server: RunningApp) -> Iterator[tuple[int, str]]:
    """A free course of the demo instructor with a learner enrolled: (course id, learner email).
    Emails and PDFs are left to the app: this process only writes the rows."""
    engine = make_engine(app_server.database_url)
    email = f"quiz-learner-{uuid.uuid4().hex[:6]}@example.com"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(emails, "send_later", lambda _ids: None)
        patch.setattr(certificates, "draw_later", lambda _ids: None)
        # Closed before the test starts: an open SQLite transaction would hold the app's writes.
        with Session(engine, expire_on_commit=False) as session:
            instructor = session.exec(select(User).where(
                User.email == "instructor@academy.test")).one()
            course = authoring.create_course(session, instructor, authoring.CourseForm(
                title=f"Quiz Lab {uuid.uuid4().hex[:4]}"))
            module = authoring.add_module(session, instructor, course.id, "Checkpoints")
            authoring.add_lesson(session, instructor, module.id, authoring.LessonForm(
                title="Read me first", body="Welcome."))
            authoring.set_published(session, instructor, course.id, True)
            learner = accounts.register(session, accounts.SignupForm(
                "Quinn Learner", email, DEMO_PASSWORD), role=Role.STUDENT)
            session.flush()
            enrollment.enroll_free(session, learner, course.id)
            session.commit()
        yield course.id, email
    engine.dispose()


def submit_attempt(database_url: str, email: str, quiz_id: int) -> None:
    """The learner takes the quiz, answering every question right, and submits."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        learner = session.exec(select(User).where(User.email == email)).one()
        view = attempts.start_attempt(session, learner, quiz_id)
        for question in view.questions:
            attempts.save_answer(session, learner, view.attempt_id, question.version_id,
                                 RIGHT[question.kind.value])
        attempts.submit_attempt(session, learner, view.attempt_id)
        session.commit()
    engine.dispose()


def pick(page: Page, field: str, option: str) -> None:
    page.get_by_role("combobox", name=field).click()
    page.get_by_role("option", name=option, exact=True).click()


def add_question(page: Page, kind: str, stem: str, fill, shown: str | None = None) -> None:
    """`shown`: the stem as the list shows it, in plain text (no Markdown marks)."""
    pick(page, "Question type", kind)
    page.get_by_label("Question", exact=True).fill(stem)
    fill(page)
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("list", name="Questions in order")
           .get_by_text(shown or stem)).to_be_visible()


def choices(*options: tuple[str, bool]):
    def fill(page: Page) -> None:
        for number, (text, correct) in enumerate(options, start=1):
            if number > 2:
                page.get_by_role("button", name="Add option").click()
            page.get_by_label(f"Option {number}", exact=True).fill(text)
            if correct:
                page.get_by_role("checkbox", name=f"Option {number} is correct").click()
        page.get_by_label("Feedback for option 2").fill("Not this one")
    return fill


def ordering_by_keyboard(page: Page) -> None:
    """The items typed in their right order, moving between fields with the keyboard only."""
    page.get_by_label("Item 1", exact=True).focus()
    for number, item in enumerate(["Plan", "Build", "Ship", "Learn"], start=1):
        if number == 4:  # a fourth item: Tab to "Add item" and press it
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            expect(page.get_by_role("button", name="Add item")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_label("Item 4", exact=True)).to_be_visible()
            page.keyboard.press("Shift+Tab")  # back over the new item's Remove button
            page.keyboard.press("Shift+Tab")
            expect(page.get_by_label("Item 4", exact=True)).to_be_focused()
        page.keyboard.type(item)
        if number < 3:
            page.keyboard.press("Tab")  # the item's Remove button
            page.keyboard.press("Tab")
        expect(page.get_by_label(f"Item {number}", exact=True)).to_have_value(item)


def test_an_instructor_builds_a_quiz_imports_gift_and_watches_results_live(
        open_page, app_server: RunningApp, lab: tuple[int, str], tmp_path: Path) -> None:
    course_id, learner_email = lab
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto(f"/admin/courses/{course_id}")

    # A quiz lesson, then its editor.
    instructor.get_by_role("button", name="Add lesson to Checkpoints").click()
    dialog = instructor.get_by_role("dialog", name="New lesson")
    dialog.get_by_label("Lesson title").fill("Checkpoint quiz")
    pick(instructor, "Kind", "Quiz")
    dialog.get_by_role("button", name="Save lesson").click()
    expect(instructor).to_have_url(re.compile(r"/admin/quizzes/\d+/?$"))
    quiz_id = int(instructor.url.rstrip("/").rsplit("/", 1)[-1])
    expect(instructor.get_by_role("heading", name="Checkpoint quiz")).to_be_visible()

    # Settings: a field-level error first, then saved.
    instructor.get_by_label("Pass mark (%)").fill("120")
    instructor.get_by_label("Attempts allowed").fill("3")
    instructor.get_by_role("button", name="Save settings").click()
    expect(instructor.get_by_text("Enter a pass mark from 0 to 100")).to_be_visible()
    expect(instructor.get_by_label("Pass mark (%)")).to_have_attribute("aria-invalid", "true")
    instructor.get_by_label("Pass mark (%)").fill("90")
    pick(instructor, "How attempts count", "Last attempt")
    instructor.get_by_role("checkbox", name="Shuffle options").click()
    instructor.get_by_role("button", name="Save settings").click()
    expect(instructor.get_by_text("Settings saved")).to_be_visible()
    expect(instructor.get_by_label("Pass mark (%)")).to_have_attribute("aria-invalid", "false")

    # Every question type.
    instructor.get_by_role("button", name="Add question").click()
    expect(instructor.get_by_text("Write the question")).to_be_visible()
    add_question(instructor, "Single choice", "What is the capital of France?",
                 choices(("Paris", True), ("Lyon", False)))
    add_question(instructor, "Multiple choice", "Which are **prime**?",
                 lambda page: (choices(("2", True), ("3", True), ("4", False))(page),
                               pick(page, "Scoring", "Per option, with a penalty"),
                               page.get_by_label("Penalty per wrong option (0 to 1)").fill("0.5")),
                 shown="Which are prime?")
    add_question(instructor, "True or false", "The Earth orbits the Sun.",
                 lambda page: page.get_by_label("Feedback for “False”").fill("It does."))
    add_question(instructor, "Numeric", "π to two decimals?",
                 lambda page: (page.get_by_label("Right answer").fill("3.14"),
                               page.get_by_label("Tolerance", exact=True).fill("0.01")))
    add_question(instructor, "Short text", "Who created Python?",
                 lambda page: page.get_by_label("Accepted answers").fill("Guido van Rossum"))
    add_question(instructor, "Ordering", "Put the steps in order.", ordering_by_keyboard)
    add_question(instructor, "Matching", "Match the sounds.",
                 lambda page: [page.get_by_label(f"Pair {n} {side}").fill(text)
                               for n, side, text in [(1, "left", "cat"), (1, "right", "meow"),
                                                     (2, "left", "dog"), (2, "right", "woof")]])
    questions = instructor.get_by_role("list", name="Questions in order").get_by_role("listitem")
    expect(questions).to_have_count(7)

    # Reorder with the keyboard: the last question up one place, and back.
    instructor.get_by_role("button", name="Move up question 7: Match the sounds.").focus()
    instructor.keyboard.press("Enter")
    expect(questions.nth(5)).to_contain_text("Match the sounds.")
    instructor.get_by_role("button", name="Move down question 6: Match the sounds.").focus()
    instructor.keyboard.press("Enter")
    expect(questions.nth(6)).to_contain_text("Match the sounds.")

    # An edit is a new version, and the page says what that means for attempts taken.
    instructor.get_by_role("button", name="Edit question 1: What is the capital of France?").click()
    expect(instructor.get_by_text("Attempts already taken keep the version they were taken "
                                  "with")).to_be_visible()
    instructor.get_by_label("Explanation").fill("Paris has been the capital since 987.")
    instructor.get_by_role("button", name="Save new version").click()
    expect(questions.nth(0)).to_contain_text("v2")

    # The certificate rule, on the course editor.
    instructor.goto(f"/admin/courses/{course_id}")
    expect(instructor.get_by_role("link", name="Edit quiz: Checkpoint quiz")).to_be_visible()
    instructor.get_by_label("Minimum overall grade (%)").fill("150")
    instructor.get_by_role("button", name="Save certificate rule").click()
    expect(instructor.get_by_text("Enter a minimum grade from 0 to 100")).to_be_visible()
    instructor.get_by_label("Minimum overall grade (%)").fill("70")
    pick(instructor, "Weigh quizzes", "By the weight given to each quiz")
    instructor.get_by_role("button", name="Save certificate rule").click()
    expect(instructor.get_by_text("Certificate rule saved")).to_be_visible()

    # GIFT: a preview with the reader's line-numbered error, then the import, then the export.
    instructor.get_by_role("link", name="Question bank").click()
    instructor.get_by_label("GIFT text").fill(SMALL_GIFT)
    instructor.get_by_role("button", name="Preview import").click()
    preview = instructor.get_by_role("region", name="Import preview")
    expect(preview.get_by_text(re.compile(r"^Line 7: "))).to_be_visible()
    expect(preview.get_by_role("rowheader", name="1. Capital")).to_be_visible()
    preview.get_by_role("button", name="Import 2 questions").click()
    expect(instructor.get_by_text("2 questions imported")).to_be_visible()
    expect(instructor.get_by_role("rowheader", name="What is the capital of Italy?")).to_be_visible()
    uploaded = tmp_path / "planets.gift"
    uploaded.write_text("::Planets::How many planets orbit the Sun? {#8}\n")
    instructor.locator("input[type=file]").set_input_files(str(uploaded))
    expect(preview.get_by_role("rowheader", name="1. Planets")).to_be_visible()
    preview.get_by_role("button", name="Import 1 question").click()
    expect(instructor.get_by_text("1 question imported")).to_be_visible()
    instructor.get_by_role("button", name="Export GIFT").click()
    expect(instructor.get_by_role("alert").filter(
        has_text="“Put the steps in order.”: GIFT has no ordering questions")).to_be_visible()
    pick(instructor, "Filter by tag", "imported")
    with instructor.expect_download() as download:
        instructor.get_by_role("button", name="Export GIFT").click()
    exported = Path(download.value.path()).read_text()
    assert "::What is the capital of Italy?::" in exported and "{TRUE}" in exported

    # A question the bank already has joins the quiz; a double click adds it once.
    instructor.goto(f"/admin/quizzes/{quiz_id}")
    expect(questions).to_have_count(7)
    pick(instructor, "Add from the question bank", "What is the capital of Italy? · Single choice")
    instructor.get_by_role("button", name="Add to quiz").dblclick()
    expect(instructor.get_by_text("Question added from the bank")).to_be_visible()
    expect(questions.nth(7)).to_contain_text("What is the capital of Italy?")
    expect(questions).to_have_count(8)
    instructor.get_by_role("combobox", name="Add from the question bank").click()
    expect(instructor.get_by_role("option", name="What is the capital of Italy? · Single choice")
           ).to_have_count(0)
    instructor.keyboard.press("Escape")

    # Results: another browser of the instructor, after the learner's attempt.
    results = logged_in(open_page, "instructor@academy.test")
    results.goto(f"/admin/quizzes/{quiz_id}/results")
    expect(results.get_by_text("No attempts yet")).to_be_visible()
    learner = threading.Thread(target=submit_attempt,
                               args=(app_server.database_url, learner_email, quiz_id))
    learner.start()
    learner.join(60)
    results.reload()
    expect(results.get_by_role("rowheader", name="Quinn Learner")).to_be_visible()
    summary = results.get_by_role("status", name="Summary")
    expect(summary).to_contain_text(re.compile(r"Pass rate\s*100%"))
    # A stem's Markdown reads as its words, not as asterisks.
    expect(results.get_by_text("2. Which are prime?", exact=True)).to_be_visible()
    expect(results.get_by_text("**prime**")).to_have_count(0)
    results.evaluate("window.__stillTheSamePage = true")
    results.get_by_role("button", name="Open attempt 1 of Quinn Learner").click()
    attempt = results.get_by_role("dialog", name="Attempt")
    expect(attempt.get_by_text("Answered: Paris")).to_be_visible()
    attempt.get_by_role("button", name="Close").click()

    # A regrade says how many attempts it touches before it changes them, then who flipped.
    instructor.goto(f"/admin/quizzes/{quiz_id}")
    instructor.get_by_role("button", name="Edit question 3: The Earth orbits the Sun.").click()
    pick(instructor, "The statement is", "False")
    instructor.get_by_role("button", name="Regrade with this fix").click()
    confirm = instructor.get_by_role("alertdialog", name="Regrade with this fix?")
    expect(confirm).to_contain_text("1 attempt(s)")
    confirm.get_by_role("button", name="Regrade 1 attempt(s)").click()
    expect(instructor.get_by_text("Regraded 1 attempt with the fix.")).to_be_visible()
    expect(instructor.get_by_text("Now failing: Quinn Learner")).to_be_visible()
    # The results page in the other browser follows, without a reload.
    expect(summary).to_contain_text(re.compile(r"Pass rate\s*0%"))
    expect(results.get_by_role("rowheader", name="Quinn Learner")).to_be_visible()
    assert results.evaluate("window.__stillTheSamePage") is True
