"""The probes a load balancer uses, on the app's one port."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

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
