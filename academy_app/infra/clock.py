"""The platform's "now" for anything that depends on the time of day: when a lesson opens.

In production it is the real clock. Tests of the running app (a browser test, say) may move it
forward: with ``ACADEMY_TEST_CLOCK_FILE`` set (refused in production by settings) the file holds a
number of seconds added to the real time, shared by every process that reads the same file (the
app's workers and the tasks they run eagerly). No file, or an unreadable one, means no offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from academy_app.models import utcnow
from academy_app.settings import get_settings


def now() -> datetime:
    """The current instant (aware, UTC), moved by the test clock when one is set."""
    return utcnow() + timedelta(seconds=offset_seconds())


def offset_seconds() -> float:
    path = get_settings().test_clock_file
    if path is None:
        return 0.0
    try:
        return float(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def move_test_clock(seconds: float) -> None:
    """Set the test clock `seconds` ahead of the real time (tests only: needs the test clock file)."""
    path = get_settings().test_clock_file
    if path is None:
        raise RuntimeError("no test clock: ACADEMY_TEST_CLOCK_FILE is not set")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(repr(float(seconds)))
    temporary.replace(path)  # readers see the old offset or the new one, never half a number
