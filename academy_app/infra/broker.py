"""What the task broker holds: the length of the default Celery queue, for the jobs page."""

from __future__ import annotations

import logging

from kombu import Connection

from academy_app.settings import get_settings

log = logging.getLogger(__name__)

QUEUE = "celery"  # Celery's default queue, which every task here uses


def queue_length() -> int | None:
    """Messages waiting in the queue; None without a broker (tasks run eagerly) or when it does not
    answer within a few seconds."""
    url = get_settings().task_broker_url
    if url is None:
        return None
    try:
        with Connection(url, connect_timeout=3, transport_options={"socket_timeout": 3}) as conn:
            return conn.default_channel.queue_declare(queue=QUEUE, passive=True).message_count
    except Exception as exc:  # kombu, redis-py and amqp each raise their own kinds
        if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
            return 0  # the queue exists from the first task on: until then nothing waits
        log.warning("broker did not answer for the queue length: %s", exc)
        return None
