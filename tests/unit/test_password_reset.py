"""Password reset by email: a random link, stored only as a hash, used once, for an hour, the latest
one only; asking is rate-limited and tells nobody whether an account exists; using it ends every
login of the account."""

from __future__ import annotations

import email
import hashlib
import re
import threading
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from sqlmodel import select, update

from academy_app.infra import passwords
from academy_app.models import EmailLog, LoginSession, PasswordReset, Role, User, as_utc, utcnow
from academy_app.services import accounts, users
from academy_app.services.accounts import SignupForm
from academy_app.services.errors import AuthenticationFailed, Invalid, NotFound, TooManyAttempts
from academy_app.settings import get_settings
from tests.factories import PASSWORD, make_user, race

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://localhost:3000/password/reset/([A-Za-z0-9_-]+)")


def messages(outbox: Path) -> list[email.message.EmailMessage]:
    files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def ask_for_link(db, address: str, ip: str = "10.0.0.1") -> None:
    accounts.request_password_reset(db, address, ip)
    db.commit()


def latest_token(outbox: Path) -> str:
    text = messages(outbox)[-1].get_body(("plain",)).get_content()
    return LINK.search(text).group(1)


def test_the_emailed_link_sets_a_new_password_once(db, student, outbox):
    ask_for_link(db, student.email.upper())
    [message] = messages(outbox)
    assert message["To"] == student.email
    assert message["Subject"] == "Reset your Academy password"
    html = message.get_body(("html",)).get_content()
    token = latest_token(outbox)
    assert f'href="http://localhost:3000/password/reset/{token}"' in html
    assert "Choose a new password" in html and "for 60 minutes" in html
    assert len(token) >= 43  # 256 bits, URL-safe base64

    assert accounts.check_reset_link(db, token).id == student.id
    accounts.reset_password(db, token, NEW_PASSWORD)
    db.commit()
    assert accounts.authenticate(db, student.email, NEW_PASSWORD).id == student.id
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, student.email, PASSWORD)
    with pytest.raises(NotFound):
        accounts.reset_password(db, token, "yet another passphrase")
    with pytest.raises(NotFound):
        accounts.check_reset_link(db, token)


def test_the_database_holds_only_a_hash_of_the_token(db, student, outbox):
    ask_for_link(db, student.email)
    token = latest_token(outbox)
    stored = db.exec(select(PasswordReset.token_hash)).one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    [log_row] = db.exec(select(EmailLog)).all()
    assert token not in log_row.context and token not in log_row.dedupe_key
    assert log_row.kind == "password.reset"


def test_unknown_and_deactivated_addresses_get_the_same_silence(db, student, outbox):
    admin = make_user(db, role=Role.ADMIN)
    users.set_active(db, admin, student.id, False)
    db.commit()
    ask_for_link(db, "nobody@example.com")
    ask_for_link(db, student.email)
    assert messages(outbox) == []
    assert db.exec(select(PasswordReset)).all() == []


def test_a_malformed_address_is_named_as_such(db):
    with pytest.raises(Invalid) as refused:
        accounts.request_password_reset(db, "not an address", "10.0.0.1")
    assert "valid email" in refused.value.errors["email"]


def test_the_link_expires_after_an_hour(db, student, outbox):
    ask_for_link(db, student.email)
    token = latest_token(outbox)
    expires_at = db.exec(select(PasswordReset.expires_at)).one()
    assert timedelta(minutes=59) < as_utc(expires_at) - utcnow() <= timedelta(hours=1)
    db.exec(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    with pytest.raises(NotFound):
        accounts.check_reset_link(db, token)
    with pytest.raises(NotFound):
        accounts.reset_password(db, token, NEW_PASSWORD)


def test_a_new_request_supersedes_the_older_link(db, student, outbox):
    ask_for_link(db, student.email)
    first = latest_token(outbox)
    ask_for_link(db, student.email)
    second = latest_token(outbox)
    assert first != second and len(messages(outbox)) == 2
    with pytest.raises(NotFound):
        accounts.reset_password(db, first, NEW_PASSWORD)
    db.rollback()
    accounts.reset_password(db, second, NEW_PASSWORD)
    db.commit()
    assert accounts.authenticate(db, student.email, NEW_PASSWORD).id == student.id


@pytest.mark.parametrize(("password", "message"), [
    ("too-short", "at least 10"),
    ("password1234", "most common passwords"),
])
def test_a_refused_password_leaves_the_link_usable(db, student, outbox, password, message):
    ask_for_link(db, student.email)
    token = latest_token(outbox)
    with pytest.raises(Invalid) as refused:
        accounts.reset_password(db, token, password)
    assert message in refused.value.errors["password"]
    db.rollback()
    accounts.reset_password(db, token, NEW_PASSWORD)
    db.commit()
    assert accounts.authenticate(db, student.email, NEW_PASSWORD).id == student.id


def test_a_reset_ends_every_login_of_that_account_only(db, student, outbox):
    other = make_user(db)
    mine = [accounts.start_session(db, student) for _ in range(3)]
    theirs = accounts.start_session(db, other)
    db.commit()
    ask_for_link(db, student.email)
    accounts.reset_password(db, latest_token(outbox), NEW_PASSWORD)
    db.commit()
    assert all(accounts.user_for_token(db, token) is None for token in mine)
    assert accounts.user_for_token(db, theirs).id == other.id


def test_a_reset_lifts_the_log_in_limits_on_the_account(db, student, outbox, monkeypatch):
    """Guesses from many addresses used up the account's attempts from new addresses, and one
    address is made to wait: after the reset, neither stands between the owner and a log-in."""
    monkeypatch.setattr(get_settings(), "login_attempts_per_minute", 100)
    monkeypatch.setattr(accounts, "NEW_ADDRESS_ATTEMPTS", 10)
    for n in range(accounts.NEW_ADDRESS_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, student.email, "wrong password!",
                                  f"10.1.0.{n}" if n < accounts.FREE_FAILURES else "10.2.0.1")
    with pytest.raises(TooManyAttempts):  # within a second of its fifth failure
        accounts.authenticate(db, student.email, PASSWORD, "10.2.0.1")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, student.email, PASSWORD, "10.3.0.1")
    ask_for_link(db, student.email)
    accounts.reset_password(db, latest_token(outbox), NEW_PASSWORD)
    db.commit()
    assert accounts.authenticate(db, student.email, NEW_PASSWORD, "10.2.0.1").id == student.id


