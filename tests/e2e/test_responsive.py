"""Responsive navigation and layout (issue 18) in a real browser: the phone header's Menu drawer, no
page scrolling sideways on a phone or at 200 % zoom for any role, the course page's call to action
within reach on a phone, and the current page marked in the top bar and the workspace menu.

Sizes: a phone is 390x844 CSS pixels. 200 % zoom of a 1366x900 window is emulated as what Chromium
lays out when zoomed: a 683x450 CSS-pixel viewport at device_scale_factor 2 (media queries and
layout see 683 px, each CSS pixel drawn as 2x2 device pixels).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.appserver import RunningApp
from tests.e2e.test_student_journey import landing, log_in, sign_up

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}}
ZOOM_200 = {"viewport": {"width": 683, "height": 450}, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}

STUDENT = "student@academy.test"
INSTRUCTOR = "instructor@academy.test"
ADMIN = "admin@academy.test"
LONG_NAME = "Maximilianawolfeschlegelsteinhausenbergerdorffvonlangername"

PUBLIC_PAGES = ["/", "/courses", "/courses/python-foundations", "/courses/accessible-interfaces",
                "/login", "/signup", "/password/forgot", "/password/reset/forged-token", "/verify",
                "/verify/ABCD-2345-EFGH-6789", "/unsubscribe/forged.token",
                "/account/email/forged-token", "/courses/no-such-course", "/no-such-page"]
LEARNER_PAGES = ["/dashboard", "/certificates", "/account", "/study-groups",
                 "/learn/python-foundations/1", "/notifications"]
STAFF_PAGES = ["/admin/courses", "/admin/courses/new", "/admin/courses/1",
               "/admin/courses/1/learners", "/admin/courses/1/analytics",
               "/admin/courses/1/pacing", "/admin/analytics",
               "/admin/payments", "/admin/coupons", "/admin/study-groups"]
ADMIN_PAGES = ["/admin/users", "/admin/certificates", "/admin/audit", "/admin/jobs"]
# Staff's question inbox, a question bank and a quiz's editor and results.
STAFF_MORE = ["/admin/discussions", "/admin/courses/1/questions", "/admin/quizzes/1",
              "/admin/quizzes/1/results"]
PAGES_OF = {
    "visitor": PUBLIC_PAGES,
    STUDENT: LEARNER_PAGES + PUBLIC_PAGES[:4],
    INSTRUCTOR: STAFF_PAGES + LEARNER_PAGES[:4] + PUBLIC_PAGES[:4],
    ADMIN: STAFF_PAGES + ADMIN_PAGES + LEARNER_PAGES[:4],
}
# The main links each person is offered, in order.
LINKS_OF = {
    "visitor": ["Courses"],
    STUDENT: ["Courses", "My learning", "Study groups"],
    INSTRUCTOR: ["Courses", "My learning", "Study groups", "Workspace"],
    ADMIN: ["Courses", "My learning", "Study groups", "Workspace"],
}


@pytest.fixture
def open_sized(browser: Browser, app_server: RunningApp) -> Iterator[Callable[..., Page]]:
    """A person's own browser at a given size (`PHONE`, `ZOOM_200`, `DESKTOP`), logged in as
    `who` unless it is "visitor"."""
    contexts: list[BrowserContext] = []

    def open_as(who: str, size: dict) -> Page:
        contexts.append(browser.new_context(base_url=app_server.url, **size))
        contexts[-1].set_default_timeout(15_000)
        page = contexts[-1].new_page()
        if who != "visitor":
            page.goto("/login")
            log_in(page, who)
            expect(page).to_have_url(landing(who))
        return page

    yield open_as
    for context in contexts:
        context.close()


def settled(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    # Skeletons gone: data is shown (the first page of a fresh server can take a while).
    expect(page.locator("[aria-busy='true']")).to_have_count(0, timeout=15_000)


def sideways_overflow(page: Page) -> str:
    """'' when the page fits its width, else the widths and the elements sticking out."""
    return page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return '';
        const out = [...document.body.querySelectorAll('*')]
            .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
            .slice(0, 5).map(el => el.tagName + '.' + String(el.className).slice(0, 40));
        return `${root.scrollWidth}px > ${root.clientWidth}px: ${out.join(', ')}`;
    }""")


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


