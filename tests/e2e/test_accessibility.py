"""Accessibility in a real browser: axe-core (bundled with axe-playwright-python, nothing downloaded)
finds no WCAG 2.2 A/AA violation on any page, for each role, at desktop and phone sizes, in the
light and the dark theme; the dark theme follows the system until the header's toggle sets it, and
stays set; and a learner gets from log-in to a completed lesson with the keyboard alone.

Each role's pages load once: the size and the theme change on the loaded page (a viewport resize,
an emulated prefers-color-scheme), which is what a reload would show and costs a fraction of it; in
the second theme only axe's rules about colour run again, as nothing else differs between themes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_responsive import (
    ADMIN,
    ADMIN_PAGES,
    INSTRUCTOR,
    PAGES_OF,
    STAFF_MORE,
    STAFF_PAGES,
    settled,
)
from tests.e2e.test_student_journey import landing, log_in, sign_up

pytestmark = pytest.mark.e2e
# resultTypes: axe lists only one node per passed rule; the violations are listed in full.
WCAG = {"runOnly": {"type": "tag",
                    "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
        "resultTypes": ["violations"]}
# What a theme changes is colour: in the second theme only the rules about colour run again.
COLOUR = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]},
          "resultTypes": ["violations"]}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
THEMES = ("light", "dark")
# The responsive test's pages of each role, with staff's question inbox, a question bank and a
# quiz's editor and results. An admin's learner pages are the instructor's, already checked.
PAGES_TO_CHECK = {
    **PAGES_OF,
    INSTRUCTOR: PAGES_OF[INSTRUCTOR] + STAFF_MORE,
    ADMIN: STAFF_PAGES + ADMIN_PAGES + STAFF_MORE[:2],
}


def violations(page: Page, options: dict = WCAG) -> list[str]:
    page.wait_for_load_state("networkidle")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)  # skeletons gone: data is shown
    expect(page).to_have_title(re.compile(r"\S"))  # the routed page has set its own title
    result = Axe().run(page, options=options)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]]


def show_theme(page: Page, theme: str) -> None:
    """The system's preference set to `theme`; the page follows it (no choice saved yet)."""
    page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
    expect(page.locator("html")).to_have_class(re.compile(rf"\b{theme}\b"))


def opened_as(open_page: Callable[[], Page], who: str) -> Page:
    page = open_page()
    page.set_viewport_size(DESKTOP)
    if who != "visitor":
        page.goto("/login")
        log_in(page, who)
        expect(page).to_have_url(landing(who))
    return page


def every_way(page: Page, where: str) -> dict[str, list[str]]:
    """axe's findings on the loaded page at each size in each theme, keyed by where they are."""
    found = {}
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for theme, options in zip(THEMES, (WCAG, COLOUR), strict=True):
            show_theme(page, theme)
            if problems := violations(page, options):
                found[f"{where} {size_name} {theme}"] = problems
    page.set_viewport_size(DESKTOP)
    return found


@pytest.mark.parametrize("who", list(PAGES_TO_CHECK))
def test_every_page_passes_wcag_22_aa_at_both_sizes_in_both_themes(
        open_page: Callable[[], Page], who: str):
    page = opened_as(open_page, who)
    found: dict[str, list[str]] = {}
    for path in PAGES_TO_CHECK[who]:
        settled(page, path)
        found |= every_way(page, path)
    # The phone's open Menu drawer, a modal dialog over the page.
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Menu", exact=True).click()
    expect(page.get_by_role("dialog", name="Menu")).to_be_visible()
    for theme, options in zip(THEMES, (WCAG, COLOUR), strict=True):
        show_theme(page, theme)
        if problems := violations(page, options):
            found[f"menu drawer {theme}"] = problems
    assert found == {}


def test_toasts_pass_wcag_22_aa_in_both_themes(open_page: Callable[[], Page]):
    """Toasts are checked where they show, whole: an error one (a learner sent away from the
    workspace) and a success one (an enrolment), in each theme."""
    page = open_page()
    page.set_viewport_size(DESKTOP)
    sign_up(page, "Toast Reader")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    found = {}
    for theme in THEMES:
        show_theme(page, theme)
        for raise_toast in (refused_a_workspace_page, enrolled):
            toast = raise_toast(page)
            toast.hover()  # Sonner holds a toast while the pointer is on it: axe reads it whole
            if problems := violations(page):
                found[f"{raise_toast.__name__} {theme}"] = problems
    assert found == {}


def refused_a_workspace_page(page: Page) -> Locator:
    page.goto("/admin/courses")
    toast = page.locator("[data-sonner-toast][data-type='error']")
    expect(toast).to_be_visible()
    return toast


def enrolled(page: Page) -> Locator:
    """A free course this learner has not joined yet (the first run takes the first, and so on)."""
    for slug in ("python-foundations", "sql-for-analysts", "design-systems-101"):
        settled(page, f"/courses/{slug}")
        enroll = page.get_by_role("button", name="Enroll")
        if enroll.is_visible():
            enroll.click()
            toast = page.locator("[data-sonner-toast][data-type='success']")
            expect(toast).to_be_visible()
            return toast
    raise AssertionError("no free course left to enrol in")


