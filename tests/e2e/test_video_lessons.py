"""Video lessons in a real browser: a 16:9 frame from the first paint, captions the player loads,
a transcript under the video, and captions an instructor uploads as a .vtt file."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import continue_course, sign_up

pytestmark = pytest.mark.e2e


def test_a_video_lesson_plays_in_a_16_by_9_frame_with_captions_and_a_transcript(page: Page):
    sign_up(page, "Vera Viewer")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    continue_course(page, "/courses/python-foundations")
    expect(page.get_by_role("heading", name="Why Python?", level=1)).to_be_visible()

    video = page.get_by_label("Lesson video")
    expect(video).to_be_visible()
    box = video.bounding_box()
    assert box and abs(box["width"] / box["height"] - 16 / 9) < 0.02, box
    track = video.locator("track[kind=captions]")
    expect(track).to_have_attribute("src", re.compile(r"^/lessons/\d+/captions\.vtt$"))
    # The player asks for the track with the page's login cookie, as this request does.
    served = page.request.get(track.get_attribute("src") or "")
    assert served.status == 200 and served.text().startswith("WEBVTT")

    transcript = page.get_by_role("list", name="Transcript of the video")
    expect(transcript).to_be_hidden()
    page.get_by_text("Transcript", exact=True).click()
    expect(transcript.get_by_role("listitem")).to_have_count(3)
    expect(transcript.get_by_role("listitem").first).to_have_text(
        re.compile(r"^0:00\s*Welcome to this lesson: Why Python\?$"))


def test_an_instructor_uploads_captions_and_a_mistake_is_named_by_line(
        open_page: Callable[[], Page], tmp_path):
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.get_by_role("link", name="Statistics You Can Use").first.click()
    expect(instructor).to_have_url(re.compile(r"/admin/courses/\d+/?$"))
    instructor.get_by_role("button", name="Edit lesson: Variance in pictures").click()
    dialog = instructor.get_by_role("dialog", name="Edit lesson")

    broken = tmp_path / "broken.vtt"
    broken.write_text("WEBVTT\n\n00:05.000 --> 00:01.000\nBackwards\n")
    dialog.get_by_label("Choose a .vtt file").set_input_files(broken)
    expect(dialog.get_by_label("Captions, WebVTT (optional)")).to_have_value(
        re.compile("Backwards"))
    dialog.get_by_role("button", name="Save lesson").click()
    expect(dialog.get_by_text("Line 3: A cue must end after it starts")).to_be_visible()

    fixed = tmp_path / "variance.vtt"
    fixed.write_text("WEBVTT\n\n00:00.000 --> 00:04.000\nSpread is how far values wander.\n")
    dialog.get_by_label("Choose a .vtt file").set_input_files(fixed)
    dialog.get_by_label("Poster image address (optional)").fill("https://media.example.com/v.jpg")
    dialog.get_by_role("button", name="Save lesson").click()
    expect(instructor.get_by_text("Lesson saved")).to_be_visible()

    # Opened again, the lesson shows what was saved.
    instructor.get_by_role("button", name="Edit lesson: Variance in pictures").click()
    expect(dialog.get_by_label("Captions, WebVTT (optional)")).to_have_value(
        re.compile("Spread is how far values wander"))
