"""Someone else's verifier agrees: Digital Bazaar's Verifiable Credentials libraries for JavaScript
(`@digitalbazaar/vc` with the `eddsa-rdfc-2022` cryptosuite and the Bitstring Status List checker,
versions pinned in third_party_verifier/package-lock.json) verify Academy's credentials offline,
fed what the app serves at each URL, reject a tampered one, and read a revoked one as revoked.

The packages are installed from the npm registry on the first run (`npm ci`, as the frontend
build does); nothing is fetched while verifying."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.models import Role
from academy_app.services import certificates
from academy_app.settings import get_settings
from tests.appserver import VENV_BIN
from tests.factories import make_course, make_user
from tests.unit.test_certificates import certificate_of, complete

PROJECT = Path(__file__).with_name("third_party_verifier")
ENV = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def verifier() -> Path:
    if not (PROJECT / "node_modules" / "@digitalbazaar" / "vc").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROJECT, env=ENV,
                       check=True, capture_output=True, timeout=600)
    return PROJECT / "verify.mjs"


def third_party_verdict(verifier: Path, tmp_path: Path, client: TestClient,
                        credential: dict) -> dict:
    """What the outside verifier says, given every document the app serves that it may ask for."""
    site = get_settings().site_url
    issuer = client.get("/credentials/issuer").json()
    served = {issuer["id"]: issuer}
    for method in issuer["verificationMethod"]:
        served[method["id"]] = client.get(method["id"].removeprefix(site)).json()
    status_url = credential["credentialStatus"]["statusListCredential"]
    served[status_url] = client.get(status_url.removeprefix(site)).json()
    docs = tmp_path / "docs.json"
    docs.write_text(json.dumps({"credential": credential, "served": served}))
    run = subprocess.run(["node", str(verifier), str(docs)], env=ENV, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(run.stdout)


def test_digital_bazaars_verifier_accepts_rejects_and_sees_revocation(db, instructor, student,
                                                                       verifier, tmp_path):
    course = make_course(db, instructor, title="Data Science: From Zero", lessons_per_module=(1,))
    admin = make_user(db, Role.ADMIN)
    complete(db, student, course)
    client = TestClient(routes)
    certificate = certificate_of(db, student)
    credential = client.get(f"/credentials/{certificate.code}.json").json()

    fresh = third_party_verdict(verifier, tmp_path, client, credential)
    assert fresh == {"verified": True, "revoked": False, "error": None}

    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    assert third_party_verdict(verifier, tmp_path, client, tampered)["verified"] is False

    certificates.revoke(db, admin, certificate.id, "Issued in error")
    db.commit()
    assert third_party_verdict(verifier, tmp_path, client, credential)["revoked"] is True
