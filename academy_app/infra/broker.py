"""What the task broker holds: the length of the default Celery queue, for the jobs page."""

from __future__ import annotations

import logging
import time

from kombu import Connection

from academy_app.settings import get_settings

log = logging.getLogger(__name__)

QUEUE = "celery"  # Celery's default queue, which every task here uses
CACHE_SECONDS = 5
_last: list = []  # [broker url, when, length] of the last reading


class BrokerUnavailable(Exception):
    """The broker did not answer."""


def queue_length() -> int | None:
    """Messages waiting in the queue, or None without a broker (tasks run eagerly in-process).

    Raises BrokerUnavailable when the broker does not answer. A reading is reused for a few
    seconds, so a page reloaded in a loop does not open a connection each time."""
    url = get_settings().task_broker_url
    if url is None:
        return None
    now = time.monotonic()
    if _last and _last[0] == url and now - _last[1] < CACHE_SECONDS:
        return _last[2]
    try:
        with Connection(url, connect_timeout=2, transport_options={"socket_timeout": 2,
                                                                    "max_retries": 1}) as conn:
            conn.ensure_connection(max_retries=0)
            length = conn.default_channel.queue_declare(queue=QUEUE, passive=True).message_count
    except Exception as exc:  # kombu, redis-py and amqp each raise their own kinds
        if "NOT_FOUND" not in str(exc) and "no queue" not in str(exc).lower():
            log.warning("broker did not answer for the queue length: %s", exc)
            raise BrokerUnavailable(str(exc)) from exc
        length = 0  # the queue exists from the first task on: until then nothing waits
    _last[:] = [url, now, length]
    return length

