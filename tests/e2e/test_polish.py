"""Product polish (issue 18) in a real browser: course cards show all of themselves at desktop and
phone widths, each person lands where their work is after log-in, and the workspace, the audit
log, reviews and the completion chart read well on a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_accessibility import COLOUR, THEMES, WCAG, show_theme, violations
from tests.e2e.test_student_journey import continue_course, log_in, sign_up

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LESSONS_LINE = re.compile(r"^\d+ lessons · ")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["/", "/courses"])
def test_course_cards_show_their_bottom_row(page: Page, path: str, viewport: dict[str, int]):
    page.set_viewport_size(viewport)
    page.goto(path)
    # The served HTML's cards give way to the app's once it has taken the page over (its controls
    # turn enabled then): measure the app's, not ones about to be replaced.
    expect(page.get_by_role("button", name="Dark theme", include_hidden=True).first).to_be_enabled()
    # A card is a link named for its course that holds the course's heading.
    cards = page.get_by_role("link").filter(has=page.get_by_role("heading", level=3))
    expect(cards.first).to_be_visible()
    assert cards.count() >= 2
    for index in range(cards.count()):
        card = cards.nth(index)
        card.scroll_into_view_if_needed()
        box = card.bounding_box()
        bottom_row = card.get_by_text(LESSONS_LINE)
        expect(bottom_row).to_be_visible()
        row = bottom_row.bounding_box()
        assert box and row
        name = card.get_attribute("aria-label")
        assert box["y"] <= row["y"] and row["y"] + row["height"] <= box["y"] + box["height"] + 1, (
            f"{name}: its lessons line ends at {row['y'] + row['height']:.0f}px, "
            f"below the card's bottom at {box['y'] + box['height']:.0f}px")
        # Nothing inside the card is cut off by its own box (the card itself, or the Radix
        # card inside the link, which hides overflow for its inset cover); text only for screen
        # readers is clipped to nothing on purpose.
        clipped = card.evaluate("""link => [link, ...link.querySelectorAll('*')]
            .filter(el => !el.classList.contains('visually-hidden')
                          && getComputedStyle(el).overflow !== 'visible'
                          && el.scrollHeight > el.clientHeight + 1)
            .map(el => el.className || el.tagName)""")
        assert clipped == [], f"{name}: content clipped by {clipped}"
    if viewport is DESKTOP:
        # Cards on one grid row line up: the same top and the same height.
        boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
        rows: dict[int, list[dict[str, float]]] = {}
        for b in boxes:
            assert b
            rows.setdefault(round(b["y"]), []).append(b)
        assert any(len(r) > 1 for r in rows.values()), "the desktop grid puts cards side by side"
        for row_boxes in rows.values():
            heights = {round(b["height"]) for b in row_boxes}
            assert len(heights) == 1, f"cards on one row differ in height: {heights}"


@pytest.mark.parametrize(("email", "landing"), [
    ("instructor@academy.test", "/admin/courses"),
    ("admin@academy.test", "/admin/courses"),
    ("student@academy.test", "/dashboard"),
])
def test_log_in_lands_staff_on_their_workspace_and_learners_on_my_learning(
        page: Page, email: str, landing: str):
    page.goto("/login")
    log_in(page, email)
    expect(page).to_have_url(re.compile(re.escape(landing) + r"/?$"))
    # Visiting the log-in page again while logged in sends them to the same place.
    page.goto("/login")
    expect(page).to_have_url(re.compile(re.escape(landing) + r"/?$"))


def test_an_explicit_next_still_wins_for_staff(page: Page):
    page.goto("/login?next=/courses")
    log_in(page, "instructor@academy.test")
    expect(page).to_have_url(re.compile(r"/courses/?$"))


def right_edge(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box, f"{locator} is not shown"
    return box["x"] + box["width"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_verify_pages_panels_span_the_column_of_its_code_field(page: Page,
                                                                   viewport: dict[str, int]):
    """The result and the badge-file check were as wide as their text, short of the code field's
    Check button on a desktop: the page's parts end on one line."""
    page.set_viewport_size(viewport)
    page.goto("/verify")
    check = page.get_by_role("button", name="Check", exact=True)
    file_check = page.locator(".rt-Card").filter(
        has=page.get_by_role("heading", name="Check an Open Badge file"))
    expect(file_check).to_be_visible()
    assert abs(right_edge(file_check) - right_edge(check)) <= 1


