"""The Content-Security-Policy's script-src allows 'unsafe-eval' for one reason, pinned here: Reflex's
client runs the scripts of events a handler returns with eval (`applyEvent` in
`.web/utils/state.js`), and Academy's handlers return such events (every toast, and the cookie
step and reload at log-in, sign-up and log-out). Should a Reflex upgrade stop evaluating them, the
last test fails: drop 'unsafe-eval' then."""

from __future__ import annotations

from pathlib import Path

import reflex as rx
from reflex_base import constants
from reflex_base.event import Event

from academy_app.infra.security_headers import content_security_policy

STATE_JS = Path(constants.Templates.Dirs.WEB_TEMPLATE) / "utils" / "state.js"


def directives() -> dict[str, str]:
    return dict(directive.split(" ", 1) for directive in content_security_policy().split("; "))


def test_scripts_come_from_this_origin_and_nothing_runs_from_plugins_or_frames():
    policy = directives()
    assert policy["script-src"] == "'self' 'unsafe-inline' 'unsafe-eval'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"


def test_handlers_events_reach_the_browser_as_script_text():
    # What AuthState._switch_login returns at log-in and log-out is an rx.call_script.
    toast, switch = Event.from_event_type([rx.toast.success("Payment approved"),
                                           rx.call_script("window.location.replace('/')")])
    assert toast.name == "_call_function" and isinstance(toast.payload["function"], str)
    assert switch.name == "_call_script" and isinstance(switch.payload["javascript_code"], str)


def test_reflexs_client_evaluates_that_text_so_the_policy_must_allow_eval():
    client = STATE_JS.read_text()
    assert "eval(event.payload.function)()" in client  # _call_function: rx.toast, run_script
    assert "eval(event.payload.javascript_code)" in client  # _call_script: rx.call_script
    assert "'unsafe-eval'" in directives()["script-src"]
