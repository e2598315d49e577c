"""The task queue: the Celery app, configured from settings, and `enqueue(task_name, *args)`.

Services hand work over by the task's name and never import a task: the tasks (`tasks/`) sit above
the services and call them. Broker: `CELERY_BROKER_URL`, else `REFLEX_REDIS_URL`; the message goes
to it by name and a worker (`celery -A tasks worker`) runs it. With neither (the embedded default)
tasks run eagerly in the process that queues them, after the transaction that queued them has
committed; the first one imports the task modules (`include`) to find tasks by name, and the log
says why. Messages are JSON only; a task is acknowledged after it ran (`acks_late`) and given back
to the queue if its worker dies mid-way, so every task is written to be safe to run twice.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

from celery import Celery, Task

from academy_app.settings import get_settings

log = logging.getLogger("academy.tasks")

TASK_TIME_LIMIT_SECONDS = 120
TASK_SOFT_TIME_LIMIT_SECONDS = 90
# Module names, not imports: the worker imports them at start, an eager process at its first task.
TASK_MODULES = ["tasks.certificates", "tasks.emails", "tasks.maintenance", "tasks.releases"]


def make_app() -> Celery:
    broker = get_settings().task_broker_url
    celery = Celery("academy", include=TASK_MODULES)
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
    )
    return celery


app = make_app()

# Without a broker, queued tasks run on one thread of this process, in order: the request that
# queued them (a broadcast to 500 learners queues 500 emails) answers at once instead of waiting.
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="academy-tasks")
_running: set[Future] = set()
run_inline = False  # tests set it: eager tasks then finish before the commit returns


@functools.cache
def _load_tasks() -> None:
    """At the first task this process runs itself (it has no broker): say so, once, and import
    the task modules so that tasks are found by name."""
    log.warning("Academy tasks: no broker (CELERY_BROKER_URL / REFLEX_REDIS_URL unset), "
                "so tasks run eagerly in-process")
    app.loader.import_default_modules()


def registered(task_name: str) -> Task:
    """The task of that name, to run here; raises celery's NotRegistered for an unknown name."""
    _load_tasks()
    return app.tasks[task_name]


def enqueue(task_name: str, *args: object) -> None:
    """Queue a task after commit: to the broker, or without one, to the background thread."""
    if not app.conf.task_always_eager:
        app.send_task(task_name, args=args)
    elif run_inline:
        registered(task_name).apply(args=args)
    else:
        future = _background.submit(registered(task_name).apply, args=args)
        _running.add(future)
        future.add_done_callback(_running.discard)


def drain(timeout: float = 30) -> None:
    """Wait for the tasks queued to the background thread (tests use it)."""
    wait(list(_running), timeout=timeout)