def test_an_empty_state_gives_its_message_the_phones_width(page: Page):
    """With 64 px of padding a side, an empty state's message was a third of a phone's width."""
    page.set_viewport_size(PHONE)
    page.goto("/no-such-page")
    message = page.get_by_text("The page you are looking for does not exist")
    expect(message).to_be_visible()
    share = message.evaluate("""text => {
        let box = text.parentElement;
        while (box && getComputedStyle(box).borderStyle !== 'dashed') box = box.parentElement;
        return text.getBoundingClientRect().width / box.getBoundingClientRect().width; }""")
    assert share >= 0.8, f"the message takes {share:.0%} of the empty state's width"


def luminance(page: Page, colour: str) -> float:
    """A CSS colour's relative luminance (WCAG), read back through a one-pixel canvas."""
    return page.evaluate("""colour => {
        const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
        const paint = canvas.getContext('2d', {willReadFrequently: true});
        paint.fillStyle = colour; paint.fillRect(0, 0, 1, 1);
        const linear = [...paint.getImageData(0, 0, 1, 1).data].slice(0, 3).map(c => c / 255)
            .map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]; }""", colour)


def test_a_lesson_on_a_phone_stacks_its_buttons_keeps_code_dark_and_a_quiz_says_when(
        page: Page):
    page.set_viewport_size(PHONE)
    sign_up(page, "Phil Phone")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    continue_course(page, "/courses/python-foundations")
    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_role("button", name="Next lesson").click()
    expect(page.get_by_role("heading", name="Your first program")).to_be_visible()
    # Previous, Mark as complete and Next one under the other, each the card's width: in a row
    # that wrapped they stood at odd places on two lines.
    buttons = [page.get_by_role("link", name="Previous lesson"),
               page.get_by_role("button", name="Mark as complete"),
               page.get_by_role("button", name="Next lesson")]
    boxes = [button.bounding_box() for button in buttons]
    assert all(boxes)
    assert len({(round(b["x"]), round(b["width"])) for b in boxes}) == 1, boxes
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]

    # The lesson's code block stays dark in the dark theme (it was a near-white slab there).
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    block = page.locator(".markdown pre").first
    background = block.evaluate("pre => getComputedStyle(pre).backgroundColor")
    assert luminance(page, background) < 0.05, background

    # A quiz says when its answers are shown in a sentence ("are shown: after each attempt").
    page.goto(page.url.rsplit("/", 1)[0] + "/5")
    expect(page.get_by_text(
        "Your best attempt counts. Answers and explanations are shown after each attempt.")
    ).to_be_visible()


# Each shown text field whose placeholder is wider than the room inside it, measured in its own font.
CUT_PLACEHOLDERS = """() => [...document.querySelectorAll('input[placeholder], textarea[placeholder]')]
    .filter(field => field.offsetParent !== null && !field.value)
    .filter(field => {
        const style = getComputedStyle(field);
        const pen = document.createElement('canvas').getContext('2d');
        pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = field.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        return pen.measureText(field.placeholder.split('\\n')[0]).width > room + 1;
    }).map(field => field.placeholder)"""


def test_no_placeholder_is_cut_off_on_a_phone(page: Page):
    """"Search this course's discuss…" and "Search by name or emai…" were, at 390 px."""
    page.set_viewport_size(PHONE)
    page.goto("/login")
    log_in(page, "instructor@academy.test")
    expect(page).to_have_url(re.compile(r"/admin/courses/?$"))
    cut = {}
    for path in ("/courses", "/learn/python-foundations/2", "/admin/courses",
                 "/admin/courses/new", "/admin/courses/1/learners", "/admin/coupons",
                 "/admin/payments", "/admin/study-groups"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("[aria-busy='true']")).to_have_count(0)
        if found := page.evaluate(CUT_PLACEHOLDERS):
            cut[path] = found
    assert cut == {}


def test_quiz_questions_are_listed_as_their_text_not_their_markdown(page: Page):
    """The quiz editor and the question bank listed stems as typed: "What is `7 // 2`?"."""
    page.goto("/login")
    log_in(page, "instructor@academy.test")
    expect(page).to_have_url(re.compile(r"/admin/courses/?$"))
    page.goto("/admin/quizzes/1")
    expect(page.get_by_role("button", name="Edit question 4: What is 7 // 2?")).to_be_visible()
    page.goto("/admin/courses/1/questions")
    expect(page.get_by_role("rowheader", name="What is 7 // 2?", exact=True)).to_be_visible()
    expect(page.get_by_role("rowheader", name=re.compile("`"))).to_have_count(0)


def test_the_jobs_page_sets_a_sentence_in_a_stat_card_as_text_not_as_a_figure(page: Page):
    page.goto("/login")
    log_in(page, "admin@academy.test")
    expect(page).to_have_url(re.compile(r"/admin/courses/?$"))
    page.goto("/admin/jobs")
    sentence = page.get_by_text("Runs in the web process (no broker)")
    count = page.get_by_text("Queued emails").locator("xpath=following-sibling::*[1]")
    expect(sentence).to_be_visible()
    assert font_size(sentence) < font_size(count) and font_size(sentence) <= 18


