"""Sliding-window rate limits: in Redis when it is configured (shared by every process), else in
this process.

A window is a sorted set per key, one member per hit scored by its time; a Lua script trims what
fell out of the window, counts, and records the hit only if it is allowed, in one atomic step, so
two processes racing on the last slot cannot both take it. If Redis stops answering, the limiter
keeps counting in this process (the log says so once) and goes back to Redis when it answers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import lru_cache

import redis

from academy_app.settings import get_settings

log = logging.getLogger(__name__)
PREFIX = "academy:rl:"
RETRY_REDIS_SECONDS = 5  # after a failure, how long to count locally before asking Redis again

# KEYS[1] the window; ARGV: now (ms), window (ms), limit, member, record (1 = count this hit).
# Returns {allowed (1/0), milliseconds until the oldest hit leaves the window}.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, oldest[2] + ARGV[2] - ARGV[1]}
end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {1, 0}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more hit would be allowed


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self._redis = (redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
                       if redis_url else None)
        self._script = self._redis.register_script(_SLIDING_WINDOW) if self._redis else None
        self._local: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._redis_down_until = 0.0  # monotonic time; 0 while Redis answers

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count a hit against `key` if fewer than `limit` fell in the last `window` seconds."""
        return self._apply(key, limit, window, record=True)

    def check(self, key: str, limit: int, window: float) -> Decision:
        """Would a hit be allowed? Counts nothing."""
        return self._apply(key, limit, window, record=False)

    def reset(self, key: str) -> None:
        with self._lock:
            self._local.pop(key, None)
        if self._use_redis():
            try:
                self._redis.delete(PREFIX + key)
                self._redis_answered()
            except redis.RedisError as exc:
                self._redis_failed(exc)

    def _apply(self, key: str, limit: int, window: float, record: bool) -> Decision:
        if self._use_redis():
            try:
                allowed, wait_ms = self._script(
                    keys=[PREFIX + key],
                    args=[int(time.time() * 1000), int(window * 1000), limit, uuid.uuid4().hex,
                          1 if record else 0])
                self._redis_answered()
                return Decision(bool(allowed), max(0.0, int(wait_ms) / 1000))
            except redis.RedisError as exc:
                self._redis_failed(exc)
        return self._apply_locally(key, limit, window, record)

    def _apply_locally(self, key: str, limit: int, window: float, record: bool) -> Decision:
        now = time.monotonic()
        with self._lock:
            hits = self._local[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return Decision(False, hits[0] + window - now)
            if record:
                hits.append(now)
            return Decision(True)

    def _use_redis(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_answered(self) -> None:
        if self._redis_down_until:
            log.warning("rate limits: Redis answers again; counting there")
            self._redis_down_until = 0.0

    def _redis_failed(self, exc: Exception) -> None:
        if not self._redis_down_until:
            log.warning("rate limits: Redis does not answer (%s); counting in this process", exc)
        self._redis_down_until = time.monotonic() + RETRY_REDIS_SECONDS


@lru_cache
def limiter() -> RateLimiter:
    return RateLimiter(get_settings().redis_url)
