"""POST /_test/clock {"seconds": N}: move the app's clock N seconds ahead of the real time, then
sweep the releases at once, as the every-minute beat would (infra/clock.py).

Tests only: the route exists only while ACADEMY_TEST_CLOCK_FILE is set, which settings refuse in
production. It lets a browser test pass the moment a lesson opens without waiting for it."""

from __future__ import annotations

import json
import math

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from academy_app.infra import clock
from academy_app.infra.queue import enqueue

ANNOUNCE_RELEASES_TASK = "tasks.releases.announce_releases"  # by name: no import of the tasks


async def move_clock(request: Request) -> Response:
    try:
        seconds = json.loads(await request.body())["seconds"]
    except (ValueError, KeyError, TypeError):
        return PlainTextResponse('Send {"seconds": N}', status_code=400)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not math.isfinite(seconds):
        return PlainTextResponse("seconds must be a number", status_code=400)
    clock.move_test_clock(float(seconds))
    enqueue(ANNOUNCE_RELEASES_TASK)
    return JSONResponse({"now": clock.now().isoformat()})
