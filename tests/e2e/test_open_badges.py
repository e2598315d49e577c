"""Open Badges in the browser: a learner downloads the signed credential of a certificate (as JSON,
and baked into the badge image), an outside verifier (tests/credential_verifier.py, fetching only
the app's public URLs), the offline command and /verify's file check accept it, a stranger gets
the same file from /verify, and once an admin revokes the certificate both report it revoked."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlmodel import select

from academy_app import verify_credential
from academy_app.db import make_engine, session_scope
from academy_app.models import Certificate, User
from academy_app.services import certificates
from tests.credential_verifier import verify
from tests.e2e.test_student_journey import complete_every_lesson, sign_up

pytestmark = pytest.mark.e2e


def fetch(url: str) -> dict:
    """What a verifier's page on another site gets: the production app, its CORS middleware and
    security headers included, lets any origin read these documents."""
    request = urllib.request.Request(url, headers={"Origin": "https://employer.example"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("application/ld+json")
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        return json.load(answer)


def test_download_an_open_badge_verify_it_outside_and_see_it_revoked(open_page, app_server,
                                                                   tmp_path):
    learner = open_page()
    sign_up(learner, "Grace Hopper")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto("/courses/python-foundations")
    learner.get_by_role("button", name="Enroll").click()
    learner.get_by_role("link", name="Continue learning").click()
    complete_every_lesson(learner)

    learner.goto("/certificates")
    with learner.expect_download() as download_info:
        learner.get_by_role("link",
                            name="Download Open Badge (JSON) for Python Foundations").click()
    download = download_info.value
    assert re.fullmatch(r"open-badge-[0-9A-Z]{16}\.json", download.suggested_filename)
    with open(download.path()) as file:
        credential = json.load(file)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert verify(credential, fetch).revoked is False
    with learner.expect_download() as png_info:
        learner.get_by_role("link", name="Download badge (PNG) for Python Foundations").click()
    badge = Image.open(png_info.value.path())
    badge.load()
    assert json.loads(badge.text["openbadgecredential"]) == credential  # baked in
    issuer = tmp_path / "issuer.json"  # the employer's saved copy: then no network at all
    issuer.write_text(json.dumps(fetch(credential["issuer"]["id"])))
    for saved in (download.path(), png_info.value.path()):
        assert verify_credential.main([str(saved), "--offline", str(issuer)]) == 0

    code = download.suggested_filename.removeprefix("open-badge-").removesuffix(".json")
    stranger = open_page()  # not logged in
    stranger.goto(f"/verify/{code}")
    expect(stranger.get_by_role("status").filter(has_text="This certificate is valid.")).to_be_visible()
    with stranger.expect_download() as from_verify:
        stranger.get_by_role("link", name=re.compile(
            r"^Download Open Badge \(JSON\) of certificate ")).click()
    with open(from_verify.value.path()) as file:
        assert json.load(file) == credential  # signed once: the same credential for everyone
    badge_file = tmp_path / "badge.png"  # named as the learner would send it
    badge_file.write_bytes(Path(png_info.value.path()).read_bytes())
    check_file(stranger, badge_file, "This credential is valid: Python Foundations")

    engine = make_engine(app_server.database_url)
    with session_scope(engine) as session:  # the admin's revoke, as its page does it
        admin = session.exec(select(User).where(User.email == "admin@academy.test")).one()
        certificate = session.exec(select(Certificate).where(Certificate.code == code)).one()
        certificates.revoke(session, admin, certificate.id, "Issued in error")
    engine.dispose()
    assert verify(credential, fetch).revoked is True
    stranger.goto(f"/verify/{code}")
    expect(stranger.get_by_role("status").filter(has_text="This certificate was revoked on")
           ).to_be_visible()
    expect(stranger.get_by_role("link", name=re.compile("^Download Open Badge"))).to_have_count(0)
    check_file(stranger, badge_file, "Not valid because it was revoked by its issuer.")


def check_file(page: Page, path: Path, verdict: str) -> None:
    """A stranger checks the badge file on /verify."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose file: an Open Badge, JSON or PNG",
                         exact=True).click()
    chooser.value.set_files(str(path))
    expect(page.get_by_text(path.name)).to_be_visible()
    page.get_by_role("button", name="Verify file").click()
    expect(page.get_by_role("status").filter(has_text=verdict)).to_be_visible()
