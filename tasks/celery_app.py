"""The worker's and the scheduler's side of the queue (`celery -A tasks worker|beat`): when the
scheduled tasks run, and the logging and error reports of a worker process.

The Celery app itself, its configuration and how work is queued are `academy_app/infra/queue.py`,
below the services that queue work, so that no service imports a task.
"""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from celery.signals import setup_logging

from academy_app.infra.logging import configure_logging
from academy_app.infra.queue import app
from academy_app.infra.sentry import init_sentry

app.conf.beat_schedule = {
    "purge-expired-sessions": {"task": "tasks.maintenance.purge_expired_sessions",
                               "schedule": crontab(hour=3, minute=17)},
    "requeue-stuck-emails": {"task": "tasks.maintenance.requeue_stuck_emails",
                             "schedule": timedelta(minutes=5)},
    "redraw-lost-certificates": {"task": "tasks.maintenance.redraw_lost_certificates",
                                 "schedule": timedelta(minutes=5)},
    "issue-missing-certificates": {"task": "tasks.maintenance.issue_missing_certificates",
                                   "schedule": crontab(hour=3, minute=41)},
    "check-cached-progress": {"task": "tasks.maintenance.check_cached_progress",
                              "schedule": crontab(hour=3, minute=53)},
    # Once a day at a civil hour (UTC); a learner is reminded once per quiet spell.
    "inactivity-reminders": {"task": "tasks.maintenance.send_inactivity_reminders",
                             "schedule": crontab(hour=16, minute=5)},
    # Every minute: lessons the clock opened reach the learners' tabs within the minute; their
    # email goes once per learner, course and release day (services/unlocks.py).
    "announce-releases": {"task": "tasks.releases.announce_releases",
                          "schedule": timedelta(minutes=1)},
    # Hourly, one per follower and day: the news of the day reaches those who were away.
    "discussion-digests": {"task": "tasks.maintenance.send_discussion_digests",
                           "schedule": crontab(minute=35)},
}
init_sentry()  # with SENTRY_DSN: task failures reported, tagged with the task id


@setup_logging.connect
def _log_like_the_app(loglevel: int | str | None = None, **_: object) -> None:
    """The worker and beat log through Academy's handler (JSON in production), each line of a
    task with its task id; Celery then leaves logging alone."""
    configure_logging(level=loglevel)
