"""Open Badges 3.0 credentials: every certificate as a signed credential anyone can verify offline.

A credential is a W3C Verifiable Credential (data model 2.0) of type `OpenBadgeCredential`, signed
with a Data Integrity proof of the `eddsa-rdfc-2022` cryptosuite: the document and the proof's
options are canonicalised to RDF (RDFC-1.0, contexts vendored: infra/jsonld.py), each hashed with
SHA-256, and the two hashes signed with the issuer's Ed25519 key (infra/issuer_keys.py).

It is signed once, by the certificate task after the commit that issues the certificate (or by
whoever asks for it first), and stored: it is served the same until what it says changes (a
rename or a regrade re-queues the task, which signs it again). Revocation does not touch it: its
`credentialStatus` points into a Bitstring Status List credential, signed again whenever the set of
revoked certificates it covers changes.

Status list index = certificate id, so no index has to be allocated (and none reused); a list
covers LIST_SIZE certificates, the 16 KB minimum the Bitstring Status List specification sets for
herd privacy.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from academy_app.db import insert_or_get
from academy_app.infra import issuer_keys, signing
from academy_app.infra.badge_png import badge_image, bake
from academy_app.infra.credential_check import NotValid, check, read_credential
from academy_app.infra.data_integrity import add_proof
from academy_app.infra.jsonld import DID_V1, MULTIKEY_V1, OB_V3, VC_V2
from academy_app.models import (
    Certificate,
    Course,
    Credential,
    CredentialStatusList,
    IssuerKey,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import certificate_rule
from academy_app.services.certificates import ORGANIZATION_NAME, normalize_code
from academy_app.services.errors import NotFound
from academy_app.settings import get_settings
from academy_app.text import MAX_ID

LIST_SIZE = 131_072  # bits: 16 KB, the smallest list the specification allows
MAX_DESCRIPTION = 1000


def issuer_id() -> str:
    return get_settings().absolute_url("/credentials/issuer")


def key_url(public_key_multibase: str) -> str:
    """A signing key's own document: dereferencing a proof's verificationMethod gets the key."""
    return get_settings().absolute_url(f"/credentials/keys/{public_key_multibase}")


def credential_url(code: str) -> str:
    return get_settings().absolute_url(f"/credentials/{code}.json")


def status_list_url(list_number: int) -> str:
    return get_settings().absolute_url(f"/credentials/status/{list_number}")


def criteria_narrative(session: Session, course_id: int, stored: Credential | None) -> str:
    """What earning the certificate took (services/certificate_rule.py), as it was when the
    credential was first signed: a rule the instructor tightens later is not what this learner
    met, so a re-signed credential keeps its first narrative."""
    if stored is not None:
        achievement = json.loads(stored.document)["credentialSubject"]["achievement"]
        return str(achievement["criteria"]["narrative"])
    return certificate_rule.criteria(session, course_id)


def for_code(session: Session, raw_code: str) -> dict[str, Any]:
    """Public, like /verify: the signed credential of a certificate, by its code (any form)."""
    code = normalize_code(raw_code)
    certificate = session.exec(select(Certificate).where(Certificate.code == code)).first() \
        if code else None
    if certificate is None:
        raise NotFound("credential", raw_code)
    return json.loads(ensure_signed(session, certificate.id).document)


def baked_badge(session: Session, raw_code: str) -> bytes:
    """Public too: the badge image with the certificate's credential baked in."""
    return bake(badge_image(), json.dumps(for_code(session, raw_code), ensure_ascii=False))


def check_file(session: Session, data: bytes) -> str:
    """Public, for /verify: what a verifier says of an uploaded credential (JSON or baked PNG) of
    this site, with the issuer document and status list read here rather than fetched. Raises
    NotValid with the reason."""
    credential = read_credential(data)
    status_url = str((credential.get("credentialStatus") or {}).get("statusListCredential", ""))
    list_part = status_url.removeprefix(status_list_url(0).removesuffix("0"))
    if list_part == status_url or not list_part.isdigit() or len(list_part) > 5:
        raise NotValid("its status list is not one this site publishes")
    verdict = check(credential, issuer_document(session), status_list(session, int(list_part)),
                    utcnow())
    subject = credential.get("credentialSubject") or {}
    names = [identity.get("identityHash") for identity in subject.get("identifier", [])
             if identity.get("identityType") == "name" and not identity.get("hashed")]
    return (f"{verdict}: {(subject.get('achievement') or {}).get('name', '?')}, awarded to "
            f"{names[0] if names else 'its holder'} on {str(credential.get('validFrom'))[:10]}")


