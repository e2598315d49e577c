"""Take the screenshots the README and docs/extending.md show, from the app as it is now.

    .venv/bin/python scripts/screenshots.py [scene ...] [--url URL]

starts the app as the browser tests do (prod mode, a fresh SQLite database with the demo data),
plays each scene in headless Chromium as the person it shows (a visitor, a learner, the instructor,
the admin), and writes docs/screenshots/<name>.png, reduced to 256 colours so that a page costs
tens of kilobytes, not hundreds. Scenes named: only those. The account and notifications
screenshots come from their browser test (tests/e2e/test_account.py); the certificate PDF's
picture is not a page.

Look at every picture it writes before committing it.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file, from anywhere

from academy_app.settings import PROJECT_ROOT
from tests.appserver import running_app
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.quiz_answers import answer, sections, start, submit
from tests.e2e.test_student_journey import complete_every_lesson, log_in, sign_up

OUT = PROJECT_ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
INSTRUCTOR, ADMIN, MAYA = "instructor@academy.test", "admin@academy.test", "maya@academy.test"
SCENES: dict[str, Callable[[Browser, str], None]] = {}


def scene(function: Callable[[Browser, str], None]) -> Callable[[Browser, str], None]:
    SCENES[function.__name__] = function
    return function


def save(png: bytes, name: str, *, shadowed: bool = False) -> None:
    """The PNG in 256 colours (screens are flat colour and text: nothing a reader would miss).
    Octree keeps a small patch of colour (the green "Live" dot) that median cut merged into grey.
    `shadowed`: the pixels mapped onto that palette with dithering, for a picture with a wide
    soft shadow (an open menu's), which the palette alone turns into a pale blob around the menu
    (quantize dithers only onto a given palette)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    reduced = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    if shadowed:
        reduced = image.quantize(palette=reduced, dither=Image.Dither.FLOYDSTEINBERG)
    reduced.save(OUT / f"{name}.png", optimize=True)
    print(f"{name}.png {image.width}x{image.height} {(OUT / f'{name}.png').stat().st_size // 1024} KiB")


def settled(page: Page, path: str | None = None) -> None:
    """Loaded, data shown (no skeletons), no toast over it, scrolled to the top."""
    if path is not None:
        page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.locator("[aria-busy='true']")).to_have_count(0, timeout=20_000)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    page.evaluate("window.scrollTo(0, 0)")


def shot(page: Page, name: str, *, whole: bool = False) -> None:
    """The window, or with `whole` the whole page: the window made as tall as the page first
    (headless Chromium's full-page capture leaves parts of a tall page unpainted)."""
    settled(page)
    width = page.viewport_size["width"]
    if whole:
        page.set_viewport_size({"width": width, "height": page.evaluate(
            "document.documentElement.scrollHeight")})
        page.wait_for_timeout(300)
    save(page.screenshot(), name)


@contextmanager
def person(browser: Browser, url: str, who: str | None, size: dict[str, int], *,
           theme: str = "light", scale: int = 1) -> Iterator[Page]:
    """A browser of one person's own at `size`, logged in as `who` (None: a visitor)."""
    context = browser.new_context(base_url=url, viewport=size, device_scale_factor=scale,
                                  color_scheme=theme)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    page = context.new_page()
    if who is not None:
        page.goto("/login")
        log_in(page, who)
        expect(page).to_have_url(re.compile(r"/(admin/courses|dashboard)/?$"))
    try:
        yield page
    finally:
        context.close()


@contextmanager
def newcomer(browser: Browser, url: str, name: str, size: dict[str, int] = DESKTOP, *,
             scale: int = 1) -> Iterator[Page]:
    """A person who has just signed up, on My learning."""
    with person(browser, url, None, size, scale=scale) as page:
        sign_up(page, name)
        expect(page).to_have_url(re.compile(r"/dashboard/?$"))
        yield page


def enrol(page: Page, slug: str) -> None:
    settled(page, f"/courses/{slug}")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_role("link", name="Continue learning")).to_be_visible()


def mark_complete(page: Page, slug: str, lessons: int) -> None:
    """The course's first `lessons` lessons marked complete, from its first."""
    settled(page, f"/courses/{slug}")
    page.get_by_role("link", name="Continue learning").click()
    for _ in range(lessons):
        page.get_by_role("button", name="Mark as complete").click()
        expect(page.get_by_role("button", name="Mark as not complete")).to_be_visible()
        title = page.get_by_role("heading", level=1).inner_text()
        page.get_by_role("button", name="Next lesson").click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text(title)


