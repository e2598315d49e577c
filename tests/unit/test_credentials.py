"""Open Badges credentials: the signer reproduces the cryptosuite's test vector, canonicalising is
offline and strict, and every certificate gets one credential, signed once and again only when what
it says changes."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from sqlmodel import select

from academy_app.infra import issuer_keys, jsonld, multikey
from academy_app.infra.data_integrity import add_proof
from academy_app.models import Credential, IssuerKey
from academy_app.services import credentials
from academy_app.services.errors import NotFound
from tasks.certificates import draw_certificate
from tests.factories import make_course
from tests.unit.test_certificates import certificate_of, complete

# The W3C Data Integrity EdDSA Cryptosuites v1.0 test vector for eddsa-rdfc-2022 (its
# TestVectors/eddsa-rdfc-2022/signedDataInt.json and keyPair.json): the unsigned credential, the
# proof options and key, and the proof value the specification publishes for them.
VECTOR_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
                  "https://www.w3.org/ns/credentials/examples/v2"]
VECTOR_DOCUMENT = {
    "@context": VECTOR_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_METHOD = ("https://vc.example/issuers/5678#"
                 "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
VECTOR_PROOF_VALUE = ("z21EVs3eXERqTn4acNHT9viboqgzUaQ3kTmhPT3eA8qrVPE7CrQq78WkzctnMX5W4Crzc"
                      "KnHw8V6dvy5pgWYCU5e9")
# The examples context the vector names: one line, the W3C's, served by the test's loader only.
EXAMPLES = {VECTOR_CONTEXT[1]: {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}}


def test_the_signer_reproduces_the_eddsa_rdfc_2022_test_vector():
    key = issuer_keys.IssuerKey(multikey.decode_secret(VECTOR_SECRET))
    signed = add_proof(VECTOR_DOCUMENT, key, VECTOR_METHOD, "2023-02-24T23:36:38Z",
                       jsonld.document_loader(EXAMPLES))
    assert signed["proof"] == {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
        "created": "2023-02-24T23:36:38Z", "verificationMethod": VECTOR_METHOD,
        "proofPurpose": "assertionMethod", "proofValue": VECTOR_PROOF_VALUE}


def test_contexts_are_never_fetched_an_unknown_one_is_a_clear_error():
    document = {"@context": ["https://example.org/not-vendored/v1"], "name": "x"}
    with pytest.raises(jsonld.UnknownContext, match=r"not-vendored.*not one of the contexts"):
        jsonld.canonicalize(document)


def test_a_term_no_context_defines_is_refused_not_signed():
    document = {"@context": [jsonld.VC_V2], "type": ["VerifiableCredential"],
                "issuer": "https://academy.example/credentials/issuer", "favouriteColour": "blue"}
    with pytest.raises(jsonld.UndefinedTerm, match="favouriteColour"):
        jsonld.canonicalize(document)


def test_the_bitstring_is_gzipped_msb_first_and_multibase():
    encoded = credentials.encode_bitstring([0, 9], size=16 * 8)
    assert encoded.startswith("u")
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[:2] == bytes([0b1000_0000, 0b0100_0000]) and len(raw) == 16


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science: From Zero", slug="data-science",
                       lessons_per_module=(1,), description="Statistics and Python, from scratch.")


def credential_of(db, learner) -> dict:
    db.expire_all()
    return credentials.for_code(db, certificate_of(db, learner).code)


def test_a_completed_course_has_an_open_badge_credential_signed_by_the_task(db, student, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    stored = db.exec(select(Credential)).one()  # signed by the task, after the commit
    credential = json.loads(stored.document)
    assert credential["@context"] == [jsonld.VC_V2, jsonld.OB_V3]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == credentials.credential_url(certificate.code)
    assert credential["issuer"]["id"] == credentials.issuer_id()
    subject = credential["credentialSubject"]
    email_identity, name_identity = subject["identifier"]
    assert email_identity["identityType"] == "emailAddress" and email_identity["hashed"] is True
    assert student.email not in json.dumps(credential)  # hashed, with a salt
    assert name_identity["identityHash"] == student.full_name
    achievement = subject["achievement"]
    assert achievement["name"] == "Data Science: From Zero"
    assert achievement["description"] == "Statistics and Python, from scratch."
    assert "Completed every lesson" in achievement["criteria"]["narrative"]
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListIndex"] == str(certificate.id)
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    jsonld.canonicalize(credential)  # strict: every term defined by the vendored contexts


def test_the_credential_is_signed_once_and_served_the_same(db, student, course):
    complete(db, student, course)
    first = credential_of(db, student)
    assert draw_certificate(certificate_of(db, student).id) == "drawn again"  # a task run twice
    db.commit()
    assert credential_of(db, student) == first
    assert db.exec(select(IssuerKey)).one().public_key_multibase == \
        issuer_keys.current_key().public_multibase


def test_a_renamed_certificate_is_signed_again(db, student, course):
    complete(db, student, course)
    first = credential_of(db, student)
    certificate = certificate_of(db, student)
    certificate.student_name = "Renamed Learner"
    db.add(certificate)
    db.commit()
    draw_certificate(certificate.id)  # what a rename or a regrade re-queues
    again = credential_of(db, student)
    assert again["credentialSubject"]["identifier"][1]["identityHash"] == "Renamed Learner"
    assert again["proof"]["proofValue"] != first["proof"]["proofValue"]
    assert again["credentialSubject"]["identifier"][0] == \
        first["credentialSubject"]["identifier"][0]  # same salt, same hash


def test_unknown_and_malformed_codes_have_no_credential(db):
    for code in ("ABCD-2345-EFGH-6789", "nonsense", ""):
        with pytest.raises(NotFound):
            credentials.for_code(db, code)
