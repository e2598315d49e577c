"""An instructor follows a course's learners, exports them, and reads its analytics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_payments import logged_in
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e


def test_instructor_sees_learners_exports_csv_and_reads_analytics(open_page):
    learner = open_page()
    sign_up(learner, "Reporting Learner")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto("/courses/design-systems-101")
    learner.get_by_role("button", name="Enroll").click()
    learner.get_by_role("link", name="Continue learning").click()
    learner.get_by_role("button", name="Mark as complete").click()
    expect(learner.get_by_role("button", name="Mark as not complete")).to_be_visible()

    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses")
    instructor.get_by_role("link", name="Design Systems 101").click()
    instructor.get_by_role("link", name="Learners").click()
    instructor.get_by_role("searchbox", name="Search learners").fill("reporting")
    row = instructor.get_by_role("row").filter(has_text="Reporting Learner")
    expect(row.get_by_role("progressbar", name="Progress of Reporting Learner")).to_have_attribute(
        "aria-valuenow", "25")  # one lesson of four: three, and the course's quiz
    instructor.get_by_role("button", name="Sort by progress").click()
    expect(instructor.get_by_role("columnheader", name="Sort by progress")).to_have_attribute(
        "aria-sort", "descending")
    with instructor.expect_download() as download:
        instructor.get_by_role("button", name="Export CSV").click()
    exported = open(download.value.path()).read()  # noqa: SIM115
    assert "Reporting Learner" in exported and "Percent complete" in exported

    instructor.get_by_role("link", name="← Design Systems 101").click()
    instructor.get_by_role("link", name="Course analytics").click()
    expect(instructor.get_by_role("figure", name="Completion funnel by lesson")).to_be_visible()
    expect(instructor.get_by_role("figure", name="Enrollments over the last 30 days")).to_be_visible()


def contrast(one: list[int], other: list[int]) -> float:
    """WCAG's contrast ratio of two sRGB colours (0-255 a channel)."""
    def luminance(rgb: list[int]) -> float:
        linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# A chart's tick label and what it is drawn on, as sRGB: the card's panel (translucent in the dark
# theme) laid over the page below it, on a one-pixel canvas, which also reads Radix's display-p3
# colours back in sRGB. axe cannot check text inside an SVG chart; this does.
TICK_COLOURS = """tick => {
    const card = tick.closest('.rt-Card');
    let below = card.parentElement;
    while (below && getComputedStyle(below).backgroundColor === 'rgba(0, 0, 0, 0)')
        below = below.parentElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const paint = canvas.getContext('2d', {willReadFrequently: true});
    const laid = (...colours) => {
        paint.clearRect(0, 0, 1, 1);
        for (const colour of colours) { paint.fillStyle = colour; paint.fillRect(0, 0, 1, 1); }
        return [...paint.getImageData(0, 0, 1, 1).data].slice(0, 3);
    };
    const page = below ? getComputedStyle(below).backgroundColor : 'white';
    const panel = laid(page, getComputedStyle(card, '::before').backgroundColor);
    return {text: laid(`rgb(${panel})`, getComputedStyle(tick).fill), background: panel,
            label: tick.textContent};
}"""


def test_chart_axis_labels_read_at_aa_contrast_in_both_themes(open_page):
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/courses/1/analytics")
    funnel = instructor.get_by_role("figure", name="Completion funnel by lesson")
    enrollments = instructor.get_by_role("figure", name="Enrollments over the last 30 days")
    ticks = instructor.locator(".recharts-cartesian-axis-tick-value")
    for theme in ("light", "dark"):
        instructor.emulate_media(color_scheme=theme)
        expect(instructor.locator("html")).to_have_class(re.compile(rf"\b{theme}\b"))
        for chart in (funnel, enrollments):
            expect(chart.locator(".recharts-cartesian-axis-tick-value").first).to_be_visible()
        dim = {}
        for index in range(ticks.count()):
            seen = ticks.nth(index).evaluate(TICK_COLOURS)
            if (ratio := contrast(seen["text"], seen["background"])) < 4.5:
                dim[f"{theme} {seen['label']}"] = f"{ratio:.2f}:1 ({seen['text']} on {seen['background']})"
        assert dim == {}
