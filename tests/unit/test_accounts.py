from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from academy_app.models import LoginSession, Role, User, utcnow
from academy_app.services import accounts
from academy_app.services.accounts import SignupForm
from academy_app.services.errors import AuthenticationFailed, Invalid
from tests.factories import PASSWORD, make_user


def user_count(db) -> int:
    return db.exec(select(func.count()).select_from(User)).one()


def test_register_normalises_email_and_hashes_password_with_argon2(db):
    user = accounts.register(db, SignupForm("  Zoë   Ångström ", "  Zoe.Angstrom@Example.COM ",
                                            "a long enough pass"))
    db.commit()
    assert user.email == "zoe.angstrom@example.com"
    assert user.full_name == "Zoë Ångström"
    assert user.role is Role.STUDENT
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough pass" not in user.password_hash


def test_duplicate_email_in_any_case_is_refused_and_nothing_is_saved(db):
    make_user(db, email="sam@example.com")
    with pytest.raises(Invalid) as refused:
        accounts.register(db, SignupForm("Sam Again", "SAM@example.com", "another password"))
    assert refused.value.errors == {"email": "An account with this email already exists"}
    db.rollback()
    assert user_count(db) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (SignupForm("Ann", "ann@example.com", "short"), "password", "at least 10"),
        (SignupForm("Ann", "ann@example.com", "ann@example.com"), "password", "not be your email"),
        (SignupForm("Ann", "ANN@example.com ", "ann@example.com"), "password", "not be your email"),
        (SignupForm("Ann", "not-an-email", "long enough password"), "email", "valid email"),
        (SignupForm("Ann", "ann@", "long enough password"), "email", "valid email"),
        (SignupForm("   ", "ann@example.com", "long enough password"), "full_name", "full name"),
        (SignupForm("Ann", "ann@example.com", "x" * 300), "password", "at most"),
    ],
)
def test_bad_signup_input_names_the_field_and_saves_nothing(db, form, field, message):
    with pytest.raises(Invalid) as refused:
        accounts.register(db, form)
    assert message in refused.value.errors[field]
    db.rollback()
    assert user_count(db) == 0


def test_every_signup_problem_is_reported_at_once(db):
    with pytest.raises(Invalid) as refused:
        accounts.register(db, SignupForm("", "nope", "short"))
    assert set(refused.value.errors) == {"full_name", "email", "password"}


def test_login_with_correct_password_returns_the_user(db):
    user = make_user(db, email="kim@example.com")
    assert accounts.authenticate(db, " KIM@example.com", PASSWORD).id == user.id


def test_wrong_password_and_unknown_email_get_the_same_generic_error(db):
    make_user(db, email="kim@example.com")
    with pytest.raises(AuthenticationFailed) as wrong_password:
        accounts.authenticate(db, "kim@example.com", "wrong password!")
    with pytest.raises(AuthenticationFailed) as unknown_email:
        accounts.authenticate(db, "nobody@example.com", PASSWORD)
    with pytest.raises(AuthenticationFailed) as malformed:
        accounts.authenticate(db, "not an email", PASSWORD)
    assert wrong_password.value.message == unknown_email.value.message == malformed.value.message
    assert wrong_password.value.message == "Email or password is incorrect"


def test_deactivated_account_cannot_log_in_and_its_sessions_stop_working(db):
    user = make_user(db)
    token = accounts.start_session(db, user)
    db.commit()
    user.is_active = False
    db.add(user)
    db.commit()
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, user.email, PASSWORD)
    assert accounts.user_for_token(db, token) is None


def test_session_token_resolves_to_its_user_until_logout(db):
    user = make_user(db)
    token = accounts.start_session(db, user)
    db.commit()
    assert accounts.user_for_token(db, token).id == user.id
    accounts.end_session(db, token)
    db.commit()
    assert accounts.user_for_token(db, token) is None


def test_only_a_hash_of_the_session_token_is_stored(db):
    token = accounts.start_session(db, make_user(db))
    db.commit()
    stored = db.exec(select(LoginSession.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_expired_session_is_refused(db):
    user = make_user(db)
    token = accounts.start_session(db, user)
    login = db.exec(select(LoginSession)).one()
    login.expires_at = utcnow() - timedelta(seconds=1)
    db.add(login)
    db.commit()
    assert accounts.user_for_token(db, token) is None


@pytest.mark.parametrize("token", ["", None, "garbage", "x" * 10_000])
def test_unknown_or_hostile_tokens_resolve_to_nobody(db, token):
    assert accounts.user_for_token(db, token) is None
