"""The credential, the issuer document and the status list at their public URLs: JSON-LD, open to
any origin's GET, nothing private, and revocation flips the learner's bit."""

from __future__ import annotations

import base64
import gzip

import pytest
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.models import Role
from academy_app.services import certificates, credentials
from academy_app.state.certificates import CertificateLine, credential_download_href
from tests.factories import make_course, make_user
from tests.unit.test_certificates import certificate_of, complete


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(routes)


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science: From Zero", lessons_per_module=(1,))


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


def bit(status_list: dict, index: int) -> bool:
    encoded = status_list["credentialSubject"]["encodedList"]
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_the_credential_is_public_by_code_as_json_ld_for_any_origin(db, client, student, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    shown = certificates.display_code(certificate.code)
    answer = client.get(f"/credentials/{shown.lower()}.json",
                        headers={"Origin": "https://employer.example"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "content-disposition" not in answer.headers  # a verifier reads it in place
    assert answer.json()["id"] == credentials.credential_url(certificate.code)
    download = client.get(credential_download_href(shown))
    assert download.headers["content-disposition"] == \
        f'attachment; filename="open-badge-{certificate.code}.json"'
    assert download.json() == answer.json()  # signed once, the same bytes every time


@pytest.mark.parametrize("path", ["/credentials/ABCD-2345-EFGH-6789.json",
                                  "/credentials/not-a-code.json", "/credentials/status/99999",
                                  "/credentials/status/99999999999999999999"])
def test_unknown_credentials_and_lists_are_a_plain_404(db, client, path):
    answer = client.get(path)
    assert (answer.status_code, answer.json()) == (404, {"error": "not found"})


def test_only_get_is_answered(db, client):
    assert client.post("/credentials/issuer").status_code == 405


def test_revoking_flips_the_bit_and_reinstating_flips_it_back(db, client, student, admin, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    status = client.get(f"/credentials/{certificate.code}.json").json()["credentialStatus"]
    url = status["statusListCredential"].removeprefix(credentials.get_settings().site_url)
    index = int(status["statusListIndex"])
    before = client.get(url)
    assert before.headers["content-type"].startswith("application/ld+json")
    assert before.headers["cache-control"] == "public, max-age=60"
    assert not bit(before.json(), index)
    assert client.get(url).json() == before.json()  # not signed again while nothing changed

    certificates.revoke(db, admin, certificate.id, "Plagiarism")
    db.commit()
    assert bit(client.get(url).json(), index)
    certificates.reinstate(db, admin, certificate.id)
    db.commit()
    assert not bit(client.get(url).json(), index)


def test_the_issuer_document_lists_the_signing_key(db, client, student, course):
    complete(db, student, course)
    document = client.get("/credentials/issuer").json()
    credential = client.get(f"/credentials/{certificate_of(db, student).code}.json").json()
    method = credential["proof"]["verificationMethod"]
    assert document["id"] == credential["issuer"]["id"] == method.split("#")[0]
    assert document["assertionMethod"] == [method]
    assert document["verificationMethod"][0]["type"] == "Multikey"
    assert "secret" not in str(document).lower()


def test_the_certificate_page_links_the_credential(db, student, course):
    complete(db, student, course)
    row, = certificates.for_learner(db, student)
    line = CertificateLine.of(row)
    assert line.credential_href == f"/credentials/{row.code}.json?download"
