"""The issuer key: read from settings in production (and required there), made once in development,
and written in the Multikey form the Data Integrity specifications use (infra/multikey.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from academy_app.infra import issuer_keys, multikey
from academy_app.settings import Environment, Settings, get_settings
from tests.appserver import TEST_ISSUER_KEY

# The key pair of the Data Integrity EdDSA Cryptosuites v1.0 test vectors (W3C).
SPEC_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
SPEC_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


def test_multikey_encoding_matches_the_specification_key_pair():
    secret = multikey.decode_secret(SPEC_SECRET)
    assert multikey.public_multibase(secret.public_key()) == SPEC_PUBLIC
    assert multikey.encode_secret(secret) == SPEC_SECRET
    assert multikey.decode_public(SPEC_PUBLIC).public_bytes_raw() == \
        secret.public_key().public_bytes_raw()


@pytest.mark.parametrize("text", ["", "z", "zz", "3u2en7t5", SPEC_PUBLIC, SPEC_SECRET[:-2],
                                  "z0OIl", "not a key at all"])
def test_anything_but_an_ed25519_secret_key_is_refused_with_a_clear_error(text):
    with pytest.raises(multikey.MultikeyError, match="Ed25519 secret key"):
        multikey.decode_secret(text)


def test_production_refuses_to_start_without_an_issuer_key(monkeypatch):
    monkeypatch.setenv("ACADEMY_ENV", "production")
    monkeypatch.setenv("ACADEMY_SECRET_KEY", "a-production-secret")
    monkeypatch.delenv("ACADEMY_CREDENTIAL_ISSUER_KEY", raising=False)
    with pytest.raises(ValueError, match="ACADEMY_CREDENTIAL_ISSUER_KEY"):
        Settings()
    monkeypatch.setenv("ACADEMY_CREDENTIAL_ISSUER_KEY", TEST_ISSUER_KEY)
    assert Settings().credential_issuer_key == TEST_ISSUER_KEY


def test_a_mistyped_issuer_key_fails_the_start_not_the_first_credential():
    with pytest.raises(ValidationError, match="Ed25519 secret key"):
        Settings(credential_issuer_key=TEST_ISSUER_KEY[:-1] + "0")


def test_a_configured_key_is_the_one_that_signs(monkeypatch):
    monkeypatch.setattr(get_settings(), "credential_issuer_key", SPEC_SECRET)
    key = issuer_keys.current_key()
    assert key.public_multibase == SPEC_PUBLIC
    assert issuer_keys.verify(SPEC_PUBLIC, key.sign(b"data"), b"data")
    assert not issuer_keys.verify(SPEC_PUBLIC, key.sign(b"data"), b"date")
    assert not issuer_keys.key_file().exists()  # nothing written when the setting names the key


def test_development_makes_a_private_key_once_and_keeps_it():
    first = issuer_keys.current_key()
    path = issuer_keys.key_file()
    assert path.is_relative_to(get_settings().media_root)  # the private storage, not the web root
    assert path.stat().st_mode & 0o777 == 0o600
    assert issuer_keys.current_key().public_multibase == first.public_multibase


def test_production_without_a_key_never_makes_one(monkeypatch):
    monkeypatch.setattr(get_settings(), "env", Environment.PRODUCTION)
    monkeypatch.setattr(get_settings(), "credential_issuer_key", None)
    with pytest.raises(issuer_keys.IssuerKeyError, match="ACADEMY_CREDENTIAL_ISSUER_KEY"):
        issuer_keys.current_key()
    assert not issuer_keys.key_file().exists()