def ensure_signed(session: Session, certificate_id: int) -> Credential:
    """The certificate's credential, signed now if it has none or what it says has changed.
    Safe to run twice or at once: one row per certificate, the last signature wins."""
    certificate, email, course = session.exec(
        select(Certificate, User.email, Course)
        .join(User, col(User.id) == Certificate.user_id)
        .join(Course, col(Course.id) == Certificate.course_id)
        .where(Certificate.id == certificate_id)).one()
    stored = _credential_of(session, certificate_id)
    unsigned = _credential(certificate, email, course,
                           criteria_narrative(session, course.id, stored))
    digest = _digest(unsigned)
    if stored is not None and stored.facts_digest == digest:
        return stored
    document, key = _sign(session, unsigned)
    if stored is None:
        stored, created = insert_or_get(
            session, Credential(certificate_id=certificate_id, issuer_key_id=key.id,
                                facts_digest=digest, document=json.dumps(document)),
            lambda: _credential_of(session, certificate_id))
        if created or stored.facts_digest == digest:
            return stored
    stored.issuer_key_id, stored.facts_digest = key.id, digest
    stored.document, stored.signed_at = json.dumps(document), utcnow()
    session.add(stored)
    return stored


def issuer_document(session: Session) -> dict[str, Any]:
    """The issuer's Profile, which is also the controller document of its keys: every key that
    ever signed, each allowed to make assertions."""
    keys = session.exec(select(IssuerKey).order_by(col(IssuerKey.first_signed_at),
                                                   col(IssuerKey.id))).all()
    methods = [_key_document(key) for key in keys]
    return {"@context": [DID_V1, MULTIKEY_V1, OB_V3], "id": issuer_id(), "type": ["Profile"],
            "name": ORGANIZATION_NAME, "url": get_settings().absolute_url("/"),
            "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods]}


def key_document(session: Session, public_key_multibase: str) -> dict[str, Any]:
    """One key that signed, as a Multikey whose controller is the issuer."""
    key = session.exec(select(IssuerKey).where(
        IssuerKey.public_key_multibase == str(public_key_multibase)[:64])).first()
    if key is None:
        raise NotFound("key", public_key_multibase)
    return {"@context": [MULTIKEY_V1], **_key_document(key)}


def _key_document(key: IssuerKey) -> dict[str, Any]:
    # signedFrom / signedUntil: when it signed its first and (once rotated out) its latest proof;
    # the key in use has no end yet, so a saved copy of this document stays true for it. Not
    # JSON-LD terms (a JSON-LD processor ignores them); a verifier may check a proof's `created`.
    document = {"id": key_url(key.public_key_multibase), "type": "Multikey",
                "controller": issuer_id(), "publicKeyMultibase": key.public_key_multibase,
                "signedFrom": _timestamp(key.first_signed_at)}
    if key.public_key_multibase != issuer_keys.current_key().public_multibase:
        document["signedUntil"] = _timestamp(key.last_signed_at)
    return document


def status_list(session: Session, list_number: int) -> dict[str, Any]:
    """The signed status list of the LIST_SIZE certificate ids from list_number * LIST_SIZE on:
    stored, and signed again when the set of revoked certificates in its range has changed."""
    if not 0 <= list_number <= MAX_ID // LIST_SIZE:  # no certificate id falls in it
        raise NotFound("status list", list_number)
    first = list_number * LIST_SIZE
    revoked = list(session.exec(
        select(Certificate.id).where(col(Certificate.revoked_at).is_not(None),
                                     col(Certificate.id) >= first,
                                     col(Certificate.id) < first + LIST_SIZE)
        .order_by(col(Certificate.id))))
    url = status_list_url(list_number)
    digest = hashlib.sha256(f"{url} {revoked}".encode()).hexdigest()
    stored = session.get(CredentialStatusList, list_number)
    if stored is not None and stored.revoked_digest == digest:
        return json.loads(stored.document)
    document, _ = _sign(session, {
        "@context": [VC_V2], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(), "validFrom": _timestamp(utcnow()),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation",
                              "encodedList": encode_bitstring(i - first for i in revoked)}})
    if stored is None:
        stored, created = insert_or_get(
            session, CredentialStatusList(list_number=list_number, revoked_digest=digest,
                                          document=json.dumps(document)),
            lambda: session.get(CredentialStatusList, list_number))
        if created:
            return document
    stored.revoked_digest, stored.document, stored.signed_at = digest, json.dumps(document), utcnow()
    session.add(stored)
    return document


