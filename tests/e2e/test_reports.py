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
