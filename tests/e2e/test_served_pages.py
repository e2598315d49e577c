"""What a plain HTTP client (a crawler, a chat app's link preview) gets from the running app: no
browser, no scripts, redirects not followed."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from academy_app.db import make_engine
from academy_app.models import Course, Role, User
from tests.appserver import RunningApp
from tests.e2e.test_student_journey import sign_up
from tests.unit.test_served_html import Parsed

pytestmark = pytest.mark.e2e

# The app's scripts: a test that holds them back sees what a phone shows before they arrive.
APP_SCRIPTS = re.compile(r"/assets/[^/]+\.js$")
# The addresses the app prints in its links and emails, and that people paste into chats.
SHARED = ["/", "/courses", "/courses/python-foundations", "/login", "/signup", "/verify",
          "/verify/ACAD-0000-0000", "/dashboard", "/certificates", "/study-groups", "/account",
          "/password/forgot", "/learn/python-foundations/1"]


@pytest.fixture(scope="module")
def http(app_server: RunningApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_address_is_served_as_it_is_without_a_redirect(http: httpx.Client, path: str):
    for address in (path, path.rstrip("/") + "/"):
        response = http.get(address)
        assert response.status_code == 200, (address, response.headers.get("location"))
        assert response.headers["content-type"].startswith("text/html"), address


def test_assets_and_unknown_addresses_are_left_to_reflex(http: httpx.Client):
    assert http.get("/favicon.ico").status_code == 200
    assert http.get("/no-such-page").status_code == 404
    assert http.get("/courses/../../etc/passwd").status_code == 404


def test_a_course_page_is_readable_without_scripts(http: httpx.Client):
    response = http.get("/courses/python-foundations")
    assert response.status_code == 200
    html = Parsed(response.text)
    assert html.titles == ["Python Foundations · Academy"]
    assert html.one("og:title") == "Python Foundations · Academy"
    assert html.one("og:url").endswith("/courses/python-foundations")
    assert html.one("description") == html.one("og:description") != ""
    [course] = html.json_ld
    assert course["@type"] == "Course" and course["name"] == "Python Foundations"
    assert course["offers"]["priceCurrency"] == "USD" and course["provider"]["name"] == "Academy"
    assert "Python Foundations" in html.text and "Price: Free" in html.text
    assert "Syllabus" in html.text


def test_the_sitemap_lists_the_published_courses_and_a_draft_is_a_404(
        http: httpx.Client, app_server: RunningApp):
    engine = make_engine(app_server.database_url)
    with Session(engine) as session:
        published = session.exec(select(Course.slug).where(col(Course.is_published))).all()
        instructor = session.exec(select(User).where(User.role == Role.INSTRUCTOR)).first()
        session.add(Course(slug="served-html-draft", title="Unannounced", subtitle="Hush",
                           instructor_id=instructor.id, is_published=False))
        session.commit()
    engine.dispose()
    listed = re.findall(r"<loc>[^<]*/courses/([^<]+)</loc>", http.get("/sitemap.xml").text)
    assert sorted(listed) == sorted(published) and published
    draft = http.get("/courses/served-html-draft")
    assert draft.status_code == 404
    assert "Unannounced" not in draft.text and "Hush" not in draft.text
    assert "Disallow: /admin" in http.get("/robots.txt").text


def before_the_app_runs(page: Page) -> Page:
    """The browser as a slow phone is before the app's scripts arrive: here they never do."""
    page.route(APP_SCRIPTS, lambda route: route.abort())
    return page


def test_before_the_app_runs_its_forms_take_no_typing_and_then_they_do(page: Page):
    before_the_app_runs(page).goto("/login")
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    # Typed now, a word would be lost when the app takes the page over: the fields say so.
    expect(page.get_by_label("Email")).to_be_disabled()
    expect(page.get_by_label("Password")).to_be_disabled()
    expect(page.get_by_role("button", name="Log in")).to_be_disabled()
    expect(page.get_by_role("link", name="Create an account")).to_be_enabled()  # links just work
    page.unroute(APP_SCRIPTS)
    page.reload()
    page.get_by_label("Email").fill("student@academy.test")  # waits for the app
    page.get_by_label("Password").fill("demo-password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def test_a_course_page_and_the_catalog_show_their_courses_before_the_app_runs(page: Page):
    before_the_app_runs(page).goto("/courses/python-foundations")
    expect(page.get_by_role("heading", level=1, name="Python Foundations")).to_be_visible()
    expect(page.get_by_role("img", name="Python Foundations")).to_be_visible()
    page.goto("/courses")
    expect(page.get_by_role("link", name="Python Foundations", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Python Foundations")).to_be_visible()
    # Once the app has drawn the page, what the server drew has made way: one title, one card.
    page.unroute(APP_SCRIPTS)
    page.goto("/courses/python-foundations")
    expect(page.get_by_role("button", name="Enroll").or_(
        page.get_by_role("link", name="Continue learning"))).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Python Foundations")).to_have_count(1)
    page.goto("/courses")
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^\d+ courses$"))).to_be_visible()
    expect(page.get_by_role("link", name="Python Foundations", exact=True)).to_have_count(1)


def test_an_enrolled_learner_sees_the_lesson_before_the_app_runs_and_a_visitor_does_not(
        page: Page):
    sign_up(page, "Paint Learner")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/courses/python-foundations")
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name="Continue learning").click()
    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_be_visible()
    lesson = page.url
    before_the_app_runs(page).goto(lesson)
    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Syllabus")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)  # their header, not a visitor's
    # Once the app has drawn the lesson, what the server drew has made way: one title.
    page.unroute(APP_SCRIPTS)
    page.reload()
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()
    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_have_count(1)
    page.context.clear_cookies()  # a visitor: the shell, then the app asks them to log in
    before_the_app_runs(page).goto(lesson)
    expect(page.get_by_role("heading", name="Why Python?")).to_have_count(0)


def test_the_catalogs_cards_sit_under_a_heading_one_level_above_theirs(page: Page):
    page.goto("/courses")
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^\d+ courses$"))).to_be_visible()
    levels = page.get_by_role("main").get_by_role("heading").evaluate_all(
        "headings => headings.map(heading => Number(heading.tagName[1]))")
    assert levels[:2] == [1, 2], levels
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(levels)), levels
