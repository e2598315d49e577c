"""The guard in front of every event handler: payloads that fit no handler are dropped, text no
form produces is cleaned. (Over the real WebSocket: tests/integration/test_fuzz_handlers.py.)"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
from reflex.state import StateUpdate

from academy_app.infra import crafted_events
from academy_app.infra.crafted_events import CraftedEventGuard, clean_text, fits
from academy_app.text import as_id


def handler(self, payment_id: int, reason: str = "") -> None:
    """A handler's signature: one required argument, one with a default."""


@pytest.mark.parametrize(("payload", "expected"), [
    ({"payment_id": 1}, True),
    ({"payment_id": "anything", "reason": ["the handler checks values"]}, True),
    ({}, False),  # a required argument left out
    ({"reason": "no id"}, False),
    ({"payment_id": 1, "unexpected": 1}, False),
    ({"self": 1, "payment_id": 1}, False),
    ("not an object", False),
    (None, False),
    ([1], False),
])
def test_a_payload_fits_when_it_binds_to_the_handlers_parameters(payload, expected):
    assert fits(handler, payload) is expected


def test_nul_and_lone_surrogates_become_replacement_characters_everywhere_keys_too():
    # What a client's JSON decodes to: escapes a browser writes for text it cannot encode.
    payload = json.loads('{"value": "a\\u0000b\\udfffc", "form": {"na\\ud800me": ["x\\ud83d", '
                         '{"deep": "\\u0000"}]}, "pair": "\\ud83d\\ude00", "n": 1}')
    clean_text(payload)
    assert payload == {"value": "a\ufffdb\ufffdc", "form": {"na\ufffdme": ["x\ufffd",
                                                                          {"deep": "\ufffd"}]},
                       "pair": "😀", "n": 1}  # a valid pair is one character, and stays
    json.dumps(payload, ensure_ascii=False).encode()  # sendable, and storable, as UTF-8


def test_cleaning_handles_nesting_deeper_than_the_recursion_limit():
    payload: dict = {"value": "\x00"}
    inner = payload
    for _ in range(5000):
        inner["next"] = {"value": "\x00"}
        inner = inner["next"]
    clean_text(payload)
    assert inner == {"value": "\ufffd"}


def _run_guard(monkeypatch: pytest.MonkeyPatch, payload: object) -> StateUpdate | None:
    """The guard on an event naming `handler`, as Reflex calls it before the handler runs."""
    registered = SimpleNamespace(handler=SimpleNamespace(fn=handler))
    context = SimpleNamespace(event_handlers={"any.handler": registered})
    monkeypatch.setattr(crafted_events, "RegistrationContext", SimpleNamespace(get=lambda: context))
    event = SimpleNamespace(name="any.handler", payload=payload)
    return asyncio.run(CraftedEventGuard().preprocess(None, None, event))


def test_the_guard_drops_a_payload_that_does_not_fit_with_one_bounded_warning(monkeypatch, caplog):
    update = _run_guard(monkeypatch, {"payment_id": 1, "x" * 10_000: 1})
    assert isinstance(update, StateUpdate) and not update.delta and not update.events
    [record] = [r for r in caplog.records if r.name == crafted_events.__name__]
    assert "refused handler" in record.getMessage() and len(record.getMessage()) < 300


def test_the_guard_lets_a_fitting_payload_through_cleaned(monkeypatch):
    payload = {"payment_id": 1, "reason": "\x00"}
    assert _run_guard(monkeypatch, payload) is None
    assert payload == {"payment_id": 1, "reason": "\ufffd"}


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), (2**31 - 1, 2**31 - 1), (2**31, 0), (2**63, 0), (0, 0), (-3, 0), (True, 0),
    ("7", 0), (7.0, 0), (None, 0), ([7], 0),
])
def test_only_a_positive_int_that_fits_an_id_column_is_an_id(value, expected):
    """What a handler acts on: anything else matches no row (never a database error)."""
    assert as_id(value) == expected
