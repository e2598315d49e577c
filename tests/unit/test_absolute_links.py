"""Every absolute link the academy hands out (a certificate's verify link and QR code, an email's
button, footer and unsubscribe links) starts with ACADEMY_PUBLIC_URL, built in one place."""

from __future__ import annotations

import json
import re

import pytest

from academy_app.infra import mail
from academy_app.models import EmailLog
from academy_app.services import certificates, emails
from academy_app.settings import PROJECT_ROOT, get_settings

ORIGIN = "https://academy.example"


@pytest.fixture
def public_url(monkeypatch) -> str:
    # As an operator might type it: a trailing slash and a stray space are not part of the origin.
    monkeypatch.setattr(get_settings(), "public_url", f" {ORIGIN}/ ")
    return ORIGIN


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_the_certificate_verify_link_and_qr_payload_start_with_the_public_url(public_url):
    # The PDF prints this address and its QR code carries it (tests/unit/test_certificates.py).
    assert certificates.verify_url("ABCD2345EFGH6789") == (
        f"{public_url}/verify/ABCD-2345-EFGH-6789")


def test_every_link_in_an_email_starts_with_the_public_url(public_url):
    token = emails.unsubscribe_token(7, emails.Topic.REMINDERS)
    email = EmailLog(id=1, kind="reminder.inactive", dedupe_key="reminder.inactive:user:7:1",
                     to_address="zoe@example.com", subject="Pick up SQL",
                     context=json.dumps({"name": "Zoë", "title": "Pick up SQL",
                                         "link": "/courses/sql", "unsubscribe_token": token}))
    message = mail.build_message(email)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"{public_url}/courses/sql" in text and f"{public_url}/unsubscribe/{token}" in text
    assert f'href="{public_url}/unsubscribe/{token}"' in html
    assert message["List-Unsubscribe"] == f"<{public_url}/email/unsubscribe/{token}>"
    links = links_in(text) + links_in(html) + links_in(message["List-Unsubscribe"])
    assert len(links) >= 6 and all(link.startswith(public_url + "/") for link in links), links


def test_without_a_public_url_links_name_this_machine(monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", None)
    monkeypatch.setattr(get_settings(), "port", 3999)
    assert get_settings().absolute_url("/verify/X") == "http://localhost:3999/verify/X"


def test_only_the_settings_know_the_sites_origin():
    """Any other module building `http://localhost…` or `site_url + path` itself is a link that
    escapes ACADEMY_PUBLIC_URL the next time someone edits it: they call absolute_url."""
    offenders = []
    for folder in ("academy_app", "tasks"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            if path == PROJECT_ROOT / "academy_app" / "settings.py":
                continue
            source = path.read_text(encoding="utf-8")
            if "http://localhost" in source or "site_url" in source:
                offenders.append(str(path.relative_to(PROJECT_ROOT)))
    assert offenders == []
