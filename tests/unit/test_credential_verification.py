"""The credential, the issuer and key documents and the status list at their public URLs
(JSON-LD, open to any origin's GET, nothing private; revocation flips the learner's bit), and an
independent verifier (tests/credential_verifier.py: its own canonicalisation, key decoding and
status list reading, fed only what the app serves over HTTP) that accepts a fresh credential,
rejects any tampering, sees a revoked one as revoked and a reinstated one as valid, and still
accepts what a rotated-out key signed."""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
from collections.abc import Callable

import pytest
from PIL import Image
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.infra import multikey
from academy_app.models import Role
from academy_app.services import certificates, credentials
from academy_app.settings import get_settings
from academy_app.state.certificates import CertificateLine, credential_download_href
from tests.credential_verifier import NotValid, verify
from tests.factories import make_course, make_user
from tests.unit.test_certificates import certificate_of, complete

KEY_A = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"  # the W3C test vectors' key
KEY_B = "z3u2eS4wZEHu4DRXokbrSUhtrbJMJjcpPBoNZ4XSThnyv3Jh"


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(routes)


@pytest.fixture
def fetch(client) -> Callable[[str], dict]:
    """What an outside verifier does with a URL in a credential: GET it from the app."""
    site = get_settings().site_url

    def get(url: str) -> dict:
        assert url.startswith(site), url  # nothing outside the issuer's own site is asked
        answer = client.get(url.removeprefix(site))
        if answer.status_code == 404:
            raise NotValid("unknown key" if "/keys/" in url else f"nothing at {url}")
        assert answer.status_code == 200, url
        return answer.json()
    return get


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science: From Zero", lessons_per_module=(1,))


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


def credential_of(client, db, learner) -> dict:
    return client.get(f"/credentials/{certificate_of(db, learner).code}.json").json()


def test_a_fresh_credential_verifies(db, client, fetch, student, course):
    complete(db, student, course)
    assert verify(credential_of(client, db, student), fetch).revoked is False


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def change(credential: dict) -> None:
        node = credential
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return change


TAMPERING = {
    "name": _set(("name",), "Brain Surgery — certificate of completion"),
    "one character of the achievement": _set(("credentialSubject", "achievement", "name"),
                                             "Data Science: From Zer0"),
    "the learner": _set(("credentialSubject", "identifier", 1, "identityHash"), "Mallory"),
    "the email hash": _set(("credentialSubject", "identifier", 0, "identityHash"),
                           "sha256$" + "0" * 64),
    "the date": _set(("validFrom",), "2020-01-01T00:00:00Z"),
    "the status index": _set(("credentialStatus", "statusListIndex"), "0"),
    "the proof's date": _set(("proof", "created"), "2020-01-01T00:00:00Z"),
    "an added field": _set(("credentialSubject", "achievement", "criteria", "id"),
                           "https://evil.example/criteria"),
}


@pytest.mark.parametrize("change", TAMPERING.values(), ids=TAMPERING.keys())
def test_any_tampering_fails_verification(db, client, fetch, student, course, change):
    complete(db, student, course)
    credential = credential_of(client, db, student)
    tampered = copy.deepcopy(credential)
    change(tampered)
    with pytest.raises(NotValid):
        verify(tampered, fetch)
    verify(credential, fetch)  # the untouched one still does


def test_a_forged_signature_or_a_foreign_key_is_refused(db, client, fetch, student, course):
    complete(db, student, course)
    credential = credential_of(client, db, student)
    forged = copy.deepcopy(credential)
    value = forged["proof"]["proofValue"]
    forged["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
    with pytest.raises(NotValid, match="signature"):
        verify(forged, fetch)
    foreign = copy.deepcopy(credential)
    stranger_key = multikey.public_multibase(multikey.decode_secret(KEY_B).public_key())
    method = foreign["proof"]["verificationMethod"]
    foreign["proof"]["verificationMethod"] = method.rsplit("/", 1)[0] + "/" + stranger_key
    with pytest.raises(NotValid, match="unknown key"):
        verify(foreign, fetch)


def test_revoked_reads_revoked_and_reinstated_reads_valid(db, client, fetch, student, admin,
                                                          course):
    complete(db, student, course)
    credential = credential_of(client, db, student)
    certificate = certificate_of(db, student)
    certificates.revoke(db, admin, certificate.id, "Plagiarism")
    db.commit()
    assert verify(credential, fetch).revoked is True
    certificates.reinstate(db, admin, certificate.id)
    db.commit()
    assert verify(credential, fetch).revoked is False


def test_what_a_rotated_out_key_signed_still_verifies(db, client, fetch, student, admin, course,
                                                      monkeypatch):
    monkeypatch.setattr(get_settings(), "credential_issuer_key", KEY_A)
    complete(db, student, course)
    old = credential_of(client, db, student)

    monkeypatch.setattr(get_settings(), "credential_issuer_key", KEY_B)  # rotated
    other = make_user(db, name="Other Learner")
    complete(db, other, course)
    new = credential_of(client, db, other)
    certificates.revoke(db, admin, certificate_of(db, other).id, "Issued in error")
    db.commit()  # the status list is signed again, by the new key

    key_a, key_b = (multikey.public_multibase(multikey.decode_secret(k).public_key())
                    for k in (KEY_A, KEY_B))
    assert (verify(old, fetch).key, verify(old, fetch).revoked) == (key_a, False)
    assert (verify(new, fetch).key, verify(new, fetch).revoked) == (key_b, True)
    assert credential_of(client, db, student) == old  # not signed again by the new key
    keys = fetch(old["issuer"]["id"])["verificationMethod"]
    assert [k["publicKeyMultibase"] for k in keys] == [key_a, key_b]
    assert keys[0]["signedUntil"] <= keys[1]["signedFrom"]
    assert "signedUntil" not in keys[1]  # still signing


# --- the endpoints ----------------------------------------------------------------------------

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
    assert document["id"] == credential["issuer"]["id"]
    assert document["assertionMethod"] == [method]
    key = client.get(method.removeprefix(credentials.get_settings().site_url))
    assert key.headers["content-type"].startswith("application/ld+json")
    assert key.json()["type"] == "Multikey" and key.json()["controller"] == document["id"]
    assert {**key.json(), "@context": None} == {**document["verificationMethod"][0],
                                                 "@context": None}
    assert "secret" not in str(document).lower()
    assert client.get("/credentials/keys/z6MkUnknown").status_code == 404


def test_the_badge_image_carries_the_credential_that_verifies(db, client, fetch, student, course):
    complete(db, student, course)
    code = certificate_of(db, student).code
    answer = client.get(f"/credentials/{code}.png?download")
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == \
        f'attachment; filename="open-badge-{code}.png"'
    image = Image.open(io.BytesIO(answer.content))  # Pillow reads the iTXt chunk, not our code
    image.load()
    baked = json.loads(image.text["openbadgecredential"])
    assert baked == client.get(f"/credentials/{code}.json").json()
    assert verify(baked, fetch).revoked is False
    assert client.get("/credentials/ABCD-2345-EFGH-6789.png").status_code == 404


def test_the_certificate_page_links_the_credential(db, student, course):
    complete(db, student, course)
    row, = certificates.for_learner(db, student)
    line = CertificateLine.of(row)
    assert line.credential_href == f"/credentials/{row.code}.json?download"
    assert line.badge_href == f"/credentials/{row.code}.png?download"
