"""Lessons the clock opens: every minute (celery beat), tell the learners concerned in their open
tabs and queue the day's release email (services/unlocks.py: once per learner, course and day)."""

from __future__ import annotations

from academy_app.db import session_scope
from academy_app.infra import clock
from academy_app.infra.queue import app
from academy_app.services import unlocks

ANNOUNCE_RELEASES_TASK = "tasks.releases.announce_releases"


@app.task(name=ANNOUNCE_RELEASES_TASK)
def announce_releases() -> int:
    """What opened during the sweep window up to now; the number of lessons found opened."""
    with session_scope() as session:
        return len(unlocks.announce_due(session, clock.now()))
