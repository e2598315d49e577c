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
