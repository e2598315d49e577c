"""The account page and /notifications in a real browser: a learner renames herself, uploads a
picture, turns one kind of email off, changes her email address through the link mailed to the new
one (read from the app's outbox), and reads her notifications, one arriving live, paged, marked
read one and all at once. Screenshots of both pages at desktop and phone sizes go to
docs/screenshots/."""

from __future__ import annotations

import email
import io
import re
import time
from email import policy

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from academy_app.db import make_engine
from academy_app.models import User
from academy_app.services import notifications
from academy_app.settings import PROJECT_ROOT
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIGN_UP_PASSWORD = "a-good-long-password"  # what sign_up() uses


def confirmation_link(app_server, address: str, timeout: float = 15) -> str:
    """The path of the link in the newest confirmation email to `address`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(app_server.outbox.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address and "Confirm your new" in message["Subject"]:
                text = message.get_body(("plain",)).get_content()
                return re.search(r"https?://[^/\s]+(/account/email/[\w-]+)", text).group(1)
        time.sleep(0.2)
    pytest.fail(f"no confirmation email to {address} in {app_server.outbox}")


def a_photo(path) -> str:
    image = Image.new("RGB", (900, 600), (40, 110, 180))
    image.paste((250, 190, 60), (300, 150, 600, 450))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def notify(app_server, address: str, count: int) -> None:
    """Older news for the learner, written through the service (as another process would)."""
    engine = make_engine(app_server.database_url)
    with Session(engine) as session:
        user_id = session.exec(select(User.id).where(User.email == address)).one()
        for n in range(count):
            notifications.notify(session, user_id, "test", f"Course news {n + 1}",
                                 f"Update number {n + 1} about your course.", "/courses")
        session.commit()
    engine.dispose()


def screenshot(page: Page, name: str, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{name}: the page scrolls sideways")
    # The window made as tall as the page: headless Chromium's full-page capture of a tall page
    # leaves parts below the first screens unpainted (blank cards), one run here, another there.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": height})
    # Taken at once, the newly shown part still had blank cards: give it the time to paint that
    # scripts/screenshots.py gives.
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_name_picture_email_preferences_and_a_new_address_by_its_link(open_page, app_server,
                                                                      tmp_path):
    page = open_page()
    address = sign_up(page, "Grace Hopper")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/account")

    # The name: refused empty, with its message on the field; saved, the header says it.
    name = page.get_by_label("Display name")
    name.fill("   ")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Enter your full name")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    name.fill("Grace Brewster Hopper")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("link", name="Grace Brewster Hopper: your account")).to_be_attached()

    # The picture: drawn at 256 px on the page, 64 px in the header.
    page.get_by_label("Upload a picture").set_input_files(a_photo(tmp_path / "me.jpg"))
    expect(page.get_by_role("img", name="Your picture")).to_have_attribute(
        "src", re.compile(r"^/avatars/[0-9a-f]{32}-256\.webp$"))
    assert page.request.get(page.get_by_role("img", name="Your picture")
                            .get_attribute("src")).headers["content-type"] == "image/webp"

    # One kind of email off; it stays off.
    reminders = page.get_by_role("switch", name="Study reminders")
    expect(reminders).to_be_checked()
    reminders.click()
    expect(reminders).not_to_be_checked()
    page.reload()
    expect(page.get_by_role("switch", name="Study reminders")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Payments and enrolments")).to_be_checked()

    # A new address: a wrong password is refused at its field; then the link goes to it.
    new_address = address.replace("learner-", "grace-")
    page.get_by_label("New email address").fill(new_address)
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text("This is not your current password")).to_be_visible()
    page.get_by_label("Current password").fill(SIGN_UP_PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_role("status").filter(has_text="We sent a link to")).to_contain_text(
        new_address)
    screenshot(page, "account.png", DESKTOP)
    screenshot(page, "phone-account.png", PHONE)
    page.set_viewport_size(DESKTOP)

    # The learner's notifications page is open in another tab while the link is used.
    notify(app_server, address, 22)
    inbox = page.context.new_page()
    inbox.goto("/notifications")
    expect(inbox.get_by_role("heading", name="Notifications")).to_be_visible()
    rows = inbox.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("Course news 22")

    page.goto(confirmation_link(app_server, new_address))
    expect(page.get_by_role("heading", name="Confirm your new email address")).to_be_visible()
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_role("heading", name="Your email address is changed")).to_be_visible()

    # Live, like the bell: the news arrives on the open page without a reload.
    expect(rows.first).to_contain_text("Your email address is changed")
    expect(inbox.get_by_role("button", name=re.compile(r"Notifications, 23 unread"))).to_be_visible()
    inbox.get_by_role("button", name="Mark as read: Your email address is changed").click()
    expect(inbox.get_by_role("button", name=re.compile(r"Notifications, 22 unread"))).to_be_visible()
    inbox.get_by_role("button", name="Show older notifications").click()
    expect(rows).to_have_count(23)
    expect(rows.last).to_contain_text("Course news 1")
    expect(inbox.get_by_role("button", name="Show older notifications")).to_have_count(0)
    screenshot(inbox, "notifications.png", DESKTOP)
    screenshot(inbox, "phone-notifications.png", PHONE)
    inbox.set_viewport_size(DESKTOP)
    inbox.get_by_role("button", name="Mark all as read").first.click()
    expect(inbox.get_by_text("All read")).to_be_visible()
    expect(inbox.get_by_role("button", name="Mark as read: Course news 3")).to_have_count(0)

    # The bell leads here.
    inbox.goto("/account")
    inbox.get_by_role("button", name=re.compile(r"^Notifications, ")).click()
    inbox.get_by_role("link", name="See all notifications").click()
    expect(inbox).to_have_url(re.compile(r"/notifications/?$"))

    # The new address logs in; the used link works no more.
    page.goto("/account")
    expect(page.get_by_text(new_address).first).to_be_visible()
    page.goto(confirmation_link(app_server, new_address))
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
