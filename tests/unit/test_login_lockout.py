"""Failed log-ins slow the address they come from down; they never lock the owner out.

A stranger who types wrong passwords for someone else's account gets growing waits at their own
address; the owner, from anywhere else, gets straight in, and a password reset lets the owner in
from the stranger's address too. An unknown email is treated exactly as a known one. Time is a
clock the test moves, so the waits are exact and nothing sleeps.
"""

from __future__ import annotations

import pytest

from academy_app.infra.ratelimit import RateLimiter
from academy_app.services import accounts
from academy_app.services.errors import AuthenticationFailed, TooManyAttempts
from academy_app.settings import get_settings
from tests.factories import PASSWORD, make_user
from tests.unit.test_password_reset import NEW_PASSWORD, ask_for_link, latest_token

ATTACKER = "203.0.113.7"
OWNER_ELSEWHERE = "198.51.100.20"
WRONG = "wrong password!"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The log-in limits on an in-process limiter that reads this clock. The per-minute attempt
    limit is raised out of the way: these tests are about what failures cost."""
    clock = Clock()
    guard = RateLimiter(None, clock=clock)
    monkeypatch.setattr(accounts, "limiter", lambda: guard)
    monkeypatch.setattr(get_settings(), "login_attempts_per_minute", 10_000)
    return clock


def refusal(db, email: str, password: str, ip: str) -> TooManyAttempts:
    with pytest.raises(TooManyAttempts) as refused:
        accounts.authenticate(db, email, password, ip)
    return refused.value


def attack(db, clock: Clock, email: str, failures: int, ip: str = ATTACKER) -> None:
    """`failures` wrong passwords from one address, each as soon as it is let through."""
    made = 0
    while made < failures:
        try:
            accounts.authenticate(db, email, WRONG, ip)
        except TooManyAttempts as exc:
            clock.advance(exc.retry_after)
        except AuthenticationFailed:
            made += 1


def test_an_attackers_failures_do_not_keep_the_owner_out_from_another_address(db, clock, student):
    attack(db, clock, student.email, 10)
    assert accounts.authenticate(db, student.email, PASSWORD, OWNER_ELSEWHERE).id == student.id
    assert refusal(db, student.email, PASSWORD, ATTACKER).retry_after == 32  # the attacker waits


def test_failures_from_one_address_make_it_wait_longer_and_longer(db, clock, student):
    attack(db, clock, student.email, 5)  # five are free
    waits = []
    for _ in range(12):
        # Too soon, even the right password is refused: the wait is enforced before any check.
        refused = refusal(db, student.email, PASSWORD, ATTACKER)
        assert refused.message.startswith("Too many log-in attempts: try again in")
        waits.append(refused.retry_after)
        clock.advance(refused.retry_after - 0.5)
        assert refusal(db, student.email, WRONG, ATTACKER).retry_after == 0.5  # still waiting
        clock.advance(0.5)
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, student.email, WRONG, ATTACKER)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]  # capped at 15 minutes
    assert refusal(db, student.email, WRONG, ATTACKER).message == (
        "Too many log-in attempts: try again in 15 minutes")


def test_after_a_password_reset_the_owner_logs_in_from_the_attackers_address(db, clock, student,
                                                                            outbox):
    attack(db, clock, student.email, 15)
    assert refusal(db, student.email, PASSWORD, ATTACKER).retry_after == 900
    ask_for_link(db, student.email, ip=OWNER_ELSEWHERE)
    accounts.reset_password(db, latest_token(outbox), NEW_PASSWORD)
    db.commit()
    assert accounts.authenticate(db, student.email, NEW_PASSWORD, ATTACKER).id == student.id


def test_an_unknown_email_is_slowed_down_exactly_like_a_known_one(db, clock, student):
    def answers(email: str, ip: str) -> list[tuple[str, str, float]]:
        seen = []
        for _ in range(14):
            try:
                accounts.authenticate(db, email, WRONG, ip)
            except (AuthenticationFailed, TooManyAttempts) as exc:
                seen.append((type(exc).__name__, exc.message, getattr(exc, "retry_after", 0)))
            clock.advance(0.75)
        return seen

    known = answers(student.email, "203.0.113.1")
    assert known == answers("nobody-here@example.com", "203.0.113.2")
    assert {name for name, _, _ in known} == {"AuthenticationFailed", "TooManyAttempts"}


def test_a_success_ends_the_run_of_failures_from_that_address(db, clock, student):
    attack(db, clock, student.email, 5)
    clock.advance(1)
    assert accounts.authenticate(db, student.email, PASSWORD, ATTACKER).id == student.id
    attack(db, clock, student.email, 5)  # five free again, with no wait
    assert clock.now == 1001


def test_one_address_guessing_across_accounts_is_slowed_down_too(db, clock):
    for n in range(accounts.FREE_FAILURES_PER_ADDRESS):  # a password sprayer: one try per account
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, f"someone{n}@example.com", WRONG, ATTACKER)
    assert refusal(db, "someone-else@example.com", WRONG, ATTACKER).retry_after == 1
    with pytest.raises(AuthenticationFailed):  # another address is not held back
        accounts.authenticate(db, "someone-else@example.com", WRONG, OWNER_ELSEWHERE)


def test_log_ins_that_succeed_do_not_count_against_their_address(db, clock):
    people = [make_user(db) for _ in range(3)]
    for _ in range(accounts.FREE_FAILURES_PER_ADDRESS // 2):  # one office behind one address
        for person in people:
            assert accounts.authenticate(db, person.email, PASSWORD, ATTACKER).id == person.id


@pytest.mark.parametrize("known", [True, False])
def test_attempts_from_new_addresses_are_capped_per_account_but_known_ones_get_in(db, clock,
                                                                                known):
    user = make_user(db)
    email = user.email if known else "nobody-here@example.com"
    if known:
        assert accounts.authenticate(db, email, PASSWORD, OWNER_ELSEWHERE).id == user.id
    for n in range(accounts.NEW_ADDRESS_ATTEMPTS):  # a botnet: one guess per address
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db, email, WRONG, f"10.0.{n // 250}.{n % 250 + 1}")
    # One more new address is refused, the right password or not (the answer must not tell).
    refused = refusal(db, email, PASSWORD, "10.9.9.9")
    assert 3590 < refused.retry_after <= 3600
    if known:  # where the owner has logged in before, the owner still gets in
        assert accounts.authenticate(db, email, PASSWORD, OWNER_ELSEWHERE).id == user.id
    clock.advance(3600)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db, email, WRONG, "10.9.9.9")
