"""Script in what people type stays text: course titles, lesson bodies, names, notifications.

An instructor writes a course whose title, subtitle, description, module, lesson title and lesson
body carry HTML, SVG, `javascript:` and Markdown payloads; a learner signs up with one for a name,
enrols, finishes the course (a certificate copies the name and title), pays for a second course, and
gets a course update and a notification carrying more. Every page that shows any of it is opened
in Chromium, as the person who sees it: no payload may run (`window.__xss` stays undefined, no
dialog opens, no event-handler attribute or `javascript:` link reaches the page), and each payload
shows as the text that was typed.

The Content-Security-Policy allows inline script (Reflex needs it), so escaping is the only
defence; the last test proves the probe would see a payload that did reach the page as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect
from sqlmodel import Session

from academy_app.db import make_engine
from academy_app.demo import DEMO_PASSWORD
from academy_app.models import Role
from academy_app.services import (
    accounts,
    announcements,
    authoring,
    certificates,
    emails,
    enrollment,
    notifications,
    payments,
    progress,
)
from tests.appserver import RunningApp
from tests.e2e.test_payments import logged_in

pytestmark = pytest.mark.e2e

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
JS_URL = "javascript:window.__xss=1"

COURSE_TITLE = f"Injected {IMG} course {SVG}"
PAID_TITLE = f"Paid {SCRIPT} course"
SUBTITLE = f"{SCRIPT} and {JS_URL}"
MODULE_TITLE = f"Module {SVG}"
LESSON_TITLE = f"Lesson {SCRIPT}"
LEARNER = f"Mallory {IMG} {SVG}"
INSTRUCTOR = f"Ivan {SCRIPT}"
UPDATE_TITLE = f"Update {IMG}"
UPDATE_MESSAGE = f"{SCRIPT} [x]({JS_URL})"
NOTE_TITLE = f"Note {SVG}"
NOTE_BODY = f"Body {IMG}"
# Markdown that tries every way markdown-it and nh3 might let script through: raw HTML (blocks and
# inline), javascript:/data: links and images, entity-encoded and mixed-case schemes, autolinks and
# reference definitions.
MARKDOWN = f"""# Heading {IMG}

