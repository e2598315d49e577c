"""What a plain HTTP client (a crawler, a chat app's link preview) gets from the running app: no
browser, no scripts, redirects not followed."""

from __future__ import annotations

import httpx
import pytest

from tests.appserver import RunningApp

pytestmark = pytest.mark.e2e

# The addresses the app prints in its links and emails, and that people paste into chats.
SHARED = ["/", "/courses", "/courses/python-foundations", "/login", "/signup", "/verify",
          "/verify/ACAD-0000-0000", "/dashboard", "/certificates", "/study-groups", "/account",
          "/password/forgot", "/learn/python-foundations/1"]


@pytest.fixture(scope="module")
def http(app_server: RunningApp) -> httpx.Client:
    with httpx.Client(base_url=app_server.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_address_is_served_as_it_is_without_a_redirect(http: httpx.Client, path: str):
    for address in (path, path.rstrip("/") + "/"):
        response = http.get(address)
        assert response.status_code == 200, (address, response.headers.get("location"))
        assert response.headers["content-type"].startswith("text/html"), address


def test_assets_and_unknown_addresses_are_left_to_reflex(http: httpx.Client):
    assert http.get("/favicon.ico").status_code == 200
    assert http.get("/no-such-page").status_code == 404
    assert http.get("/courses/../../etc/passwd").status_code == 404
