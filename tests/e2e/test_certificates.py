"""Certificates in the browser: earned by finishing a course, downloaded, verified by a stranger,
revoked by an admin, and the verification page saying so."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.test_polish import right_edge
from tests.e2e.test_student_journey import complete_every_lesson, landing, log_in, sign_up

pytestmark = pytest.mark.e2e


def test_earn_download_verify_and_revoke_a_certificate(open_page):
    learner = open_page()
    sign_up(learner, "Zoë Ångström")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto("/courses/python-foundations")
    learner.get_by_role("button", name="Enroll").click()
    learner.get_by_role("link", name="Continue learning").click()
    complete_every_lesson(learner)

    learner.goto("/dashboard")
    learner.get_by_role("link", name="My certificates").click()
    card = learner.get_by_role("heading", name="Python Foundations", level=2)
    expect(card).to_be_visible()
    expect(learner.get_by_text("Valid", exact=True)).to_be_visible()
    with learner.expect_download() as download_info:
        learner.get_by_role("link", name="Download the certificate for Python Foundations").click()
    download = download_info.value
    assert re.fullmatch(r"certificate-python-foundations-[0-9A-Z-]{19}\.pdf",
                        download.suggested_filename)
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    code = download.suggested_filename.removesuffix(".pdf")[-19:]

    stranger = open_page()  # not logged in
    stranger.goto(f"/verify/{code.lower()}")
    expect(stranger.get_by_role("status").filter(has_text="This certificate is valid.")).to_be_visible()
    expect(stranger.get_by_text("Zoë Ångström")).to_be_visible()
    expect(stranger.get_by_text("Iris Instructor")).to_be_visible()
    stranger.goto("/verify")
    stranger.get_by_role("button", name="Check").click()
    expect(stranger.get_by_role("alert")).to_have_text(
        "Enter the code printed under the certificate's QR code")
    stranger.get_by_label("Certificate code").fill("ABCD-2345-EFGH-6789")
    stranger.get_by_role("button", name="Check").click()
    expect(stranger).to_have_url(re.compile(r"/verify/ABCD-2345-EFGH-6789/?$"))
    expect(stranger.get_by_text("No certificate has this code")).to_be_visible()
    assert stranger.request.get(f"/downloads/certificates/{code}.pdf").status == 401

    admin = open_page()
    admin.goto("/login")
    log_in(admin, "admin@academy.test")
    expect(admin).to_have_url(landing("admin@academy.test"))
    admin.goto("/admin/certificates")
    admin.get_by_role("searchbox", name="Search certificates").fill("Ångström")
    expect(admin.get_by_role("row")).to_have_count(2)  # the header and Zoë's
    admin.get_by_role("button", name="Revoke the certificate of Zoë Ångström").click()
    dialog = admin.get_by_role("dialog", name="Revoke certificate")
    dialog.get_by_role("button", name="Revoke certificate").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Say why it is revoked: the verification page shows it")
    dialog.get_by_label("Reason").fill("Issued in error")
    dialog.get_by_role("button", name="Revoke certificate").click()
    expect(dialog).to_be_hidden()
    expect(admin.get_by_text("Issued in error")).to_be_visible()
    expect(admin.get_by_role("button", name="Reinstate the certificate of Zoë Ångström")
           ).to_be_visible()

    stranger.goto(f"/verify/{code}")
    revoked = stranger.get_by_role("status").filter(has_text="This certificate was revoked on")
    expect(revoked).to_be_visible()
    # The result's card spans the column, to the code field's Check button.
    result = stranger.locator(".rt-Card").filter(has=revoked)
    assert abs(right_edge(result) - right_edge(stranger.get_by_role("button", name="Check", exact=True))) <= 1
    expect(revoked).not_to_contain_text("Issued in error")  # the reason is the learner's
    expect(learner.get_by_text("Revoked", exact=True)).to_be_visible()  # live, no reload
    expect(learner.get_by_role("link", name=re.compile("^Download the certificate"))).to_have_count(0)


def test_a_certificate_goes_onto_a_linkedin_profile_or_the_clipboard(open_page, app_server):
    learner = open_page()
    sign_up(learner, "Sharing Learner")
    expect(learner).to_have_url(re.compile(r"/dashboard/?$"))
    learner.goto("/courses/design-systems-101")
    learner.get_by_role("button", name="Enroll").click()
    learner.get_by_role("link", name="Continue learning").click()
    complete_every_lesson(learner)
    learner.goto("/certificates")

    linkedin = learner.get_by_role("link", name="Add to LinkedIn profile: Design Systems 101")
    expect(linkedin).to_have_attribute("target", "_blank")
    shared = urlsplit(linkedin.get_attribute("href"))
    assert (shared.netloc, shared.path) == ("www.linkedin.com", "/profile/add")
    fields = {key: values[0] for key, values in parse_qs(shared.query).items()}
    assert fields["name"] == "Design Systems 101"
    verify_url = f"{app_server.url}/verify/{fields['certId']}"
    assert fields["certUrl"] == verify_url

    learner.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                      origin=app_server.url)
    learner.get_by_role("button",
                        name="Copy link to the verification page of Design Systems 101").click()
    expect(learner.get_by_text("Link copied")).to_be_visible()
    assert learner.evaluate("navigator.clipboard.readText()") == verify_url
