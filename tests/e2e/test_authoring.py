"""An instructor builds and publishes a paid course; a learner pays, is approved, and learns. An
instructor uploads a course's cover, and the catalog and the course page show it."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.test_payments import logged_in, start_checkout
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e


def add_lesson(page: Page, module: str, title: str, body: str, shown: str) -> None:
    page.get_by_role("button", name=f"Add lesson to {module}").click()
    dialog = page.get_by_role("dialog", name="New lesson")
    dialog.get_by_label("Lesson title").fill(title)
    dialog.get_by_label("Lesson text").fill(body)
    expect(dialog.get_by_role("region", name="Lesson preview")).to_contain_text(shown)
    dialog.get_by_role("button", name="Save lesson").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text(title, exact=True)).to_be_visible()


def test_instructor_publishes_a_paid_course_that_a_learner_buys_and_opens(open_page):
    title = f"Spreadsheet Mastery {uuid.uuid4().hex[:4]}"
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses")
    instructor.get_by_role("link", name="New course").click()
    instructor.get_by_label("Title", exact=True).fill("x")
    instructor.get_by_role("button", name="Create course").click()
    expect(instructor.get_by_text("Give the course a title of 3 to 160 characters")).to_be_visible()

    instructor.get_by_label("Title", exact=True).fill(title)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower())
    expect(instructor.get_by_label("Web address")).to_have_value(slug)
    instructor.get_by_label("Subtitle").fill("Formulas, pivots and charts")
    instructor.get_by_label("Price", exact=True).fill("19.90")
    instructor.get_by_label("Description", exact=True).fill(
        "Learn **pivot tables** <script>alert(1)</script>")
    preview = instructor.get_by_role("region", name="Description preview")
    expect(preview.locator("strong")).to_have_text("pivot tables")
    expect(preview.locator("script")).to_have_count(0)
    instructor.get_by_role("button", name="Create course").click()
    expect(instructor).to_have_url(re.compile(r"/admin/courses/\d+/?$"))

    instructor.get_by_role("button", name="Publish").click()
    expect(instructor.get_by_text("Add at least one lesson before publishing")).to_be_visible()
    instructor.get_by_label("New module title").fill("Basic")
    instructor.get_by_role("button", name="Add module").click()
    instructor.get_by_role("button", name="Rename module: Basic").click()
    instructor.get_by_label("Module name").fill("Basics")
    instructor.get_by_role("button", name="Save", exact=True).click()
    add_lesson(instructor, "Basics", "Cells and ranges", "## Cells\n\nEvery cell has an address.",
               "Every cell has an address.")
    add_lesson(instructor, "Basics", "Your first formula", "Type **=SUM(A1:A3)**.",
               "Type =SUM(A1:A3).")
    add_lesson(instructor, "Basics", "Draft to remove", "Not ready", "Not ready")
    instructor.get_by_role("button", name="Delete lesson: Draft to remove").click()
    confirm = instructor.get_by_role("alertdialog", name="Delete lesson?")
    expect(confirm).to_contain_text("“Draft to remove” will be deleted")
    confirm.get_by_role("button", name="Delete").click()
    expect(instructor.get_by_text("Draft to remove", exact=True)).to_have_count(0)
    instructor.get_by_role("button", name="Publish").click()
    expect(instructor.get_by_text("Published", exact=True)).to_be_visible()

    student = open_page()
    sign_up(student, "Spreadsheet Learner")
    expect(student).to_have_url(re.compile(r"/dashboard/?$"))
    start_checkout(student, slug)
    expect(student.get_by_text("$19.90").first).to_be_visible()
    student.get_by_label("Payment reference").fill("TRX-SHEETS-1")
    student.get_by_role("button", name="Submit payment").click()
    expect(student.get_by_text("You will be enrolled as soon as it is approved")).to_be_visible()

    instructor.goto("/admin/payments")
    instructor.get_by_role("button", name="Approve payment of Spreadsheet Learner").click()
    expect(instructor.get_by_text("Payment approved")).to_be_visible()

    student.reload()
    student.get_by_role("link", name="Continue learning").click()
    expect(student.get_by_role("heading", name="Cells and ranges", level=1)).to_be_visible()


def sideways_photo(path: Path) -> Path:
    """A phone's JPEG: stored 800 by 400 with EXIF orientation 6, so upright it is a portrait."""
    image = Image.new("RGB", (800, 400), (30, 30, 220))
    image.paste((220, 30, 30), (0, 0, 400, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, format="JPEG", exif=exif.tobytes())
    return path


def test_an_instructor_uploads_a_cover_that_the_catalog_card_and_course_page_show(open_page,
                                                                                tmp_path):
    title = f"Darkroom Printing {uuid.uuid4().hex[:4]}"
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses/new")
    instructor.get_by_label("Title", exact=True).fill(title)
    expect(instructor.get_by_text("Once the course is created, you can upload its cover")) \
        .to_be_visible()
    instructor.get_by_role("button", name="Create course").click()
    expect(instructor).to_have_url(re.compile(r"/admin/courses/\d+/?$"))
    instructor.get_by_label("New module title").fill("Prints")
    instructor.get_by_role("button", name="Add module").click()
    add_lesson(instructor, "Prints", "Contact sheets", "Lay the negatives flat.",
               "Lay the negatives flat.")
    instructor.get_by_role("button", name="Publish").click()
    expect(instructor.get_by_text("Published", exact=True)).to_be_visible()

    upload = instructor.get_by_label("Upload cover picture")
    disguised = tmp_path / "cover.jpg"
    disguised.write_text("Not a picture, whatever its name says.\n")
    upload.set_input_files(disguised)
    expect(instructor.get_by_role("alert").filter(
        has_text="This file is not a JPEG, PNG or WebP picture")).to_be_visible()
    expect(instructor.get_by_text("No picture yet")).to_be_visible()

    instructor.get_by_label("Upload cover picture").set_input_files(
        sideways_photo(tmp_path / "darkroom.jpg"))
    expect(instructor.get_by_text("Cover saved")).to_be_visible()
    expect(instructor.get_by_role("img", name="Current cover")).to_be_visible()
    instructor.get_by_label("Cover description").fill("Red and blue test print")
    instructor.get_by_role("button", name="Save changes").click()
    expect(instructor.get_by_text("Course saved")).to_be_visible()

    visitor = open_page()
    visitor.goto("/courses?q=" + title.replace(" ", "+"))
    card = visitor.get_by_role("link", name=title)
    picture = card.get_by_role("img", name="Red and blue test print")
    expect(picture).to_be_visible()
    expect(picture).to_have_attribute("src", re.compile(r"^/covers/[0-9a-f]{32}-480x270\.webp$"))
    expect(picture).to_have_attribute("width", "480")
    expect(picture).to_have_attribute("height", "270")
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    box = picture.bounding_box()
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.02

    card.click()
    hero = visitor.get_by_role("img", name="Red and blue test print")
    expect(hero).to_have_attribute("src", re.compile(r"-1200x675\.webp$"))
    expect(hero).to_have_attribute("width", "1200")