def encode_bitstring(set_bits: Iterable[int], size: int = LIST_SIZE) -> str:
    """The specification's encodedList: bit 0 is the first byte's most significant bit; GZIP
    (with no timestamp, so one set of bits always encodes the same), base64url without padding,
    multibase prefix `u`."""
    bits = bytearray(size // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _credential(certificate: Certificate, email: str, course: Course,
                narrative: str) -> dict[str, Any]:
    site = get_settings().absolute_url("/")
    # The salt makes the email's hash useless to look up; derived, not random, so the same
    # certificate always says the same thing and its digest only changes with its facts.
    salt = signing.derive("credential-identity-salt", certificate.code)[:32]
    identity = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    list_number, index = divmod(certificate.id, LIST_SIZE)
    list_url = status_list_url(list_number)
    description = " ".join(course.description.split())[:MAX_DESCRIPTION] or course.title
    issued = _timestamp(certificate.issued_at)
    return {
        "@context": [VC_V2, OB_V3],
        "id": credential_url(certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": ORGANIZATION_NAME,
                   "url": site},
        "validFrom": issued,
        "name": f"{certificate.course_title} — certificate of completion",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                 "identityHash": f"sha256${identity}", "salt": salt},
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": certificate.student_name},
            ],
            "awardedDate": issued,
            "achievement": {
                "id": get_settings().absolute_url(f"/courses/{course.slug}"),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.course_title,
                "description": description,
                "criteria": {"narrative": narrative},
                "creator": {"id": issuer_id(), "type": ["Profile"], "name": ORGANIZATION_NAME},
            },
        },
        "credentialStatus": {
            "id": f"{list_url}#{index}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
    }


def _sign(session: Session, document: dict[str, Any]) -> tuple[dict[str, Any], IssuerKey]:
    """The document with an eddsa-rdfc-2022 proof by the current key, which is recorded (with
    the time it signed) so the issuer document lists it for as long as anything it signed lives."""
    key = issuer_keys.current_key()
    now = utcnow().replace(microsecond=0)
    recorded = _record_key(session, key.public_multibase, now)
    return add_proof(document, key, key_url(key.public_multibase), _timestamp(now)), recorded


def _record_key(session: Session, public_key: str, now: datetime) -> IssuerKey:
    def find() -> IssuerKey | None:
        return session.exec(select(IssuerKey)
                            .where(IssuerKey.public_key_multibase == public_key)).first()

    key, created = insert_or_get(
        session, IssuerKey(public_key_multibase=public_key, first_signed_at=now,
                           last_signed_at=now), find)
    if not created:
        session.execute(sa.update(IssuerKey).where(col(IssuerKey.id) == key.id,
                                                   col(IssuerKey.last_signed_at) < now)
                        .values(last_signed_at=now)
                        .execution_options(synchronize_session=False))
    return key


def _credential_of(session: Session, certificate_id: int) -> Credential | None:
    return session.exec(select(Credential)
                        .where(Credential.certificate_id == certificate_id)).first()


def _digest(unsigned: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(unsigned, sort_keys=True).encode()).hexdigest()


def _timestamp(moment: datetime) -> str:
    return as_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")