def font_size(element: Locator) -> float:
    return float(element.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def logged_in_as(page: Page, email: str, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    page.goto("/login")
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/(admin/courses|dashboard)/?$"))


def lines_of(text: Locator) -> float:
    """How many lines an element's text takes: its height over its line height."""
    return float(text.evaluate("""el => el.getBoundingClientRect().height
        / parseFloat(getComputedStyle(el).lineHeight)"""))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_audit_logs_when_stays_on_one_line(page: Page, viewport: dict[str, int]):
    """"06 Dec 2026, 09:21 UTC" stood on three lines beside a long "What changed"."""
    logged_in_as(page, "admin@academy.test", viewport)
    page.goto("/admin/audit")  # the demo data's setting up is on the record
    expect(page.get_by_role("columnheader", name="When (UTC)")).to_be_visible()
    when = page.get_by_role("rowheader").first.locator("p, span").first
    expect(when).to_have_text(re.compile(r"^\d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d$"))
    assert lines_of(when) < 1.5, f"the date takes {lines_of(when):.1f} lines"


def test_the_workspace_menu_on_a_phone_is_one_button_above_the_page(page: Page):
    """Ten links in rows pushed a phone's workspace page down by half a screen."""
    logged_in_as(page, "admin@academy.test", PHONE)
    page.goto("/admin/payments")
    side = page.get_by_role("navigation", name="Workspace")
    button = side.get_by_role("button", name="Workspace · Payments")
    expect(button).to_be_visible()
    expect(side.get_by_role("link")).to_have_count(0)  # no row of links: the menu holds them
    heading = page.get_by_role("heading", level=1, name="Payments").bounding_box()
    assert heading and heading["y"] < 250, f"the page's title starts at {heading}"

    # The keyboard opens it, arrows move through it, Escape gives the focus back. (The mouse is
    # moved off first: an item opening under a resting pointer takes the focus, as hovering does.)
    page.mouse.move(0, page.viewport_size["height"] - 1)
    expect(button).to_be_enabled()
    button.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="Payments")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("menuitem")).to_have_count(10)  # six pages and the admin's four
    for theme, rules in zip(THEMES, (WCAG, COLOUR), strict=True):  # axe, with the menu open
        show_theme(page, theme)
        assert violations(page, rules) == [], theme
    show_theme(page, "light")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Payments")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Coupons")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/coupons/?$"))
    expect(side.get_by_role("button", name="Workspace · Coupons")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_review_shows_its_authors_picture_or_initials(page: Page, tmp_path: Path):
    logged_in_as(page, "maya@academy.test", DESKTOP)
    page.goto("/account")
    picture = tmp_path / "maya.png"
    Image.new("RGB", (256, 256), (200, 120, 80)).save(picture)
    page.get_by_label("Upload a picture").set_input_files(str(picture))
    expect(page.get_by_role("img", name="Your picture")).to_have_attribute(
        "src", re.compile(r"^/avatars/"))
    page.goto("/courses/python-foundations")
    reviews = page.get_by_role("region", name="Reviews")
    maya = reviews.get_by_role("article", name="Review by Maya Lin")
    expect(maya.get_by_role("img", name="Maya Lin").locator("img")).to_have_attribute(
        "src", re.compile(r"^/avatars/.+-64\.webp$"))
    # Tomás has no picture: his initials stand in, in an image named for him.
    tomas = reviews.get_by_role("article", name="Review by Tomás Rivera")
    expect(tomas.get_by_role("img", name="Tomás Rivera")).to_have_text("TR")


def test_the_completion_chart_gives_its_bars_room_on_a_phone(page: Page):
    """A 180 px column of lesson titles left the bars a third of a phone's chart."""
    logged_in_as(page, "instructor@academy.test", PHONE)
    page.goto("/admin/courses/1/analytics")
    chart = page.get_by_role("figure", name="Completion funnel by lesson")
    grid = chart.locator(".recharts-cartesian-grid").locator("visible=true")
    expect(grid).to_be_visible()
    box, plot = chart.bounding_box(), grid.bounding_box()
    assert box and plot
    assert plot["width"] >= 0.55 * box["width"], (
        f"the bars have {plot['width']:.0f}px of the chart's {box['width']:.0f}px")
    # The titles wrap in their column rather than run off the chart's left edge.
    for tick in chart.locator(".recharts-yAxis .recharts-cartesian-axis-tick-value").locator(
            "visible=true").all():
        label = tick.bounding_box()
        assert label and label["x"] >= box["x"], f"{tick.text_content()} starts left of the chart"
