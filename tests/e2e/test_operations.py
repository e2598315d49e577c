"""What operations reads on the app's one port: the probes, the headers, the metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from academy_app.demo import DEMO_PASSWORD
from tests.e2e.test_student_journey import log_in

pytestmark = pytest.mark.e2e


def test_health_and_readiness_probes_answer_on_the_app_port(page: Page):
    assert page.request.get("/healthz").json() == {"status": "ok"}
    ready = page.request.get("/readyz")
    assert ready.status == 200
    assert ready.json()["checks"]["database"]["ok"] is True


def test_every_response_carries_the_security_headers_and_pages_break_none_of_them(page: Page):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    for path in ("/", "/courses", "/healthz", "/login"):
        headers = page.request.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert "camera=()" in headers["permissions-policy"], path
    page.goto("/courses/python-foundations")
    page.get_by_role("heading", name="Python Foundations", level=1).wait_for()
    page.goto("/login")
    page.get_by_role("button", name="Log in").wait_for()
    assert violations == []


def test_toasts_and_the_fresh_start_at_log_in_and_out_run_under_the_policy(page: Page):
    """What script-src keeps 'unsafe-eval' for (infra/security_headers.py): a toast a handler
    returns and the rx.call_script that reloads the tab at log-in and log-out. Both work, and the
    browser reports no violation of the policy on the way."""
    page.add_init_script("document.addEventListener('securitypolicyviolation', event => "
                         "console.error('Content Security Policy violation: ' "
                         "+ event.violatedDirective))")
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if re.search(r"Content Security Policy|EvalError", message.text) else None)
    page.goto("/login")
    log_in(page, "student@academy.test")
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    page.goto("/admin/courses")  # a learner is sent home with a toast that says why
    expect(page.get_by_text("Only instructors and admins can open this page")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert refused == []


def scrape(page: Page) -> dict[tuple[str, tuple], float]:
    response = page.request.get("/metrics")
    assert response.status == 200, response.text()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text())
            for sample in family.samples}


def wait_for_metric(page: Page, name: str, ok: Callable[[float], bool], **labels: str) -> float:
    key, deadline = (name, tuple(sorted(labels.items()))), time.monotonic() + 15
    while True:
        found = scrape(page).get(key, 0.0)
        if ok(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_metrics_show_open_tabs_event_latency_and_pages_by_route(open_page):
    learner = open_page()
    learner.goto("/login")
    learner.get_by_role("button", name="Log in").wait_for()
    assert wait_for_metric(learner, "academy_websocket_clients", lambda n: n > 0) > 0

    count = "academy_event_handler_duration_seconds_count"
    before = scrape(learner).get((count, (("handler", "AccountFormState.login"),)), 0.0)
    learner.get_by_label("Email").fill("student@academy.test")
    learner.get_by_label("Password").fill(DEMO_PASSWORD)
    learner.get_by_role("button", name="Log in").click()
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    assert wait_for_metric(learner, count, lambda n: n > before,
                           handler="AccountFormState.login") == before + 1
    assert scrape(learner)[("academy_event_handler_duration_seconds_sum",
                            (("handler", "AccountFormState.login"),))] > 0

    course = learner.request.get("/courses/python-foundations")
    assert re.fullmatch(r"[0-9a-f]{16}", course.headers["x-request-id"])
    assert scrape(learner).get(("academy_http_responses_total",
                                (("route", "/courses/[slug]"), ("status", "2xx")))) >= 1
