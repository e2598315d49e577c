"""Sliding-window rate limits: in Redis when it is configured (shared by every process), else in
this process.

A window is a sorted set per key, one member per hit scored by its time; a Lua script trims what
fell out of the window, counts, and records the hit only if it is allowed, in one atomic step, so
two processes racing on the last slot cannot both take it. `backoff` is the same window with growing
waits instead of a fixed limit (slowing failed log-ins down without locking anyone out). If Redis
stops answering, the limiter keeps counting in this process (the log says so once) and goes back to
Redis when it answers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
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

# KEYS[1] the window; ARGV: now (ms), window (ms), free, first wait (ms), longest wait (ms), member.
# Returns {allowed (1/0), milliseconds still to wait}; records the hit when allowed.
_BACKOFF = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local free = tonumber(ARGV[3])
if count >= free then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local wait = math.min(tonumber(ARGV[4]) * 2 ^ (count - free), tonumber(ARGV[5]))
  local left = tonumber(newest[2]) + wait - tonumber(ARGV[1])
  if left > 0 then
    return {0, math.ceil(left)}
  end
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more hit would be allowed
    hit_id: str = ""  # the hit this decision counted, if it counted one (to `forget` it later)


class RateLimiter:
    def __init__(self, redis_url: str | None, clock: Callable[[], float] | None = None) -> None:
        """`clock` (seconds, monotonic) times the in-process windows: tests pass one they move."""
        self._redis = (redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
                       if redis_url else None)
        self._script = self._redis.register_script(_SLIDING_WINDOW) if self._redis else None
        self._backoff = self._redis.register_script(_BACKOFF) if self._redis else None
        self._clock = clock or time.monotonic
        self._local: dict[str, deque[tuple[float, str]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._redis_down_until = 0.0  # monotonic time; 0 while Redis answers

    def hit(self, key: str, limit: int, window: float) -> Decision:
        """Count a hit against `key` if fewer than `limit` fell in the last `window` seconds."""
        return self._apply(key, limit, window, record=True)

    def check(self, key: str, limit: int, window: float) -> Decision:
        """Would a hit be allowed? Counts nothing."""
        return self._apply(key, limit, window, record=False)

    def backoff(self, key: str, window: float, free: int, first: float, longest: float) -> Decision:
        """Count a hit against `key` unless it comes too soon after the last one.

        Of the hits in the last `window` seconds, the first `free` need no wait; with n >= `free`
        hits, the next is allowed `first` * 2 ** (n - `free`) seconds (at most `longest`) after
        the newest. Checked and counted in one step, so racing callers cannot all slip through.
        """
        hit_id = uuid.uuid4().hex
        if self._use_redis():
            try:
                allowed, wait_ms = self._backoff(
                    keys=[PREFIX + key],
                    args=[int(time.time() * 1000), int(window * 1000), free, int(first * 1000),
                          int(longest * 1000), hit_id])
                self._redis_answered()
                return (Decision(True, hit_id=hit_id) if allowed
                        else Decision(False, max(0.0, int(wait_ms) / 1000)))
            except redis.RedisError as exc:
                self._redis_failed(exc)
        now = self._clock()
        with self._lock:
            hits = self._window(key, window, now)
            if len(hits) >= free:
                # The exponent is bounded so a long run of hits cannot overflow a float.
                wait = min(first * 2 ** min(len(hits) - free, 64), longest)
                if (left := hits[-1][0] + wait - now) > 0:
                    return Decision(False, left)
            hits.append((now, hit_id))
            return Decision(True, hit_id=hit_id)

    def forget(self, key: str, hit_id: str) -> None:
        """Take back one counted hit (a log-in attempt that turned out not to be a failure)."""
        with self._lock:
            hits = self._local.get(key)
            if hits:
                self._local[key] = deque(hit for hit in hits if hit[1] != hit_id)
        if self._use_redis():
            try:
                self._redis.zrem(PREFIX + key, hit_id)
                self._redis_answered()
            except redis.RedisError as exc:
                self._redis_failed(exc)

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
        hit_id = uuid.uuid4().hex if record else ""
        if self._use_redis():
            try:
                allowed, wait_ms = self._script(
                    keys=[PREFIX + key],
                    args=[int(time.time() * 1000), int(window * 1000), limit, hit_id or "-",
                          1 if record else 0])
                self._redis_answered()
                return (Decision(True, hit_id=hit_id) if allowed
                        else Decision(False, max(0.0, int(wait_ms) / 1000)))
            except redis.RedisError as exc:
                self._redis_failed(exc)
        return self._apply_locally(key, limit, window, hit_id)

    def _apply_locally(self, key: str, limit: int, window: float, hit_id: str) -> Decision:
        now = self._clock()
        with self._lock:
            hits = self._window(key, window, now)
            if len(hits) >= limit:
                return Decision(False, hits[0][0] + window - now)
            if hit_id:
                hits.append((now, hit_id))
            return Decision(True, hit_id=hit_id)

    def _window(self, key: str, window: float, now: float) -> deque[tuple[float, str]]:
        """The key's in-process hits (time, id), those older than `window` dropped. Under _lock."""
        hits = self._local[key]
        while hits and hits[0][0] <= now - window:
            hits.popleft()
        return hits

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
