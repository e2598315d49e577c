"""Probes for load balancers and orchestrators.

`/healthz`: the process is up and serving (no dependency is asked, so a database outage does not
get every web process restarted). `/readyz`: the process can do its work now — the database
answers, and so do Redis and the task broker when they are configured. Each dependency gets a short
timeout; the answer says which one failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from academy_app.db import session_scope
from academy_app.infra import broker
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 2


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(_request: Request) -> Response:
    checks = await run_in_threadpool(_checks)
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


def _checks() -> dict[str, dict]:
    settings = get_settings()
    checks = {"database": _timed(_database)}
    if settings.redis_url:
        checks["redis"] = _timed(lambda: _redis(settings.redis_url))
    if settings.task_broker_url:
        checks["broker"] = _timed(broker.queue_length)
    return checks


def _database() -> None:
    with session_scope() as session:
        session.execute(text("SELECT 1"))


def _redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                  socket_connect_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def _timed(check: Callable[[], object]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure of a dependency means "not ready"
        # The reason goes to the log: it may name hosts and users, and the probe is anonymous.
        log.warning("readiness check failed: %s: %s", type(exc).__name__, exc)
        return {"ok": False}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
