"""axe-core (bundled with axe-playwright-python, nothing downloaded) finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.test_student_journey import continue_course, landing, log_in

pytestmark = pytest.mark.e2e
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Page) -> list[str]:
    page.wait_for_load_state("networkidle")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)  # skeletons gone: data is shown
    result = Axe().run(page, options=WCAG)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]]


@pytest.mark.parametrize("path", ["/", "/courses", "/courses/python-foundations", "/login",
                                  "/signup", "/courses/no-such-course", "/verify",
                                  "/verify/ABCD-2345-EFGH-6789", "/unsubscribe/forged.token",
                                  "/password/forgot", "/password/reset/forged-token",
                                  "/account/email/forged-token"])
def test_public_pages_have_no_wcag_violations(page: Page, path: str):
    page.goto(path)
    assert violations(page) == []


def test_learner_pages_have_no_wcag_violations(page: Page):
    page.goto("/login")
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    assert violations(page) == []
    continue_course(page, "/courses/design-systems-101")
    expect(page.get_by_role("button", name="Mark as complete")).to_be_visible()
    assert violations(page) == []
    page.goto("/certificates")
    expect(page.get_by_role("heading", name="My certificates")).to_be_visible()
    assert violations(page) == []
    page.goto("/account")
    expect(page.get_by_role("button", name="Log out everywhere")).to_be_visible()
    assert violations(page) == []
    page.goto("/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    assert violations(page) == []


@pytest.mark.parametrize("path", ["/admin/courses", "/admin/payments", "/admin/coupons",
                                  "/admin/users", "/admin/audit", "/admin/jobs",
                                  "/admin/certificates", "/admin/study-groups",
                                  "/admin/discussions",
                                  "/admin/courses/1", "/admin/courses/1/questions",
                                  "/admin/courses/1/pacing"])
def test_workspace_pages_have_no_wcag_violations(page: Page, path: str):
    page.goto("/login")
    log_in(page, "admin@academy.test")
    expect(page).to_have_url(landing("admin@academy.test"))
    page.goto(path)
    assert violations(page) == []
