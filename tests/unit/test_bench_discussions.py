"""bench/discussions.py's verdicts: when a post counts as delivered, which rate counts as sustained."""

from __future__ import annotations

import argparse

import pytest

from bench.discussions import Phase, highest_sustained, parse_rates, to_last


def test_a_post_reaches_everyone_when_the_last_viewer_has_it() -> None:
    seen = [{"a": 1.10, "b": 2.5}, {"a": 1.30}]
    assert to_last({"a": 1.0, "b": 2.0}, seen) == pytest.approx([300.0, None])


def test_a_rate_is_sustained_while_everything_arrives_within_the_limit() -> None:
    fast = Phase(1, 3, [100.0, 120.0, 900.0])
    assert fast.delivered and fast.sustained(1000)
    assert not Phase(2, 3, [100.0, None, 100.0]).sustained(1000)  # one viewer never had a post
    assert not Phase(4, 3, [1500.0, 1600.0, 1700.0]).sustained(1000)
    assert highest_sustained([fast, Phase(2, 3, [200.0] * 3), Phase(4, 3, [1500.0] * 3)],
                             1000) == 2
    # A rate sustained above one that was not does not count.
    assert highest_sustained([Phase(1, 3, [None] * 3), Phase(2, 3, [10.0] * 3)], 1000) == 0


def test_rates_must_rise() -> None:
    assert parse_rates("0.5,1,2") == (0.5, 1.0, 2.0)
    for wrong in ("", "2,1", "0,1", "1,1", "fast"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_rates(wrong)
