"""Scheduled work (celery beat): reminders to quiet learners, discussion digests to away followers;
housekeeping of expired login sessions, and of emails and certificates whose task was lost; a check
that the read cache agrees with the database."""

from __future__ import annotations

from datetime import timedelta

from academy_app.db import session_scope
from academy_app.infra.queue import app
from academy_app.models import utcnow
from academy_app.services import (
    accounts,
    certificates,
    discussions,
    emails,
    learner_records,
    profile,
    reminders,
)

STUCK_AFTER = timedelta(minutes=10)


@app.task(name="tasks.maintenance.purge_expired_sessions")
def purge_expired_sessions() -> int:
    """Login sessions past their absolute or idle timeout, and used or expired reset links and
    email confirmation links."""
    with session_scope() as session:
        accounts.purge_expired_resets(session)
        profile.purge_expired_email_changes(session)
        return accounts.purge_expired_sessions(session)


@app.task(name="tasks.maintenance.requeue_stuck_emails")
def requeue_stuck_emails() -> int:
    with session_scope() as session:
        emails.give_up(session)
        ids = emails.stuck(session, STUCK_AFTER)
    emails.send_later(ids)
    return len(ids)


@app.task(name="tasks.maintenance.redraw_lost_certificates")
def redraw_lost_certificates() -> int:
    with session_scope() as session:
        ids = certificates.undrawn(session, STUCK_AFTER)
    certificates.draw_later(ids)
    return len(ids)


@app.task(name="tasks.maintenance.issue_missing_certificates")
def issue_missing_certificates() -> int:
    issued, after_id = 0, 0
    while after_id is not None:  # one transaction per batch: a large backlog goes in one night
        with session_scope() as session:
            batch, after_id = certificates.issue_missing(session, after_id)
        issued += batch
    return issued


@app.task(name="tasks.maintenance.send_inactivity_reminders")
def send_inactivity_reminders() -> int:
    with session_scope() as session:
        return len(reminders.queue_inactivity_reminders(session))


@app.task(name="tasks.maintenance.send_discussion_digests")
def send_discussion_digests() -> int:
    with session_scope() as session:
        return len(discussions.queue_digests(session))


@app.task(name="tasks.maintenance.check_cached_progress")
def check_cached_progress() -> int:
    """Nightly: the cached records of the last day's active learners against the database."""
    with session_scope() as session:
        return learner_records.check_cached_records(session, utcnow() - timedelta(days=1)).stale
