"""Answering a demo quiz in the browser as a learner would: each question found by its name, its
answer taken from the demo's definitions (academy_app/demo.py), given with the question's own
controls; ordering with the keyboard only."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from academy_app.demo import QUIZZES
from academy_app.services.quizzes import QuestionForm

START = re.compile(r"^(Start the quiz|Start a new attempt|Resume attempt|Try again)$")
QUESTION_LABEL = re.compile(r"^Question \d+ of \d+$")


def _plain(markdown: str) -> str:
    return markdown.replace("`", "")


def question_for(slug: str, section: Locator) -> QuestionForm:
    """The demo question a section shows, by its stem."""
    text = section.inner_text()
    return next(form for form in QUIZZES[slug] if _plain(form.stem) in text)


def sections(page: Page) -> list[Locator]:
    found = page.get_by_role("region", name=QUESTION_LABEL)
    expect(found.first).to_be_visible()
    return found.all()


def order_with_keyboard(page: Page, section: Locator, wanted: list[str]) -> None:
    """Put the items in `wanted` order, moving each up with its "Move up" button, focused and
    pressed with Enter: no mouse, no drag."""
    for position, item in enumerate(wanted):
        while True:
            shown = section.get_by_role("listitem").all_inner_texts()
            at = next(i for i, text in enumerate(shown) if item in text)
            if at == position:
                break
            section.get_by_role("button", name=f"Move up {item}", exact=True).focus()
            page.keyboard.press("Enter")
            expect(section.get_by_role("listitem").nth(at - 1)).to_contain_text(item)


def answer(page: Page, slug: str, section: Locator, right: bool) -> None:
    """Give the right answer to the question in `section`, or a wrong one."""
    form = question_for(slug, section)
    label = section.get_attribute("aria-label") or ""
    spec = form.spec
    if form.kind in ("single", "multiple"):
        options = [(o["text"], bool(o.get("correct"))) for o in spec["options"]]
        chosen = [text for text, correct in options if correct is right]
        if form.kind == "single":
            section.get_by_role("radio", name=chosen[0], exact=True).click()
        else:
            for text in chosen:
                section.get_by_role("checkbox", name=text, exact=True).click()
                expect(section.get_by_role("checkbox", name=text, exact=True)).to_be_checked()
    elif form.kind == "true_false":
        value = spec["answer"] if right else not spec["answer"]
        section.get_by_role("radio", name="True" if value else "False", exact=True).click()
    elif form.kind in ("numeric", "short_text"):
        given = (f"{spec['answer']:g}" if form.kind == "numeric" else spec["accepted"][0]) \
            if right else ("12345" if form.kind == "numeric" else "a wrong answer")
        box = section.get_by_role("textbox", name=label, exact=True)
        box.fill(given)
        box.press("Tab")  # leaving the field saves it
    elif form.kind == "ordering":
        wanted = list(spec["items"]) if right else list(reversed(spec["items"]))
        order_with_keyboard(page, section, wanted)
        keep = section.get_by_role("button", name="Keep this order")
        if keep.is_visible():  # shown already in that order: nothing was moved, so nothing saved
            keep.focus()
            page.keyboard.press("Enter")
    else:
        pairs = spec["pairs"]
        rights = [r for _, r in pairs]
        for number, (left, right_side) in enumerate(pairs):
            side = right_side if right else rights[(number + 1) % len(rights)]
            section.get_by_role("combobox", name=f"Match for {left}", exact=True) \
                .select_option(label=side)
    expect(section.get_by_text("Saved", exact=True)).to_be_visible()


def start(page: Page) -> None:
    page.get_by_role("button", name=START).click()
    expect(page.get_by_role("button", name="Submit attempt")).to_be_visible()


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit attempt").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^(Passed|Not passed):"))
           ).to_be_visible()


def slug_of(page: Page) -> str:
    return page.url.split("/learn/", 1)[1].split("/", 1)[0]


def take_demo_quiz(page: Page, right: bool = True) -> None:
    """On a demo quiz lesson: start (or resume) an attempt, answer every question, submit."""
    start(page)
    slug = slug_of(page)
    for section in sections(page):
        answer(page, slug, section, right)
    submit(page)