[click me]({JS_URL}) [mixed case](JaVaScRiPt:window.__xss=1) [encoded](&#106;avascript:window.__xss=1)
[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==) <{JS_URL}>
![picture]({JS_URL}) ![quote](x" onerror="window.__xss=1) [ref link][ref]

{SCRIPT}

<div onmouseover="window.__xss=1">raw html block</div>

<a href="{JS_URL}">raw link</a> and inline {IMG} and <iframe src="{JS_URL}"></iframe>

[ref]: {JS_URL}
"""
# What a payload that reached the page as HTML would leave behind. React never writes on*
# attributes, so any of these came from injected markup.
INJECTED = ("[onerror], [onload], [onmouseover], [onclick], iframe, object, embed, "
            "a[href^='javascript:' i]:not([href*='React has blocked']), a[href^='data:' i]")
SETTLE_MS = 400  # an <img src=x onerror> or <svg onload> rendered as HTML fires well within this


@dataclass(frozen=True)
class World:
    course_id: int
    slug: str
    lesson_id: int
    learner_email: str
    instructor_email: str
    certificate_code: str


@pytest.fixture(scope="module")
def world(app_server: RunningApp) -> Iterator[World]:
    """Everything made through the services, as the people would: their own accounts, so other
    tests (and their counts) never meet it. Emails and PDFs are left to the app: this process only
    writes the rows."""
    engine = make_engine(app_server.database_url)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session:
        patch.setattr(emails, "send_later", lambda _ids: None)
        patch.setattr(certificates, "draw_later", lambda _ids: None)
        instructor = accounts.register(session, accounts.SignupForm(
            INSTRUCTOR, "xss-instructor@example.com", DEMO_PASSWORD), role=Role.INSTRUCTOR)
        learner = accounts.register(session, accounts.SignupForm(
            LEARNER, "xss-learner@example.com", DEMO_PASSWORD))
        session.flush()
        course = authoring.create_course(session, instructor, authoring.CourseForm(
            title=COURSE_TITLE, slug="xss-probe", subtitle=SUBTITLE, description=MARKDOWN))
        module = authoring.add_module(session, instructor, course.id, MODULE_TITLE)
        lesson = authoring.add_lesson(session, instructor, module.id, authoring.LessonForm(
            title=LESSON_TITLE, body=MARKDOWN))
        authoring.set_published(session, instructor, course.id, True)
        paid = authoring.create_course(session, instructor, authoring.CourseForm(
            title=PAID_TITLE, slug="xss-probe-paid", price="25"))
        paid_module = authoring.add_module(session, instructor, paid.id, "Only module")
        authoring.add_lesson(session, instructor, paid_module.id,
                             authoring.LessonForm(title="Only lesson"))
        authoring.set_published(session, instructor, paid.id, True)
        enrollment.enroll_free(session, learner, course.id)
        progress.set_lesson_completion(session, learner, lesson.id, True)  # issues the certificate
        payments.submit_payment(session, learner, paid.id, reference="TRX-XSS-0001")
        announcements.broadcast_update(session, instructor, course.id, UPDATE_TITLE, UPDATE_MESSAGE)
        notifications.notify(session, learner.id, "test", NOTE_TITLE, NOTE_BODY, JS_URL)
        session.commit()
        code = certificates.for_learner(session, learner)[0].code
        made = World(course.id, course.slug, lesson.id, learner.email, instructor.email, code)
    engine.dispose()
    yield made


class Probe:
    """A page, with every dialog it opens recorded (and dismissed)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_inert(self) -> None:
        self.page.wait_for_timeout(SETTLE_MS)
        assert self.page.evaluate("() => window.__xss") is None, f"a payload ran on {self.page.url}"
        assert not self.dialogs, self.dialogs
        injected = self.page.locator(INJECTED)
        assert injected.count() == 0, [injected.nth(i).evaluate("e => e.outerHTML")
                                       for i in range(injected.count())]


@pytest.fixture
def probe(open_page: Callable[[], Page]) -> Callable[[str | None], Probe]:
    """A fresh browser, logged in as `email` (or nobody)."""
    def make(email: str | None = None) -> Probe:
        page = logged_in(open_page, email) if email else open_page()
        return Probe(page)
    return make


def assert_markdown_is_text(probe: Probe, region: Locator) -> None:
    """The description or lesson: nothing ran; markup shows as typed; links that would run script
    are text."""
    probe.assert_inert()
    expect(region.get_by_role("heading", name=f"Heading {IMG}")).to_be_visible()
    expect(region.get_by_text(SCRIPT, exact=True)).to_be_visible()
    expect(region.get_by_text('<div onmouseover="window.__xss=1">raw html block</div>')
           ).to_be_visible()
    for name in ("click me", "mixed case", "encoded", "data", "raw link", "ref link"):
        expect(region.get_by_role("link", name=name)).to_have_count(0)
    region.get_by_text("click me").first.click()  # text, not a link: nothing happens


def test_course_title_subtitle_and_description_stay_text(world, probe):
    visitor = probe()
    page = visitor.page
    page.goto("/courses?q=Injected")
    card = page.get_by_role("link", name=COURSE_TITLE)
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name=COURSE_TITLE)).to_be_visible()
    expect(card.get_by_text(SUBTITLE)).to_be_visible()
    expect(card.get_by_text(INSTRUCTOR)).to_be_visible()
    visitor.assert_inert()

    card.click()
    expect(page).to_have_url(re.compile(rf"/courses/{world.slug}/?$"))
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    expect(page.get_by_text(SUBTITLE, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=MODULE_TITLE)).to_be_visible()
    expect(page.get_by_text(LESSON_TITLE, exact=True)).to_be_visible()
    assert_markdown_is_text(visitor, page.get_by_role("main"))
    visitor.assert_inert()
    expect(page).to_have_url(re.compile(rf"/courses/{world.slug}/?$"))


