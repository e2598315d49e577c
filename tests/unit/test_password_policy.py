"""Passwords: argon2id at or above OWASP's minimum, no truncation, at least 10 characters, not one
of the most common passwords, and no composition rules."""

from __future__ import annotations

import argon2
import pytest

from academy_app.infra import common_passwords
from academy_app.services import accounts
from academy_app.services.accounts import SignupForm
from academy_app.services.errors import AuthenticationFailed, Invalid
from tests.factories import make_user

OWASP_MEMORY_KIB, OWASP_TIME, OWASP_PARALLELISM = 19 * 1024, 2, 1


def test_hashes_are_argon2id_at_or_above_the_owasp_minimum():
    produced = accounts.hash_password("a perfectly fine password")
    parameters = argon2.extract_parameters(produced)
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= OWASP_MEMORY_KIB
    assert parameters.time_cost >= OWASP_TIME
    assert parameters.parallelism >= OWASP_PARALLELISM
    assert parameters.salt_len >= 16 and parameters.hash_len >= 32


def test_long_passwords_are_not_truncated(db):
    """bcrypt would read only the first 72 bytes, so these two would be the same password."""
    first, second = "x" * 99 + "1", "x" * 99 + "2"
    assert len(first.encode()) == 100
    user = make_user(db)
    user.password_hash = accounts.hash_password(first)
    db.add(user)
    db.commit()
    assert accounts.authenticate(db, user.email, first).id == user.id
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, user.email, second)


def test_a_log_in_longer_than_any_password_is_refused_not_cut(db):
    password = "y" * accounts.MAX_PASSWORD_LENGTH
    user = make_user(db)
    user.password_hash = accounts.hash_password(password)
    db.add(user)
    db.commit()
    assert accounts.authenticate(db, user.email, password).id == user.id
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, user.email, password + "tail")


def test_the_list_of_common_passwords_is_there_and_lower_case():
    passwords = common_passwords._passwords()
    assert len(passwords) > 19_000
    assert all(entry == entry.lower() for entry in passwords)


@pytest.mark.parametrize("password", ["password1234", "1q2w3e4r5t", "QWERTYUIOP", " basketball ",
                                      "iloveyou123"])
def test_common_passwords_are_refused(db, password):
    assert common_passwords.is_common(password)
    with pytest.raises(Invalid) as refused:
        accounts.register(db, SignupForm("Ann", "ann@example.com", password))
    assert refused.value.errors["password"] == (
        "This is one of the most common passwords: choose one that is harder to guess")


@pytest.mark.parametrize("password", [
    "correct horse battery staple",  # lower-case letters and spaces only
    "0123456789012345678",  # digits only, yet not on the list
    "ÉTÉ À MONTRÉAL, ÇA!",  # no rule about cases or symbols either way
    "десять букв пароля",  # any script
])
def test_no_composition_rules(db, password):
    assert accounts.password_problem(password, "ann@example.com") is None
    assert accounts.register(db, SignupForm("Ann", "ann@example.com", password)).id is not None
