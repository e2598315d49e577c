"""bench/day.py's stop rule: which ramp step counts as served, and which steps a run takes."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from bench.day import SLOW_ACTIONS, Step, parse_steps

LIMITS = argparse.Namespace(threshold_ms=100.0, slow_threshold_ms=1000.0)


def step(times: dict[str, list[float]], errors: Counter[str] | None = None,
         failed: int = 0) -> Step:
    return Step(learners=500, online=500, failed=failed, times=times, errors=errors or Counter(),
                first_error={}, worker_kib=100.0, worker_cores=1.0, client_cores=0.5,
                seconds=180.0)


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


def test_steps_must_rise() -> None:
    assert parse_steps("500,1000,2_000") == (500, 1000, 2000)
    for wrong in ("", "1000,500", "0,10", "20,20"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_steps(wrong)
