"""The Celery app, configured from settings.

Broker: `CELERY_BROKER_URL`, else `REFLEX_REDIS_URL`. With neither (the embedded default) tasks run
eagerly in the process that queues them, after the transaction that queued them has committed, and
the log says so. Messages are JSON only; a task is acknowledged after it ran (`acks_late`) and given
back to the queue if its worker dies mid-way, so every task is written to be safe to run twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import setup_logging

from academy_app.infra.logging import configure_logging
from academy_app.infra.sentry import init_sentry
from academy_app.settings import get_settings

log = logging.getLogger("academy.tasks")

TASK_TIME_LIMIT_SECONDS = 120
TASK_SOFT_TIME_LIMIT_SECONDS = 90


def make_app() -> Celery:
    broker = get_settings().task_broker_url
    celery = Celery("academy", include=["tasks.certificates", "tasks.emails", "tasks.maintenance"])
    celery.conf.update(
        broker_url=broker or "memory://",
        task_always_eager=broker is None,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT_SECONDS,
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT_SECONDS,
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged task after this long; longer than any task may run.
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
        beat_schedule={
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
        },
    )
    if broker is None:
        log.warning("Academy tasks: no broker (CELERY_BROKER_URL / REFLEX_REDIS_URL unset), "
                    "so tasks run eagerly in-process")
    return celery


app = make_app()
init_sentry()  # with SENTRY_DSN: task failures reported, tagged with the task id


@setup_logging.connect
def _log_like_the_app(loglevel: int | str | None = None, **_: object) -> None:
    """The worker and beat log through Academy's handler (JSON in production), each line of a
    task with its task id; Celery then leaves logging alone."""
    configure_logging(level=loglevel)

# Without a broker, queued tasks run on one thread of this process, in order: the request that
# queued them (a broadcast to 500 learners queues 500 emails) answers at once instead of waiting.
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="academy-tasks")
_running: set[Future] = set()
run_inline = False  # tests set it: eager tasks then finish before the commit returns


def enqueue(task: Task, *args: object) -> None:
    """Queue a task after commit: to the broker, or without one, to the background thread."""
    if not app.conf.task_always_eager:
        task.delay(*args)
    elif run_inline:
        task.apply(args=args)
    else:
        future = _background.submit(task.apply, args=args)
        _running.add(future)
        future.add_done_callback(_running.discard)


def drain(timeout: float = 30) -> None:
    """Wait for the tasks queued to the background thread (tests use it)."""
    wait(list(_running), timeout=timeout)
