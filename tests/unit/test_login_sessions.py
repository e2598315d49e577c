"""Login sessions: a new token at every log-in, "log out everywhere", an idle timeout beside the
absolute one, and an idle clock that writes the database at most once per few minutes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select, update

from academy_app.models import LoginSession, as_utc, utcnow
from academy_app.services import accounts
from academy_app.settings import Settings, get_settings
from tasks.maintenance import purge_expired_sessions
from tests.factories import make_user


def idle_timeout() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


def age(db, token: str, *, idle_for: timedelta) -> None:
    """Pretend the login behind `token` was last used `idle_for` ago."""
    db.exec(update(LoginSession).where(LoginSession.token_hash == accounts.token_hash(token))
            .values(last_seen_at=utcnow() - idle_for))
    db.commit()


def last_seen(db, token: str):
    db.expire_all()
    return as_utc(db.exec(select(LoginSession.last_seen_at).where(
        LoginSession.token_hash == accounts.token_hash(token))).one())


def test_by_default_a_login_lasts_14_days_and_ends_after_3_idle_days():
    fields = Settings.model_fields
    assert (fields["session_days"].default, fields["session_idle_minutes"].default) == (14, 3 * 24 * 60)


def test_log_in_always_issues_a_new_token_and_ends_the_one_the_browser_had(db, student):
    planted = accounts.start_session(db, student)  # e.g. a token fixed in the browser beforehand
    db.commit()
    fresh = accounts.start_session(db, student, replacing=planted)
    db.commit()
    assert fresh != planted
    assert accounts.user_for_token(db, planted) is None
    assert accounts.user_for_token(db, fresh).id == student.id


def test_replacing_an_unknown_or_missing_token_is_harmless(db, student):
    for previous in (None, "", "not-a-token"):
        assert accounts.user_for_token(
            db, accounts.start_session(db, student, replacing=previous)).id == student.id


def test_log_out_everywhere_ends_every_login_of_that_user_only(db, student):
    other = make_user(db)
    mine = [accounts.start_session(db, student) for _ in range(3)]
    theirs = accounts.start_session(db, other)
    db.commit()
    assert accounts.active_session_count(db, student) == 3
    assert accounts.end_all_sessions(db, student) == 3
    db.commit()
    assert all(accounts.user_for_token(db, token) is None for token in mine)
    assert accounts.active_session_count(db, student) == 0
    assert accounts.user_for_token(db, theirs).id == other.id


def test_a_login_unused_past_the_idle_timeout_ends(db, student):
    token = accounts.start_session(db, student)
    db.commit()
    age(db, token, idle_for=idle_timeout() - timedelta(minutes=1))
    assert accounts.user_for_token(db, token).id == student.id  # used just in time: it lives on
    db.commit()
    age(db, token, idle_for=idle_timeout() + timedelta(seconds=1))
    assert accounts.user_for_token(db, token) is None
    assert accounts.active_session_count(db, student) == 0


def test_use_keeps_a_login_alive_only_up_to_its_absolute_expiry(db, student):
    token = accounts.start_session(db, student)
    db.exec(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1),
                                        last_seen_at=utcnow()))
    db.commit()
    assert accounts.user_for_token(db, token) is None


def test_the_idle_clock_is_written_at_most_once_per_few_minutes(db, student, engine,
                                                                sql_statements):
    token = accounts.start_session(db, student)
    db.commit()

    def writes() -> list[str]:
        statements = sql_statements(lambda session: accounts.user_for_token(session, token))
        return [s.sql for s in statements if s.sql.lstrip().upper().startswith("UPDATE")]

    assert writes() == []  # just logged in: nothing to write
    age(db, token, idle_for=accounts.LAST_SEEN_RESOLUTION - timedelta(seconds=30))
    assert writes() == []  # seen a moment ago: still nothing
    age(db, token, idle_for=accounts.LAST_SEEN_RESOLUTION + timedelta(seconds=1))
    assert len(writes()) == 1
    assert utcnow() - last_seen(db, token) < timedelta(seconds=30)
    db.commit()
    assert writes() == []  # the next events within a few minutes write nothing


def test_the_nightly_purge_removes_expired_and_idle_logins(db, student):
    live, idle, expired = (accounts.start_session(db, student) for _ in range(3))
    db.commit()
    age(db, idle, idle_for=idle_timeout() + timedelta(minutes=1))
    db.exec(update(LoginSession).where(LoginSession.token_hash == accounts.token_hash(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert purge_expired_sessions.delay().get() == 2
    db.expire_all()
    assert [row.token_hash for row in db.exec(select(LoginSession))] == [accounts.token_hash(live)]
