"""`python -m academy_app.verify_credential`: an employer's check with no database and, given the
saved issuer document (and status list), no network; every bad input gets "not valid because …".
And the same checks behind /verify's file upload, reading this site's documents from the database."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from academy_app import verify_credential
from academy_app.api.routes import routes
from academy_app.infra import issuer_keys
from academy_app.infra.credential_check import NotValid
from academy_app.infra.data_integrity import add_proof
from academy_app.models import Certificate, Role
from academy_app.services import certificates, credentials
from academy_app.settings import get_settings
from tests.factories import make_course, make_user
from tests.unit.test_certificates import certificate_of, complete


@pytest.fixture
def saved(db, instructor, student, tmp_path):
    """A certificate's credential, badge, issuer document and status list, saved as files."""
    course = make_course(db, instructor, title="Data Science: From Zero", lessons_per_module=(1,))
    complete(db, student, course)
    client = TestClient(routes)
    code = certificate_of(db, student).code
    credential = client.get(f"/credentials/{code}.json").json()
    files = {"credential.json": client.get(f"/credentials/{code}.json").content,
             "badge.png": client.get(f"/credentials/{code}.png").content,
             "issuer.json": client.get("/credentials/issuer").content,
             "list.json": client.get("/credentials/status/0").content}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)

    def save_list() -> None:  # the status list again, as it reads now
        (tmp_path / "list.json").write_bytes(client.get("/credentials/status/0").content)
    return tmp_path, credential, save_list


def run(capsys, *argv) -> tuple[int, str]:
    code = verify_credential.main([str(arg) for arg in argv])
    return code, capsys.readouterr().out.strip()


def test_the_json_and_the_badge_verify_offline(saved, capsys, monkeypatch):
    folder, _, _ = saved
    monkeypatch.setattr("urllib.request.urlopen", None)  # any fetch would fail the test
    for name in ("credential.json", "badge.png"):
        code, out = run(capsys, folder / name, "--offline", folder / "issuer.json",
                        "--status", folder / "list.json")
        assert code == 0, out
        assert out.startswith("valid: Data Science: From Zero, issued by Academy")
    code, out = run(capsys, folder / "credential.json", "--offline", folder / "issuer.json")
    assert (code, out.startswith("valid (revocation not checked")) == (0, True)


def test_a_revoked_certificate_is_reported_revoked(saved, db, capsys):
    folder, _, save_list = saved
    admin = make_user(db, Role.ADMIN)
    certificates.revoke(db, admin, db.exec(select(Certificate.id)).one(), "Issued in error")
    db.commit()
    save_list()
    code, out = run(capsys, folder / "badge.png", "--offline", folder / "issuer.json",
                    "--status", folder / "list.json")
    assert (code, out) == (1, "not valid because it was revoked by its issuer")


BAD = {
    "one changed character": (lambda c: c["credentialSubject"]["achievement"].update(
        name="Data Science: From Zer0"), "its signature does not match"),
    "an unknown key": (lambda c: c["proof"].update(
        verificationMethod=c["proof"]["verificationMethod"] + "x"),
        "a key the issuer does not list"),
    "another issuer": (lambda c: c["issuer"].update(id="https://evil.example/issuer"),
                       "not by the issuer given"),
    "an undefined term": (lambda c: c.update(favouriteColour="blue"),
                          "No context defines the term 'favouriteColour'"),
}


@pytest.mark.parametrize("change, reason", BAD.values(), ids=BAD.keys())
def test_a_changed_credential_says_why_it_is_not_valid(saved, capsys, change, reason):
    folder, credential, _ = saved
    change(credential)
    (folder / "changed.json").write_text(json.dumps(credential))
    code, out = run(capsys, folder / "changed.json", "--offline", folder / "issuer.json")
    assert code == 1 and out.startswith("not valid because") and reason in out, out


def test_an_expired_credential_is_not_valid(saved, capsys):
    folder, credential, _ = saved
    proof = credential.pop("proof")
    # Signed by the issuer's own key with a validUntil past: what an expiring credential would be.
    expired = add_proof({**credential, "validUntil": "2020-01-01T00:00:00Z"},
                        issuer_keys.current_key(), proof["verificationMethod"], proof["created"])
    (folder / "expired.json").write_text(json.dumps(expired))
    code, out = run(capsys, folder / "expired.json", "--offline", folder / "issuer.json")
    assert (code, out) == (1, "not valid because it expired on 2020-01-01")


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "it is not JSON"),
    (b'{"type": ["VerifiableCredential"]}', "not an Open Badges credential"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "no Open Badges credential baked into it"),
    (b" " * (verify_credential.MAX_BYTES + 10), "too large to be a credential"),
])
def test_malformed_files_are_not_valid_never_a_traceback(saved, capsys, content, reason):
    folder, _, _ = saved
    (folder / "bad").write_bytes(content)
    code, out = run(capsys, folder / "bad", "--offline", folder / "issuer.json")
    assert code == 1 and reason in out, out
    code, out = run(capsys, folder / "missing.json", "--offline", folder / "issuer.json")
    assert (code, out.startswith("not valid because")) == (1, True)


def test_online_it_fetches_what_the_credential_names(saved, capsys, monkeypatch):
    folder, _, _ = saved
    client, site = TestClient(routes), get_settings().site_url

    class Answer:  # what urlopen hands back, read from the app itself
        def __init__(self, url: str, timeout: float) -> None:
            self.body = client.get(url.removeprefix(site)).content

        def read(self, _limit: int) -> bytes:
            return self.body

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *_exc: object) -> None:
            return None

    monkeypatch.setattr("urllib.request.urlopen", Answer)
    code, out = run(capsys, folder / "credential.json")
    assert code == 0 and out.startswith("valid: "), out


# --- /verify's file check: the same checks, the issuer document and status list from the database


def test_the_verify_page_check_reads_this_sites_documents(saved, db, student):
    folder, credential, _ = saved
    verdict = credentials.check_file(db, (folder / "badge.png").read_bytes())
    assert verdict == (f"valid: Data Science: From Zero, awarded to {student.full_name} on "
                       f"{credential['validFrom'][:10]}")
    admin = make_user(db, Role.ADMIN)
    certificates.revoke(db, admin, db.exec(select(Certificate.id)).one(), "Issued in error")
    db.commit()
    with pytest.raises(NotValid, match="revoked"):
        credentials.check_file(db, (folder / "credential.json").read_bytes())


def test_the_verify_page_check_refuses_what_another_site_issued(saved, db):
    _, credential, _ = saved
    credential["credentialStatus"]["statusListCredential"] = "https://evil.example/status/0"
    with pytest.raises(NotValid, match="status list is not one this site publishes"):
        credentials.check_file(db, json.dumps(credential).encode())
    with pytest.raises(NotValid, match="not JSON"):
        credentials.check_file(db, b"\xff\xfe garbage")