def test_the_theme_follows_the_system_until_the_toggle_sets_it_and_a_reload_keeps_it(
        open_page: Callable[[], Page]):
    page = opened_as(open_page, "visitor")
    page.emulate_media(color_scheme="dark")
    settled(page, "/courses")
    html = page.locator("html")
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    toggle = page.get_by_role("button", name="Dark theme", exact=True)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(html).to_have_class(re.compile(r"\blight\b"))
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()  # the choice outlives the page, though the system still prefers dark
    expect(html).to_have_class(re.compile(r"\blight\b"))
    expect(toggle).to_have_attribute("aria-pressed", "false")

    # On a phone the toggle sits in the Menu drawer, written out.
    page.set_viewport_size(PHONE)
    expect(toggle).to_be_hidden()
    page.get_by_role("button", name="Menu", exact=True).click()
    in_drawer = page.get_by_role("dialog", name="Menu").get_by_role("button", name="Dark theme")
    expect(in_drawer).to_have_attribute("aria-pressed", "false")
    in_drawer.click()
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    expect(in_drawer).to_have_attribute("aria-pressed", "true")
    page.emulate_media(color_scheme="light")  # the system changes its mind: the choice stands
    page.reload()
    expect(html).to_have_class(re.compile(r"\bdark\b"))


def focus_ring(page: Page) -> str:
    """How the focused element shows its focus: the outline drawn on it, its ::before or ::after
    (Radix's checkboxes, radios and switches) or a near ancestor (a text field's frame around its
    input); '' when none is drawn."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return '';
        const ring = s => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1;
        const styles = [getComputedStyle(el), getComputedStyle(el, '::before'),
                        getComputedStyle(el, '::after')];
        for (let up = el.parentElement, n = 0; up && n < 2; up = up.parentElement, n++)
            styles.push(getComputedStyle(up));
        const drawn = styles.find(ring);
        return drawn ? `${drawn.outlineWidth} ${drawn.outlineStyle} ${drawn.outlineColor}` : '';
    }""")


def focused(page: Page) -> str:
    """The focused element, described well enough to tell two apart."""
    return page.evaluate("""() => { const el = document.activeElement;
        const box = el.getBoundingClientRect();
        return `${el.tagName} "${(el.getAttribute('aria-label') || el.textContent || '').trim()
            .slice(0, 40)}" at ${Math.round(box.x)},${Math.round(box.y)}`; }""")


def tab_to(page: Page, target: Locator, key: str = "Tab", most: int = 120) -> None:
    """Press `key` (Tab or Shift+Tab) until `target` has focus. Each press must move focus
    somewhere else (never trapped) and every element it lands on must show a focus ring."""
    has_focus = "el => el === document.activeElement || el.contains(document.activeElement)"
    if target.evaluate(has_focus):  # already there (a form focuses its first field)
        return
    for _ in range(most):
        before = focused(page)
        page.keyboard.press(key)
        now = focused(page)
        assert now != before, f"{key} left focus on {now}"
        if page.evaluate("() => document.activeElement !== document.body"):
            assert focus_ring(page), f"no visible focus ring on {now}"
        if target.evaluate(has_focus):
            return
    raise AssertionError(f"{most} presses of {key} never reached {target}")


def test_a_learner_goes_from_log_in_to_a_completed_lesson_with_the_keyboard_alone(
        open_page: Callable[[], Page]):
    # The learner's account is made beforehand, in a browser of its own.
    setup = open_page()
    email = sign_up(setup, "Kim Keys")
    expect(setup).to_have_url(re.compile(r"/dashboard/?$"))
    page = open_page()
    page.set_viewport_size(DESKTOP)
    settled(page, "/login")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type("a-good-long-password")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))

    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/courses/?$"))
    tab_to(page, page.get_by_role("link", name="Python Foundations", exact=True))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/courses/python-foundations/?$"))
    tab_to(page, page.get_by_role("button", name="Enroll"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("link", name="Continue learning"))
    page.keyboard.press("Enter")
    mark = page.get_by_role("button", name="Mark as complete")
    tab_to(page, mark)
    page.keyboard.press("Space")
    # The button turns into its opposite and keeps focus: a keyboard user is not sent back to
    # the top of the page.
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()

    # Back up the page with Shift+Tab to the header, then on through the whole page: focus goes
    # past every control and out, never caught on the way.
    tab_to(page, page.get_by_role("link", name="Academy home"), key="Shift+Tab", most=200)
    page.keyboard.press("Shift+Tab")
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
    else:
        raise AssertionError("300 Tabs never got past the end of the lesson page")

    # On a phone: the Menu drawer opens from the keyboard, holds focus while open (it is modal),
    # and Escape closes it and gives focus back to the Menu button.
    page.set_viewport_size(PHONE)
    menu = page.get_by_role("button", name="Menu", exact=True)
    tab_to(page, menu)
    page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Menu")
    expect(drawer).to_be_visible()
    for _ in range(8):
        page.keyboard.press("Tab")
        assert drawer.evaluate("d => d.contains(document.activeElement)"), focused(page)
        assert focus_ring(page), f"no visible focus ring on {focused(page)}"
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(menu).to_be_focused()
    assert focus_ring(page), "no visible focus ring on the Menu button"