def test_the_lesson_dashboard_certificates_and_navbar_show_them_as_text(world, probe):
    learner = probe(world.learner_email)
    page = learner.page
    navbar_name = page.get_by_role("link", name=f"{LEARNER}: your account")
    expect(navbar_name.get_by_text(LEARNER, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"Revisit lessons of {COURSE_TITLE}")).to_be_visible()
    expect(page.get_by_role("progressbar", name=f"Progress in {COURSE_TITLE}")).to_be_visible()
    learner.assert_inert()

    page.goto(f"/learn/{world.slug}/{world.lesson_id}")
    expect(page.get_by_role("heading", name=LESSON_TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("link", name=COURSE_TITLE)).to_be_visible()
    assert_markdown_is_text(learner, page.get_by_role("main"))
    learner.assert_inert()

    page.goto("/certificates")
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=2)).to_be_visible()
    expect(page.get_by_role("link", name=f"Verification page of the certificate for {COURSE_TITLE}")
           ).to_be_visible()
    learner.assert_inert()

    stranger = probe()
    stranger.page.goto(f"/verify/{world.certificate_code}")
    expect(stranger.page.get_by_text(LEARNER, exact=True)).to_be_visible()
    expect(stranger.page.get_by_text(COURSE_TITLE, exact=True)).to_be_visible()
    expect(stranger.page.get_by_text(INSTRUCTOR, exact=True)).to_be_visible()
    stranger.assert_inert()


def test_notifications_and_course_updates_stay_text_and_their_links_do_not_run(world, probe):
    learner = probe(world.learner_email)
    page = learner.page
    page.get_by_role("button", name=re.compile(r"^Notifications, \d+ unread$")).click()
    bell = page.get_by_role("dialog", name="Notifications")
    expect(bell.get_by_text(f"{COURSE_TITLE}: {UPDATE_TITLE}", exact=True)).to_be_visible()
    expect(bell.get_by_text(UPDATE_MESSAGE, exact=True)).to_be_visible()
    expect(bell.get_by_text(NOTE_TITLE, exact=True)).to_be_visible()
    expect(bell.get_by_text(NOTE_BODY, exact=True)).to_be_visible()
    learner.assert_inert()
    bell.get_by_text(NOTE_TITLE, exact=True).click()  # its link was javascript:
    learner.assert_inert()


def test_staff_pages_show_the_learners_name_and_the_titles_as_text(world, probe):
    instructor = probe(world.instructor_email)
    page = instructor.page
    page.goto("/admin/payments")
    row = page.get_by_role("row").filter(has_text="TRX-XSS-0001")
    expect(row.get_by_text(LEARNER, exact=True)).to_be_visible()
    expect(row.get_by_text(PAID_TITLE, exact=True)).to_be_visible()
    expect(row.get_by_role("button", name=f"Approve payment of {LEARNER}")).to_be_visible()
    instructor.assert_inert()

    page.goto(f"/admin/courses/{world.course_id}/learners")
    expect(page.get_by_role("row").filter(has_text="xss-learner@example.com").get_by_text(
        LEARNER, exact=True)).to_be_visible()
    instructor.assert_inert()

    page.goto("/admin/courses")
    expect(page.get_by_role("link", name=COURSE_TITLE)).to_be_visible()
    page.get_by_role("link", name=COURSE_TITLE).click()
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    assert_markdown_is_text(instructor, page.get_by_role("region", name="Description preview"))
    page.get_by_role("button", name=f"Edit lesson: {LESSON_TITLE}").click()
    assert_markdown_is_text(instructor, page.get_by_role("region", name="Lesson preview"))
    instructor.assert_inert()

    admin = probe("admin@academy.test")
    page = admin.page
    page.goto("/admin/users")
    page.get_by_role("searchbox", name="Search users").fill("Mallory")
    expect(page.get_by_role("row").filter(has_text="xss-learner@example.com").get_by_text(
        LEARNER, exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name=f"Role of {LEARNER}")).to_be_visible()
    admin.assert_inert()

    page.goto("/admin/certificates")
    page.get_by_role("searchbox", name="Search certificates").fill("Mallory")
    row = page.get_by_role("row").filter(has_text="xss-learner@example.com")
    expect(row.get_by_text(LEARNER, exact=True)).to_be_visible()
    expect(row.get_by_text(COURSE_TITLE, exact=True)).to_be_visible()
    expect(row.get_by_role("button", name=f"Revoke the certificate of {LEARNER}")).to_be_visible()
    admin.assert_inert()


def test_the_probe_sees_a_payload_that_reaches_the_page_as_html(world, probe):
    """The control: were any of the payloads rendered as markup, the checks above would fail."""
    visitor = probe()
    visitor.page.goto(f"/courses/{world.slug}")
    expect(visitor.page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    visitor.page.get_by_role("main").evaluate(f"main => main.insertAdjacentHTML('beforeend', {IMG!r})")
    visitor.page.wait_for_timeout(SETTLE_MS)
    assert visitor.page.evaluate("() => window.__xss") == 1
    with pytest.raises(AssertionError):
        visitor.assert_inert()
