"""Sliding-window rate limits, in Redis (shared by processes) or in-process, and the log-in policy
built on them: 5 attempts a minute per IP and per account, a 15-minute lock after 10 failures."""

from __future__ import annotations

import logging

import pytest
import redis

from academy_app.infra import ratelimit
from academy_app.infra.ratelimit import RateLimiter
from academy_app.services import accounts
from academy_app.services.errors import AuthenticationFailed, TooManyAttempts
from academy_app.settings import get_settings
from tests.factories import PASSWORD, make_user

LIVE_REDIS = "redis://127.0.0.1:6379/6"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def shared_redis() -> str:
    try:
        redis.Redis.from_url(LIVE_REDIS).flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {LIVE_REDIS}: {exc}. Run `make services`.")
    return LIVE_REDIS


def test_in_process_window_allows_the_limit_then_says_when_to_retry(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    limiter = RateLimiter(None)
    assert all(limiter.hit("k", 5, 60).allowed for _ in range(5))
    assert limiter.check("k", 5, 60).allowed is False
    clock[0] += 20
    refused = limiter.hit("k", 5, 60)
    assert (refused.allowed, refused.retry_after) == (False, 40)
    clock[0] += 40.5  # the first hits left the window
    assert limiter.hit("k", 5, 60).allowed


def test_two_processes_share_one_window_in_redis(shared_redis):
    first, second = RateLimiter(shared_redis), RateLimiter(shared_redis)
    assert all(first.hit("login:ip:1.2.3.4", 5, 60).allowed for _ in range(3))
    assert second.check("login:ip:1.2.3.4", 5, 60).allowed  # a check counts nothing
    assert all(second.hit("login:ip:1.2.3.4", 5, 60).allowed for _ in range(2))
    for limiter in (first, second):
        refused = limiter.hit("login:ip:1.2.3.4", 5, 60)
        assert refused.allowed is False and 0 < refused.retry_after <= 60
    first.reset("login:ip:1.2.3.4")
    assert second.hit("login:ip:1.2.3.4", 5, 60).allowed


def test_without_redis_answering_it_counts_in_process_and_says_so_once(caplog):
    limiter = RateLimiter(DEAD_REDIS)
    with caplog.at_level(logging.WARNING, logger="academy_app.infra.ratelimit"):
        results = [limiter.hit("k", 3, 60).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    assert [r.message for r in caplog.records].count(
        next(r.message for r in caplog.records if "does not answer" in r.message)) == 1


def test_five_attempts_a_minute_per_account_even_with_the_right_password(db):
    user = make_user(db)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, user.email, "wrong password!", "10.0.0.1")
    assert accounts.authenticate(db, user.email, PASSWORD, "10.0.0.2").id == user.id
    with pytest.raises(TooManyAttempts) as refused:
        accounts.authenticate(db, user.email, PASSWORD, "10.0.0.3")
    assert "try again in" in refused.value.message and refused.value.retry_after > 0


def test_five_attempts_a_minute_per_ip_across_accounts(db):
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, f"someone{n}@example.com", "guess-guess", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, "someone-else@example.com", "guess-guess", "10.9.9.9")
    with pytest.raises(AuthenticationFailed):  # another address is not held back
        accounts.authenticate(db, "someone-else@example.com", "guess-guess", "10.9.9.10")


@pytest.mark.parametrize("known", [True, False])
def test_ten_failures_lock_the_account_for_fifteen_minutes(db, monkeypatch, known):
    monkeypatch.setattr(get_settings(), "login_attempts_per_minute", 100)
    email = make_user(db).email if known else "nobody-here@example.com"  # same answer either way
    for attempt in range(10):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, email, "wrong password!", f"10.1.0.{attempt}")
    with pytest.raises(TooManyAttempts) as locked:
        accounts.authenticate(db, email, PASSWORD, "10.2.0.1")
    assert "locked for 15 more minutes" in locked.value.message
    assert 14 * 60 < locked.value.retry_after <= 15 * 60
