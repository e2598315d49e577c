"""Sliding-window rate limits and growing waits, in Redis (shared by processes) or in-process, and
the log-in limit of 5 attempts a minute per IP (what failures cost: test_login_lockout.py)."""

from __future__ import annotations

import logging

import pytest
import redis

from academy_app.infra.ratelimit import RateLimiter
from academy_app.services import accounts
from academy_app.services.errors import AuthenticationFailed, TooManyAttempts

LIVE_REDIS = "redis://127.0.0.1:6379/6"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def shared_redis() -> str:
    try:
        redis.Redis.from_url(LIVE_REDIS).flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {LIVE_REDIS}: {exc}. Run `make services`.")
    return LIVE_REDIS


def test_in_process_window_allows_the_limit_then_says_when_to_retry():
    clock = [1000.0]
    limiter = RateLimiter(None, clock=lambda: clock[0])
    assert all(limiter.hit("k", 5, 60).allowed for _ in range(5))
    assert limiter.check("k", 5, 60).allowed is False
    clock[0] += 20
    refused = limiter.hit("k", 5, 60)
    assert (refused.allowed, refused.retry_after) == (False, 40)
    clock[0] += 40.5  # the first hits left the window
    assert limiter.hit("k", 5, 60).allowed


def test_in_process_backoff_waits_twice_as_long_after_each_hit_up_to_the_longest():
    clock = [1000.0]
    limiter = RateLimiter(None, clock=lambda: clock[0])
    assert all(limiter.backoff("k", 3600, 2, 1, 5).allowed for _ in range(2))  # two free
    waits = []
    for _ in range(5):
        refused = limiter.backoff("k", 3600, 2, 1, 5)
        assert refused.allowed is False and refused.hit_id == ""
        waits.append(refused.retry_after)
        clock[0] += refused.retry_after
        assert limiter.backoff("k", 3600, 2, 1, 5).allowed
    assert waits == [1, 2, 4, 5, 5]
    clock[0] += 3600  # all left the window: free again
    assert limiter.backoff("k", 3600, 2, 1, 5).allowed


def test_a_forgotten_hit_no_longer_counts():
    limiter = RateLimiter(None)
    first, second = limiter.hit("k", 2, 60), limiter.backoff("k", 60, 2, 1, 5)
    assert limiter.check("k", 2, 60).allowed is False
    limiter.forget("k", second.hit_id)
    assert limiter.check("k", 2, 60).allowed
    limiter.forget("k", first.hit_id)
    assert all(limiter.hit("k", 2, 60).allowed for _ in range(2))


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


def test_two_processes_share_one_backoff_in_redis(shared_redis):
    first, second = RateLimiter(shared_redis), RateLimiter(shared_redis)
    assert first.backoff("login:failures:x", 3600, 2, 30, 900).allowed
    taken = second.backoff("login:failures:x", 3600, 2, 30, 900)
    assert taken.allowed
    for limiter in (first, second):  # two hits: the next waits 30 s, whoever asks
        refused = limiter.backoff("login:failures:x", 3600, 2, 30, 900)
        assert refused.allowed is False and 29 < refused.retry_after <= 30
    first.forget("login:failures:x", taken.hit_id)
    assert second.backoff("login:failures:x", 3600, 2, 30, 900).allowed


def test_without_redis_answering_it_counts_in_process_and_says_so_once(caplog):
    limiter = RateLimiter(DEAD_REDIS)
    with caplog.at_level(logging.WARNING, logger="academy_app.infra.ratelimit"):
        results = [limiter.hit("k", 3, 60).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    assert [r.message for r in caplog.records].count(
        next(r.message for r in caplog.records if "does not answer" in r.message)) == 1


def test_five_attempts_a_minute_per_ip_across_accounts(db):
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, f"someone{n}@example.com", "guess-guess", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, "someone-else@example.com", "guess-guess", "10.9.9.9")
    with pytest.raises(AuthenticationFailed):  # another address is not held back
        accounts.authenticate(db, "someone-else@example.com", "guess-guess", "10.9.9.10")