@pytest.mark.parametrize("who", list(LINKS_OF))
def test_phone_header_opens_a_menu_drawer_and_gives_focus_back(
        open_sized: Callable[..., Page], who: str):
    page = open_sized(who, PHONE)
    settled(page, "/courses")
    header = page.get_by_role("banner")
    # One row, nothing past the right edge: "Workspace" and the account live in the drawer.
    box = header.bounding_box()
    assert box and box["height"] <= 72, f"the header wraps: {box}"
    assert header.evaluate("""h => [...h.querySelectorAll('*')].every(
        el => el.getBoundingClientRect().right <= window.innerWidth)""")
    expect(main_nav(page)).to_be_hidden()  # the inline links are for wide screens

    menu = page.get_by_role("button", name="Menu", exact=True)
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    drawer = page.get_by_role("dialog", name="Menu")
    expect(drawer).to_be_visible()
    # The open (modal) drawer hides the rest of the page from the accessibility tree.
    behind = page.get_by_role("button", name="Menu", exact=True, include_hidden=True)
    expect(behind).to_have_attribute("aria-expanded", "true")
    expect(behind).to_have_attribute("aria-controls", drawer.get_attribute("id") or "-")
    assert drawer.evaluate("d => d.contains(document.activeElement)"), "focus moved into the drawer"
    links = drawer.get_by_role("navigation", name="Main").get_by_role("link")
    expect(links).to_have_text(LINKS_OF[who])
    expect(drawer.get_by_role("link", name="Courses")).to_have_attribute("aria-current", "page")
    if who != "visitor":
        expect(drawer.get_by_role("button", name="Log out")).to_be_visible()
        expect(drawer.get_by_role("link", name=re.compile("your account$"))).to_be_visible()

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")

    # A link in the drawer goes there and closes the drawer.
    menu.click()
    page.get_by_role("dialog", name="Menu").get_by_role("link", name="Courses").click()
    expect(page.get_by_role("dialog", name="Menu")).to_be_hidden()


@pytest.mark.parametrize("who", [STUDENT, ADMIN])
def test_desktop_keeps_the_links_inline(open_sized: Callable[..., Page], who: str):
    page = open_sized(who, DESKTOP)
    expect(main_nav(page).get_by_role("link")).to_have_text(LINKS_OF[who])
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
    header = page.get_by_role("banner").bounding_box()
    assert header and header["height"] <= 72, f"the header wraps: {header}"


@pytest.mark.parametrize("size", [PHONE, ZOOM_200], ids=["phone-390", "zoom-200"])
@pytest.mark.parametrize("who", list(PAGES_OF))
def test_no_page_scrolls_sideways(open_sized: Callable[..., Page], who: str, size: dict):
    page = open_sized(who, size)
    overflowing = {}
    for path in PAGES_OF[who]:
        settled(page, path)
        if problem := sideways_overflow(page):
            overflowing[path] = problem
    assert overflowing == {}


@pytest.mark.parametrize("size", [PHONE, ZOOM_200], ids=["phone-390", "zoom-200"])
def test_no_workspace_tool_page_scrolls_sideways(open_sized: Callable[..., Page], size: dict):
    """The question bank's tag filter and Export GIFT pushed a phone's page 17 px sideways."""
    page = open_sized(INSTRUCTOR, size)
    overflowing = {}
    for path in STAFF_MORE:
        settled(page, path)
        if problem := sideways_overflow(page):
            overflowing[path] = problem
    assert overflowing == {}


def test_a_wide_workspace_table_scrolls_in_its_own_region(open_sized: Callable[..., Page]):
    page = open_sized(ADMIN, PHONE)
    settled(page, "/admin/users")
    region = page.get_by_role("region", name="Users")
    expect(region.get_by_role("table")).to_be_visible()
    expect(region).to_have_attribute("tabindex", "0")  # keys scroll it
    assert region.evaluate("r => r.scrollWidth > r.clientWidth"), "the table is wider than a phone"
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle())
    assert sideways_overflow(page) == ""


