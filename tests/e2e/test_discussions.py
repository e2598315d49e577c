"""Lesson discussions in real browsers: a question, its answer and its acceptance reach every open
tab of the lesson without a reload, an anonymous post stays anonymous to other learners, a new
account's post with a link waits for review until the instructor approves it, and what a moderator
hides leaves every learner's open page at once."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import WCAG
from tests.e2e.test_account import a_photo
from tests.e2e.test_payments import LIVE_MS, logged_in
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e

COURSE = "python-foundations"
SECTION = "section[aria-labelledby='discussion-heading']"


def section_violations(page: Page) -> list[str]:
    """WCAG violations inside the discussion section (the toasts its actions raise come and go)."""
    result = Axe().run(page, context=SECTION, options=WCAG)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]]


def learner_on_first_lesson(open_page: Callable[[], Page], name: str) -> Page:
    page = open_page()
    sign_up(page, name)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto(f"/courses/{COURSE}")
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name="Continue learning").click()
    expect(page).to_have_url(re.compile(rf"/learn/{COURSE}/\d+/?$"))
    expect(page.get_by_role("heading", name="Discussion")).to_be_visible()
    return page


def ask(page: Page, title: str, body: str, *, anonymous: bool = False) -> None:
    page.get_by_role("button", name="Ask a question").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill(body)
    if anonymous:
        choice = page.get_by_label("Post anonymously to other learners")
        choice.click()  # checked once the server has it (a controlled checkbox)
        expect(choice).to_be_checked()
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def test_a_question_is_answered_endorsed_and_accepted_live(open_page: Callable[[], Page]):
    asker = learner_on_first_lesson(open_page, "Asha Asker")
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto(asker.url)
    expect(instructor.get_by_role("heading", name="Discussion")).to_be_visible()

    ask(asker, "What does range(3) give?", "I tried `list(range(3))` and got confused.")
    opened = instructor.get_by_role("button", name="Open thread: What does range(3) give?")
    expect(opened).to_be_visible(timeout=LIVE_MS)  # no reload

    opened.click()
    expect(instructor.get_by_role("article", name="Post by Asha Asker")).to_contain_text(
        "list(range(3))")
    instructor.get_by_label("Your reply").fill("It gives **0, 1 and 2**: it stops before 3.")
    instructor.get_by_role("button", name="Reply").click()
    answer = instructor.get_by_role("article", name="Post by Iris Instructor")
    expect(answer).to_contain_text("0, 1 and 2")
    answer.get_by_role("button", name="Endorse").click()
    expect(answer).to_contain_text("Endorsed by staff")

    # The asker was reading the thread: the reply waits behind a marker instead of moving the page.
    marker = asker.get_by_role("button", name="1 new reply")
    expect(marker).to_be_visible(timeout=LIVE_MS)
    marker.click()
    reply_seen = asker.get_by_role("article", name="Post by Iris Instructor")
    expect(reply_seen).to_contain_text("Endorsed by staff")
    reply_seen.get_by_role("button", name="Accept this answer").click()
    expect(reply_seen).to_contain_text("Accepted answer")
    expect(answer).to_contain_text("Accepted answer", timeout=LIVE_MS)
    assert section_violations(asker) == []  # the open thread, with every control a learner has
    assert section_violations(instructor) == []
    expect(asker.get_by_role("button", name=re.compile(r"^Notifications, [1-9]\d* unread"))
           ).to_be_visible()


def test_a_post_shows_its_authors_picture_or_else_initials(open_page: Callable[[], Page],
                                                            tmp_path):
    asker = learner_on_first_lesson(open_page, "Fay Face")
    lesson = asker.url
    asker.goto("/account")
    asker.get_by_label("Upload a picture").set_input_files(a_photo(tmp_path / "fay.jpg"))
    expect(asker.get_by_role("img", name="Your picture")).to_have_attribute(
        "src", re.compile(r"^/avatars/"))
    asker.goto(lesson)
    ask(asker, "Where do I start?", "The first lesson looks long.")

    peer = learner_on_first_lesson(open_page, "Gil Glance")
    peer.get_by_role("button", name="Open thread: Where do I start?").click()
    face = peer.get_by_role("article", name="Post by Fay Face").get_by_role("img", name="Fay Face")
    expect(face).to_be_visible()
    expect(face.locator("img")).to_have_attribute(
        "src", re.compile(r"^/avatars/[0-9a-f]{32}-64\.webp$"))
    peer.get_by_label("Your reply").fill("Start with the video.")
    peer.get_by_role("button", name="Reply").click()
    initials = peer.get_by_role("article", name="Post by Gil Glance").get_by_role(
        "img", name="Gil Glance")
    expect(initials).to_have_text("GG")  # no picture uploaded
    assert section_violations(peer) == []


def test_an_anonymous_question_names_its_author_to_staff_only(open_page: Callable[[], Page]):
    asker = learner_on_first_lesson(open_page, "Quinn Quiet")
    ask(asker, "Is it fine to be slow?", "I take a long time per lesson.", anonymous=True)
    expect(asker.get_by_role("article", name="Post by You (anonymous)")).to_be_visible()

    peer = learner_on_first_lesson(open_page, "Pia Peer")
    peer.get_by_role("button", name="Open thread: Is it fine to be slow?").click()
    expect(peer.get_by_role("article", name="Post by Anonymous")).to_be_visible()
    # No face either: a picture or initials would name the author as surely.
    expect(peer.get_by_role("article", name="Post by Anonymous").get_by_role("img")).to_have_count(0)
    assert "Quinn" not in peer.content()

    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto(asker.url)
    instructor.get_by_role("button", name="Open thread: Is it fine to be slow?").click()
    expect(instructor.get_by_role("article",
                                  name="Post by Quinn Quiet (anonymous to learners)")).to_be_visible()

    # A new account's first post with a link waits for review: its author and the staff see it,
    # marked; the other learner does not, until the instructor approves it, and then live.
    peer.get_by_label("Your reply").fill("Me too. [This guide](https://docs.python.org/3/) helps.")
    peer.get_by_role("button", name="Reply").click()
    held = peer.get_by_role("article", name="Post by Pia Peer")
    expect(held).to_contain_text("Waiting for review")
    for reader in (instructor, asker):  # the thread read afresh
        reader.get_by_role("button", name="All threads").click()
        reader.get_by_role("button", name="Open thread: Is it fine to be slow?").click()
        expect(reader.get_by_role("heading", name="Is it fine to be slow?")).to_be_visible()
    expect(instructor.get_by_role("article", name="Post by Pia Peer")).to_contain_text(
        "Waiting for review")
    expect(asker.get_by_role("article", name="Post by Pia Peer")).to_have_count(0)
    assert "This guide" not in asker.content()

    instructor.goto("/admin/discussions")
    review = instructor.get_by_role("article", name="Waiting for review: reply by Pia Peer")
    expect(review).to_contain_text("This guide")
    review.get_by_role("button", name="Approve").dblclick()  # twice: published once
    expect(review).to_have_count(0)
    marker = asker.get_by_role("button", name="1 new reply")
    expect(marker).to_be_visible(timeout=LIVE_MS)
    marker.click()
    expect(asker.get_by_role("article", name="Post by Pia Peer")).to_contain_text("This guide")
    expect(held).not_to_contain_text("Waiting for review", timeout=LIVE_MS)


def test_the_inbox_shows_a_new_question_live_and_answers_it_in_place(
        open_page: Callable[[], Page]):
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/discussions")
    expect(instructor.get_by_role("heading", name="Questions")).to_be_visible()

    asker = learner_on_first_lesson(open_page, "Ines Inbox")
    ask(asker, "Why indent with spaces?", "Tabs look the same to me.")
    question = instructor.get_by_role("article", name="Question: Why indent with spaces?")
    expect(question).to_contain_text("Waiting 0 min", timeout=LIVE_MS)
    expect(question).to_contain_text("Asked by Ines Inbox")

    question.get_by_role("button", name="Answer: Why indent with spaces?").click()
    instructor.get_by_label("Your answer").fill("PEP 8 asks for **four spaces**.")
    instructor.get_by_role("button", name="Post answer").click()
    expect(question).to_have_count(0)
    expect(asker.get_by_role("button", name="1 new reply")).to_be_visible(timeout=LIVE_MS)


def test_a_flagged_reply_and_then_its_thread_are_hidden_live_for_both_learners(
        open_page: Callable[[], Page]):
    author = learner_on_first_lesson(open_page, "Ari Author")
    bystander = learner_on_first_lesson(open_page, "Bea Bystander")
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/discussions")
    expect(instructor.get_by_role("heading", name="Flagged and hidden posts")).to_be_visible()

    ask(author, "Is print a function?", "In Python 3, is `print` a function or a statement?")
    opened = bystander.get_by_role("button", name="Open thread: Is print a function?")
    expect(opened).to_be_visible(timeout=LIVE_MS)  # no reload
    opened.click()
    bystander.get_by_label("Your reply").fill("A function. Cheap followers at spam.example!")
    bystander.get_by_role("button", name="Reply").click()
    reply = bystander.get_by_role("article", name="Post by Bea Bystander")
    expect(reply).to_contain_text("spam.example")

    marker = author.get_by_role("button", name="1 new reply")
    expect(marker).to_be_visible(timeout=LIVE_MS)
    marker.click()
    seen = author.get_by_role("article", name="Post by Bea Bystander")
    seen.get_by_role("button", name="Flag this post for the moderators").click()
    author.get_by_role("button", name="Send report").click()
    expect(author.get_by_text("Say what is wrong with this post")).to_be_visible()
    author.get_by_label("Why should a moderator look at this post?").fill("An advert")
    send = author.get_by_role("button", name="Send report")
    send.dblclick()  # twice: one report
    expect(seen).to_contain_text("You flagged this post")

    question = instructor.get_by_role("article", name="Question: Is print a function?")
    expect(question).to_be_visible(timeout=LIVE_MS)
    flagged = instructor.get_by_role("article", name="Moderation: reply by Bea Bystander")
    expect(flagged).to_contain_text("1 flag: An advert", timeout=LIVE_MS)
    flagged.get_by_role("button", name="Hide post").click()
    expect(flagged).to_contain_text("Hidden from learners")

    for learner in (author, bystander):
        expect(learner.get_by_role("article", name="Post by Bea Bystander")).to_have_count(
            0, timeout=LIVE_MS)
        expect(learner.get_by_role("article", name="Hidden post")).to_contain_text(
            "Hidden by a moderator")
        assert "spam.example" not in learner.content()
    expect(bystander.get_by_role("button", name=re.compile(r"^Notifications, [1-9]\d* unread"))
           ).to_be_visible()

    question.get_by_role("button", name="Hide from learners: Is print a function?").click()
    expect(question).to_have_count(0)
    for learner in (author, bystander):
        expect(learner.get_by_text("A moderator hid this thread.")).to_be_visible(timeout=LIVE_MS)
        assert "Is print a function?" not in learner.locator(SECTION).inner_text()
    assert section_violations(author) == []