@pytest.mark.parametrize("token", ["", None, "garbage", "x" * 10_000, 42])
def test_unknown_or_hostile_tokens_open_nothing(db, token):
    with pytest.raises(NotFound):
        accounts.check_reset_link(db, token)
    with pytest.raises(NotFound):
        accounts.reset_password(db, token, NEW_PASSWORD)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_submits_racing_with_one_link_change_the_password_once(db, engine, student, outbox,
                                                                   monkeypatch):
    """Both submits have read the link as valid and hashed their password before either UPDATE
    runs (a barrier inside the hashing); the conditional UPDATE lets exactly one of them through."""
    ask_for_link(db, student.email)
    token = latest_token(outbox)
    sessions = [accounts.start_session(db, student) for _ in range(2)]
    db.commit()
    both_read_the_link = threading.Barrier(2, timeout=10)
    real_hash = accounts.hash_password

    def hash_after_both_read(password: str) -> str:
        both_read_the_link.wait()
        return real_hash(password)

    monkeypatch.setattr(accounts, "hash_password", hash_after_both_read)
    chosen = ["first racer passphrase", "second racer passphrase"]
    errors = race(engine, 2, lambda session, i: accounts.reset_password(session, token,
                                                                        chosen[i]))
    assert len(errors) == 1 and isinstance(errors[0], NotFound), errors
    db.expire_all()
    stored = db.get(User, student.id).password_hash
    winners = [p for p in chosen if passwords.verify(p, stored)]
    assert len(winners) == 1
    assert db.exec(select(PasswordReset.used_at)).one() is not None
    assert all(accounts.user_for_token(db, t) is None for t in sessions)
    assert db.exec(select(LoginSession)).all() == []


def test_reset_requests_are_limited_per_address_and_per_ip(db, student, outbox):
    for n in range(5):  # five for one address, each from another IP: allowed
        ask_for_link(db, student.email, ip=f"10.3.0.{n}")
    with pytest.raises(TooManyAttempts) as per_address:
        accounts.request_password_reset(db, student.email, "10.3.0.99")
    assert per_address.value.message == ("Too many password reset requests: try again in 60 "
                                          "minutes")
    assert len(messages(outbox)) == 5

    for n in range(5):  # five from one IP, each for another (unknown) address: allowed
        ask_for_link(db, f"someone{n}@example.com", ip="10.4.0.1")
    with pytest.raises(TooManyAttempts):  # a sixth from that IP, for any address
        accounts.request_password_reset(db, "someone-else@example.com", "10.4.0.1")


def test_unknown_addresses_count_against_the_address_limit_too(db):
    for n in range(5):
        accounts.request_password_reset(db, "ghost@example.com", f"10.5.0.{n}")
    with pytest.raises(TooManyAttempts):
        accounts.request_password_reset(db, "ghost@example.com", "10.5.0.99")


def test_sign_ups_from_one_ip_are_limited_but_not_those_made_by_the_app(db):
    for n in range(10):
        form = SignupForm("Ann", "taken@example.com" if n else f"ann{n}@example.com",
                          "long enough password")
        try:  # failed attempts count as well: "already exists" must not test addresses for free
            accounts.register(db, form, client_ip="10.6.0.1")
            db.commit()
        except Invalid:
            db.rollback()
    with pytest.raises(TooManyAttempts) as refused:
        accounts.register(db, SignupForm("Bo", "bo@example.com", "long enough password"),
                          client_ip="10.6.0.1")
    assert refused.value.message.startswith("Too many sign-ups from your network")
    accounts.register(db, SignupForm("Cy", "cy@example.com", "long enough password"),
                      client_ip="10.6.0.2")
    for _ in range(12):  # no client IP: the demo loader, the tests, an admin script
        make_user(db)
