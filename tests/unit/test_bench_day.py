"""bench/day.py's stop rule: which ramp step counts as served, and which steps a run takes."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from bench.day import SLOW_ACTIONS, Share, Step, merge, parse_steps, served

LIMITS = argparse.Namespace(threshold_ms=100.0, slow_threshold_ms=1000.0, give_up_ms=5000.0)


def step(times: dict[str, list[float]], errors: Counter[str] | None = None,
         failed: int = 0) -> Step:
    return Step(learners=500, online=500, failed=failed, times=times, errors=errors or Counter(),
                first_error={}, worker_kib=100.0, worker_cores=1.0, client_cores=0.5,
                busiest_client=0.5, seconds=180.0)


def test_a_step_is_good_while_every_p95_is_within_its_limit() -> None:
    fast = [10.0] * 99 + [500.0]  # one slow answer in a hundred: p95 is still 10 ms
    assert step({"dashboard": fast, "log in": [300.0] * 20}).good(LIMITS)


def test_one_action_over_its_limit_stops_the_ramp_and_says_which() -> None:
    slow = step({"dashboard": [10.0] * 50, "mark complete": [150.0] * 50})
    assert not slow.good(LIMITS)
    assert slow.problems(LIMITS) == ["mark complete p95 150 ms > 100"]


def test_log_ins_and_broadcasts_have_the_slow_limit() -> None:
    assert "log in" in SLOW_ACTIONS and "instructor: broadcast update" in SLOW_ACTIONS
    assert step({"log in": [800.0] * 10}).good(LIMITS)
    assert not step({"log in": [1200.0] * 10}).good(LIMITS)


def test_any_error_or_failed_log_in_fails_the_step() -> None:
    assert step({"lesson": [5.0] * 10}, errors=Counter({"lesson": 1})).problems(LIMITS) == [
        "1 errors"]
    assert step({"lesson": [5.0] * 10}, failed=2).problems(LIMITS) == ["2 failed log-ins"]


def test_a_slow_step_lets_the_ramp_go_on_and_a_failure_or_a_hopeless_p95_stops_it() -> None:
    assert not step({"dashboard": [150.0] * 50}).hopeless(LIMITS)  # slow: draw the next point
    assert step({"dashboard": [6000.0] * 50}).hopeless(LIMITS)
    assert step({"lesson": [5.0] * 10}, errors=Counter({"lesson": 1})).hopeless(LIMITS)
    assert step({"lesson": [5.0] * 10}, failed=1).hopeless(LIMITS)


def test_one_host_serves_the_last_good_step_before_the_first_that_is_not() -> None:
    good, slow = step({"lesson": [5.0] * 10}), step({"lesson": [150.0] * 10})
    assert served([good, good, slow], LIMITS) is good
    assert served([slow, good], LIMITS) is None  # a later pass after a miss counts for nothing
    assert served([], LIMITS) is None


def test_steps_must_rise() -> None:
    assert parse_steps("500,1000,2_000") == (500, 1000, 2000)
    for wrong in ("", "1000,500", "0,10", "20,20"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_steps(wrong)


def test_a_step_adds_up_what_every_client_process_measured() -> None:
    shares = [Share(online=10, failed=1, times={"lesson": [5.0, 7.0]},
                    errors=Counter({"lesson": 1}), first_error={"lesson": "TimeoutError()"}),
              Share(online=9, failed=0, times={"lesson": [6.0], "dashboard": [3.0]},
                    errors=Counter(), first_error={})]
    merged = merge(20, shares, seconds=10.0, used=[{1: 5.0, 2: 3.0}, {3: 6.0, 4: 2.0}],
                   worker_kib=1900.0)
    assert merged.online == 19 and merged.failed == 1
    assert merged.times == {"lesson": [5.0, 7.0, 6.0], "dashboard": [3.0]}
    assert merged.errors == Counter({"lesson": 1})
    assert merged.worker_kib == 100.0
    assert (merged.worker_cores, merged.client_cores, merged.busiest_client) == (0.8, 0.8, 0.6)