def a_face(path: Path) -> str:
    """A portrait-like picture to upload: a round head and shoulders on a plain ground."""
    image = Image.new("RGB", (512, 512), (214, 228, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((96, 330, 416, 650), fill=(64, 96, 160))
    draw.ellipse((166, 96, 346, 290), fill=(236, 200, 170))
    draw.pieslice((150, 70, 362, 250), 180, 360, fill=(70, 50, 40))
    image.save(path, format="PNG")
    return str(path)


# --- the scenes ----------------------------------------------------------------------------------

@scene
def catalog(browser: Browser, url: str) -> None:
    for theme, name in (("light", "catalog"), ("dark", "dark-catalog")):
        with person(browser, url, None, DESKTOP, theme=theme) as page:
            settled(page, "/courses")
            shot(page, name)
    with person(browser, url, None, PHONE, scale=2) as page:
        settled(page, "/courses")
        shot(page, "phone-catalog")


@scene
def course(browser: Browser, url: str) -> None:
    with person(browser, url, None, DESKTOP) as page:
        settled(page, "/courses/accessible-interfaces")
        shot(page, "course")
    with person(browser, url, None, PHONE, scale=2) as page:
        settled(page, "/courses/accessible-interfaces")
        shot(page, "phone-course")


@scene
def menu(browser: Browser, url: str) -> None:
    for theme, name in (("light", "phone-menu"), ("dark", "phone-dark-menu")):
        with person(browser, url, INSTRUCTOR, PHONE, theme=theme, scale=2) as page:
            settled(page, "/courses")
            page.get_by_role("button", name="Menu", exact=True).click()
            expect(page.get_by_role("dialog", name="Menu")).to_be_visible()
            page.wait_for_timeout(400)  # the drawer's slide-in
            save(page.screenshot(), name)


@scene
def reviews(browser: Browser, url: str) -> None:
    with person(browser, url, MAYA, DESKTOP) as page:
        settled(page, "/courses/python-foundations")
        shot(page, "course-reviews", whole=True)
    with person(browser, url, MAYA, PHONE, scale=2) as page:
        settled(page, "/courses/python-foundations")
        region = page.get_by_role("region", name="Reviews")
        region.get_by_role("button", name="Edit your review").click()
        form = region.locator(".rt-Card").filter(
            has=page.get_by_role("heading", name="Edit your review"))
        expect(form).to_be_visible()
        form.scroll_into_view_if_needed()
        save(form.screenshot(), "phone-review-form")


@scene
def workspace(browser: Browser, url: str) -> None:
    """The workspace on a phone: its pages behind one button, over the audit log."""
    with person(browser, url, ADMIN, PHONE, scale=2) as page:
        settled(page, "/admin/audit")
        page.mouse.move(0, 0)  # not resting where the menu opens: it would mark an item
        page.get_by_role("button", name="Workspace · Audit log").click()
        expect(page.get_by_role("menu")).to_be_visible()
        page.wait_for_timeout(300)  # the menu's fade-in
        save(page.screenshot(), "phone-workspace", shadowed=True)


@scene
def dashboard(browser: Browser, url: str) -> None:
    with newcomer(browser, url, "Priya Patel", PHONE, scale=2) as page:
        shot(page, "phone-dashboard-empty", whole=True)
        page.set_viewport_size(DESKTOP)
        for slug in ("sql-for-analysts", "python-foundations"):
            enrol(page, slug)
        mark_complete(page, "sql-for-analysts", 3)
        mark_complete(page, "python-foundations", 1)
        settled(page, "/courses/sql-for-analysts")
        page.get_by_role("link", name="Continue learning").click()
        expect(page.get_by_role("heading", name="GROUP BY and aggregates")).to_be_visible()
        shot(page, "lesson")
        settled(page, "/dashboard")
        shot(page, "dashboard")


@scene
def discussion(browser: Browser, url: str) -> None:
    with person(browser, url, INSTRUCTOR, DESKTOP) as page, \
            tempfile.TemporaryDirectory() as folder:  # the instructor shows her face
        settled(page, "/account")
        page.get_by_label("Upload a picture").set_input_files(a_face(Path(folder) / "iris.png"))
        expect(page.get_by_role("img", name="Your picture")).to_have_attribute(
            "src", re.compile(r"^/avatars/"))
    with person(browser, url, "student@academy.test", DESKTOP) as page:
        enrol(page, "python-foundations")
        settled(page, "/learn/python-foundations/2")
        page.get_by_role("button", name="Open thread: Do I need Python 3.12 for this course?"
                         ).click()
        section = page.locator("section[aria-labelledby='discussion-heading']")
        expect(section.get_by_role("article", name="Post by Iris Instructor")
               .get_by_role("img", name="Iris Instructor").locator("img")).to_be_visible()
        # The sticky header would cover the section's top in a picture of the section alone.
        page.add_style_tag(content="header { position: static !important; }")
        section.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        save(section.screenshot(), "discussion")
    with person(browser, url, INSTRUCTOR, DESKTOP) as page:
        settled(page, "/admin/discussions")
        page.get_by_role("button", name="Answer: Why does print need parentheses?").click()
        page.get_by_label("Your answer").fill(
            "Yes: `print` is a function since Python 3, so it takes parentheses like any other.")
        shot(page, "questions-inbox")


@scene
def quiz(browser: Browser, url: str) -> None:
    with newcomer(browser, url, "Lena Fischer") as page:
        enrol(page, "python-foundations")
        mark_complete(page, "python-foundations", 4)  # the quiz comes last
        start(page)
        shown = sections(page)
        for index, section in enumerate(shown[:5]):
            answer(page, "python-foundations", section, right=index != 1)
        shot(page, "quiz", whole=True)
        for section in shown[5:]:
            answer(page, "python-foundations", section, right=False)
        submit(page)
        page.set_viewport_size(DESKTOP)
        shot(page, "quiz-result", whole=True)
    with person(browser, url, INSTRUCTOR, DESKTOP) as page:  # Lena's attempt among the results
        open_quiz_editor(page, "python-foundations")
        page.get_by_role("link", name="Results").click()
        expect(page.get_by_role("heading", level=1, name=re.compile(r"^Results: "))).to_be_visible()
        expect(page.get_by_role("rowheader", name="Lena Fischer")).to_be_visible()
        shot(page, "quiz-results", whole=True)


def open_quiz_editor(page: Page, slug: str) -> None:
    """The editor of the course's quiz, from the course's editor in the workspace."""
    settled(page, "/admin/courses")
    page.get_by_role("link", name=re.compile(slug.replace("-", " "), re.IGNORECASE)).first.click()
    page.get_by_role("link", name=re.compile(r"^Edit quiz: ")).first.click()
    expect(page).to_have_url(re.compile(r"/admin/quizzes/\d+/?$"))


@scene
def quiz_editor(browser: Browser, url: str) -> None:
    with person(browser, url, INSTRUCTOR, DESKTOP) as page:
        open_quiz_editor(page, "python-foundations")
        settled(page)
        page.get_by_role("button", name=re.compile(r"^Edit question 1: ")).click()
        expect(page.get_by_text("Attempts already taken keep the version they were taken "
                                "with")).to_be_visible()
        shot(page, "quiz-editor", whole=True)


@scene
def verify(browser: Browser, url: str) -> None:
    with newcomer(browser, url, "Zoë Ångström") as page:
        enrol(page, "design-systems-101")
        page.get_by_role("link", name="Continue learning").click()
        complete_every_lesson(page)
        settled(page, "/certificates")
        link = page.get_by_role("link", name="Download the certificate for Design Systems 101")
        code = re.search(r"([0-9A-Z]{4}-){3}[0-9A-Z]{4}", link.get_attribute("href") or "")
        assert code, "the certificate's code is in its link"
    with person(browser, url, ADMIN, DESKTOP) as page:
        settled(page, "/admin/certificates")
        page.get_by_role("button", name="Revoke the certificate of Zoë Ångström").click()
        dialog = page.get_by_role("dialog", name="Revoke certificate")
        dialog.get_by_label("Reason").fill("Issued in error")
        dialog.get_by_role("button", name="Revoke certificate").click()
        expect(dialog).to_be_hidden()
    with person(browser, url, None, DESKTOP) as page:
        settled(page, f"/verify/{code.group(0)}")
        expect(page.get_by_role("status").filter(has_text="was revoked")).to_be_visible()
        shot(page, "verify-revoked")


@scene
def study_groups(browser: Browser, url: str) -> None:
    with person(browser, url, MAYA, DESKTOP) as page:  # she takes two courses with groups
        settled(page, "/study-groups")
        shot(page, "study-groups-learner")
    with person(browser, url, INSTRUCTOR, DESKTOP) as page:
        settled(page, "/admin/study-groups")
        shot(page, "admin-study-groups")


@contextmanager
def app_at(url: str) -> Iterator[str]:
    """`url`, or with none the address of an app started for this run and stopped after it."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory() as workdir, running_app(Path(workdir)) as app:
        yield app.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", nargs="*", metavar="scene",
                        help=f"only these ({', '.join(SCENES)})")
    parser.add_argument("--url", default="", help="an app already serving fresh demo data "
                        "(`make run`), instead of starting one")
    args = parser.parse_args()
    if unknown := set(args.scenes) - set(SCENES):
        parser.error(f"no such scene: {', '.join(sorted(unknown))}")
    OUT.mkdir(parents=True, exist_ok=True)
    with app_at(args.url) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in args.scenes or SCENES:
            SCENES[name](browser, url)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
