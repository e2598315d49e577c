"""Password hashing takes turns: a burst of log-ins in one process never computes more argon2
hashes at once than `password_hash_concurrency`, so it cannot take every core."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from academy_app.infra import passwords
from academy_app.settings import get_settings


def test_the_bound_is_the_setting() -> None:
    assert passwords.turns().limit == get_settings().password_hash_concurrency >= 1


def test_many_threads_at_once_never_take_more_turns_than_the_bound() -> None:
    turns = passwords.turns()
    callers = turns.limit + 3
    running, peak = 0, 0
    counted = threading.Condition()
    release = threading.Event()

    def hold() -> None:
        nonlocal running, peak
        with counted:
            running += 1
            peak = max(peak, running)
            counted.notify_all()
        release.wait(10)
        with counted:
            running -= 1

    with ThreadPoolExecutor(callers) as pool:
        done = [pool.submit(turns.run, hold) for _ in range(callers)]
        with counted:
            assert counted.wait_for(lambda: running == turns.limit, 10)
        release.set()
        for future in done:
            future.result(10)
    assert peak == turns.limit


def test_a_verification_waits_while_every_turn_is_taken_then_runs() -> None:
    stored = passwords.hash_password("a long enough password")
    turns = passwords.turns()
    holding = threading.Barrier(turns.limit + 1, timeout=10)
    release = threading.Event()

    def hold() -> None:
        holding.wait()
        release.wait(10)

    with ThreadPoolExecutor(turns.limit + 2) as pool:
        held = [pool.submit(turns.run, hold) for _ in range(turns.limit)]
        holding.wait()  # every turn is taken
        right = pool.submit(passwords.verify, "a long enough password", stored)
        wrong = pool.submit(passwords.verify, "another password", stored)
        # Ample time for two 20 ms hashes, had they not been made to wait.
        finished, _ = wait([right, wrong], timeout=0.5)
        assert not finished
        release.set()
        assert right.result(10) is True and wrong.result(10) is False
        for future in held:
            future.result(10)


def test_a_form_awaits_its_turn_off_the_event_loop() -> None:
    """The forms' transactions run on threads of their own, a few, never on the event loop's."""
    async def scenario() -> tuple[int, set[int]]:
        ran_on: set[int] = set()

        def form() -> bool:
            ran_on.add(threading.get_ident())
            return passwords.verify("a long enough password",
                                    passwords.hash_password("a long enough password"))

        results = await asyncio.gather(*(passwords.in_turn(form) for _ in range(4)))
        assert all(results)
        return threading.get_ident(), ran_on

    loop_thread, ran_on = asyncio.run(scenario())
    assert loop_thread not in ran_on
    assert len(ran_on) <= 2 * passwords.turns().limit