def in_first_viewport(target: Locator) -> None:
    """Visible without scrolling: measured in one step in the page, as a live refresh may redraw
    the element between two Playwright calls."""
    expect(target).to_be_visible()
    top, bottom, height = target.evaluate(
        "el => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; }")
    assert top >= 0 and bottom <= height, f"{target} spans {top}-{bottom}px, below {height}px"


@pytest.mark.parametrize(("path", "price"), [("/courses/python-foundations", "Free"),
                                             ("/courses/accessible-interfaces", "$39")])
def test_phone_course_page_shows_price_and_enroll_before_the_syllabus(
        open_sized: Callable[..., Page], path: str, price: str):
    page = open_sized("visitor", PHONE)
    settled(page, path)
    in_first_viewport(page.get_by_text(price, exact=True))
    in_first_viewport(page.get_by_role("button", name="Enroll"))
    syllabus = page.get_by_role("heading", name="Syllabus").bounding_box()
    enroll = page.get_by_role("button", name="Enroll").bounding_box()
    assert syllabus and enroll and enroll["y"] < syllabus["y"]


def test_phone_course_page_shows_continue_to_an_enrolled_learner(open_sized: Callable[..., Page]):
    page = open_sized("visitor", PHONE)
    # A name with no space to break at: it wraps in the drawer and on the account page.
    sign_up(page, LONG_NAME)
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    settled(page, "/courses/python-foundations")
    page.get_by_role("button", name="Enroll").click()
    in_first_viewport(page.get_by_role("link", name="Continue learning"))
    page.get_by_role("link", name="Continue learning").click()
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()
    lesson = page.url
    for path in ("/dashboard", "/account", "/courses/python-foundations", lesson):
        settled(page, path)
        assert sideways_overflow(page) == "", path
    page.get_by_role("button", name="Menu", exact=True).click()
    expect(page.get_by_role("dialog", name="Menu").get_by_text(LONG_NAME)).to_be_visible()
    assert sideways_overflow(page) == ""


def marker(link: Locator) -> dict[str, str]:
    return link.evaluate("""el => { const s = getComputedStyle(el);
        return {color: s.color, background: s.backgroundColor, shadow: s.boxShadow}; }""")


def test_the_current_page_is_marked_in_the_top_bar_and_the_workspace_menu(
        open_sized: Callable[..., Page]):
    page = open_sized(ADMIN, DESKTOP)
    settled(page, "/courses")
    top = main_nav(page)
    expect(top.get_by_role("link", name="Courses")).to_have_attribute("aria-current", "page")
    expect(top.get_by_role("link", name="My learning")).not_to_have_attribute(
        "aria-current", re.compile(".*"))
    assert marker(top.get_by_role("link", name="Courses")) != marker(
        top.get_by_role("link", name="My learning")), "the current page looks different"

    settled(page, "/admin/users")
    # Any workspace page is within Workspace; Users is the page itself in the side menu.
    expect(top.get_by_role("link", name="Workspace")).to_have_attribute("aria-current", "true")
    side = page.get_by_role("navigation", name="Workspace")
    expect(side.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")
    expect(side.locator("[aria-current]")).to_have_count(1)
    assert marker(side.get_by_role("link", name="Users")) != marker(
        side.get_by_role("link", name="Jobs")), "the current page looks different"

    settled(page, "/admin/courses/1")  # a course's editor is within Courses
    expect(side.get_by_role("link", name="Courses")).to_have_attribute("aria-current", "true")


def test_the_workspace_menu_lines_up_with_the_header_at_1366(open_sized: Callable[..., Page]):
    page = open_sized(ADMIN, DESKTOP)
    settled(page, "/admin/payments")
    logo = page.get_by_role("link", name="Academy home").bounding_box()
    first = page.get_by_role("navigation", name="Workspace").get_by_role("link").first
    menu = first.bounding_box()
    assert logo and menu and abs(logo["x"] - menu["x"]) <= 1, (
        f"header content starts at {logo['x'] if logo else None}px, "
        f"the side menu at {menu['x'] if menu else None}px")
