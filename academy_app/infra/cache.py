"""A read-through cache with versioned scopes: in Redis when one is configured, else in this process.

Every entry lives in a *scope* (one learner's record, one course, the catalog). A scope has a version
token kept beside the entries; an entry's key carries the version it was read under. Invalidating a
scope writes a new random token, so every entry read under an older one becomes unreachable at once
and expires by itself. This is what makes a stale read impossible after a write, without locks:

- a reader takes the scope's version *before* it reads the database and stores under that version;
- a writer changes the version *after* its transaction commits (see ``Cache.invalidate_after_commit``).

A reader that raced a writer stores what it read under a version the writer has already replaced, so
nobody reads it. A version that expired or was evicted is replaced by a fresh random token, which only
costs a miss: tokens never repeat, so an old entry can never become current again.

With Redis configured but not answering, reads go to the database (slower, never stale), the log says
so once, and the invalidations that could not be written are kept and written first when Redis
answers again, before anything is read from it. Without Redis (the embedded mode, where Reflex runs
one process) the same scopes live in an in-process LRU.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import secrets
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from academy_app.db import after_commit
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

PREFIX = "academy:cache"
# Bump when the shape of a cached value changes, so a new release never reads an old release's
# pickles (and old and new releases running side by side during a deploy each read their own).
SCHEMA = 3  # 2: catalog cards carry their average rating and review count; 3: CourseOutline.gated
COMPRESS_ABOVE = 1024  # bytes; smaller pickles are stored as they are
VERSION_TTL_SECONDS = 24 * 3600  # a version outlives its entries; if it goes, it only costs a miss
RETRY_REDIS_SECONDS = 5  # after a failure, read from the database this long before asking Redis again
MAX_PENDING_INVALIDATIONS = 50_000  # beyond this during an outage, drop every version on recovery
_PENDING_SCOPES = "academy_cache_pending_scopes"

# KEYS: version keys. ARGV: for each scope the entry key prefix, then a fresh token and the version
# TTL. Returns, per scope, the version (creating it when missing) and the entry (false when absent).
_READ = """
local n = #KEYS
local out = {}
for i = 1, n do
  local version = redis.call('GET', KEYS[i])
  if not version then
    version = ARGV[n + 1] .. ':' .. i
    redis.call('SET', KEYS[i], version, 'EX', ARGV[n + 2])
  end
  out[2 * i - 1] = version
  out[2 * i] = redis.call('GET', ARGV[i] .. version) or false
end
return out
"""


@dataclass(frozen=True)
class Entry:
    """Where a value lives: its scope (what invalidates it) and its name inside the scope."""

    scope: str
    name: str = "value"


@dataclass(frozen=True)
class Found:
    version: str
    payload: bytes | None  # None: a miss; load and store under `version`


class CacheUnavailable(Exception):
    """The store did not answer: read from the database."""


class Store(Protocol):
    def read(self, entries: Sequence[Entry]) -> list[Found]: ...
    def write(self, entry: Entry, version: str, payload: bytes, ttl: int) -> None: ...
    def invalidate(self, scopes: Iterable[str]) -> None: ...
    def clear(self) -> None: ...


def namespace_for(database_url: str) -> str:
    """Keys of one database's cache: two deployments (or two test runs) sharing a Redis but not a
    database never read each other's entries."""
    digest = hashlib.blake2b(database_url.encode(), digest_size=6).hexdigest()
    return f"{PREFIX}:{digest}"


class _Keys:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def version(self, scope: str) -> str:
        return f"{self.namespace}:v{SCHEMA}:{scope}"

    def entry(self, entry: Entry, version: str) -> str:
        # The version last: the read script appends it to the rest, which it is given.
        return f"{self.namespace}:v{SCHEMA}:{entry.scope}:{entry.name}@{version}"


class RedisStore(_Keys):
    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(namespace)
        # Fail fast: a cache that waits is worse than none. One quick retry covers a lost packet.
        pool = redis.ConnectionPool.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, retry_on_timeout=True,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
            health_check_interval=30, max_connections=64)
        self._redis = redis.Redis(connection_pool=pool)
        self._read = self._redis.register_script(_READ)

    def read(self, entries: Sequence[Entry]) -> list[Found]:
        try:
            reply = self._read(
                keys=[self.version(entry.scope) for entry in entries],
                args=[self.entry(entry, "") for entry in entries]
                + [secrets.token_hex(8), VERSION_TTL_SECONDS])
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc
        return [Found(reply[i].decode(), reply[i + 1]) for i in range(0, len(reply), 2)]

    def write(self, entry: Entry, version: str, payload: bytes, ttl: int) -> None:
        try:
            self._redis.set(self.entry(entry, version), payload, ex=ttl)
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    def invalidate(self, scopes: Iterable[str]) -> None:
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for scope in scopes:
                    pipe.set(self.version(scope), secrets.token_hex(8), ex=VERSION_TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc

    def clear(self) -> None:
        """Drop every entry and version of this namespace (all schemas)."""
        try:
            batch = []
            for key in self._redis.scan_iter(match=f"{self.namespace}:*", count=1000):
                batch.append(key)
                if len(batch) == 1000:
                    self._redis.unlink(*batch)
                    batch = []
            if batch:
                self._redis.unlink(*batch)
        except redis.RedisError as exc:
            raise CacheUnavailable(str(exc)) from exc


class MemoryStore(_Keys):
    """The same scopes in this process: an LRU of pickled values (callers get their own copies)."""

    def __init__(self, namespace: str = PREFIX, max_entries: int = 10_000) -> None:
        super().__init__(namespace)
        self._max = max_entries
        self._versions: dict[str, str] = {}
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, entries: Sequence[Entry]) -> list[Found]:
        now = time.monotonic()
        found = []
        with self._lock:
            for entry in entries:
                version = self._versions.setdefault(entry.scope, secrets.token_hex(8))
                key = self.entry(entry, version)
                stored = self._entries.get(key)
                if stored is not None and stored[0] <= now:
                    del self._entries[key]
                    stored = None
                if stored is not None:
                    self._entries.move_to_end(key)
                found.append(Found(version, stored[1] if stored else None))
        return found

    def write(self, entry: Entry, version: str, payload: bytes, ttl: int) -> None:
        with self._lock:
            if self._versions.get(entry.scope) != version:
                return  # invalidated while the value was being read: it is already stale
            key = self.entry(entry, version)
            self._entries[key] = (time.monotonic() + ttl, payload)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def invalidate(self, scopes: Iterable[str]) -> None:
        with self._lock:
            for scope in scopes:
                # Entries of the old version are unreachable now; the LRU pushes them out.
                self._versions[scope] = secrets.token_hex(8)

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._entries.clear()


def encode(value: object) -> bytes:
    raw = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    if len(raw) > COMPRESS_ABOVE:
        return b"z" + zlib.compress(raw, 1)
    return b"p" + raw


def decode(payload: bytes) -> object:
    body = payload[1:]
    return pickle.loads(zlib.decompress(body) if payload[:1] == b"z" else body)


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    bypassed: int  # reads sent to the database because the cache was off or not answering

    @property
    def hit_ratio(self) -> float:
        reads = self.hits + self.misses
        return self.hits / reads if reads else 0.0


class Cache:
    """Read-through with hit/miss counters per kind of value (the scope's first word)."""

    def __init__(self, store: Store | None, ttl: int, describe: str = "") -> None:
        self._store = store
        self._ttl = ttl
        self._describe = describe
        self._down_until = 0.0  # monotonic time; 0 while the store answers
        self._pending: set[str] = set()  # invalidations to write when the store answers again
        self._pending_overflowed = False
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.bypassed: Counter[str] = Counter()

    @property
    def enabled(self) -> bool:
        return self._store is not None

    def stats(self) -> CacheStats:
        return CacheStats(sum(self.hits.values()), sum(self.misses.values()),
                          sum(self.bypassed.values()))

    def reset_stats(self) -> None:
        self.hits.clear()
        self.misses.clear()
        self.bypassed.clear()

    def get(self, session: OrmSession, entry: Entry, load: Callable[[], T]) -> T:
        """The entry's value, loaded with `load` (from the database) and stored when missing."""
        return self.get_many(session, [entry], lambda missing: {missing[0]: load()})[entry]

    def get_each(self, session: OrmSession,
                 loaders: dict[Entry, Callable[[], T | None]]) -> dict[Entry, T]:
        """Values for entries of different kinds in one round trip, each missing one loaded by
        its own loader. A loader's None (nothing there) is left out of the answer, not stored."""
        return self.get_many(session, list(loaders), lambda missing: {
            entry: value for entry in missing if (value := loaders[entry]()) is not None})

    def get_many(self, session: OrmSession, entries: Sequence[Entry],
                 load: Callable[[list[Entry]], dict[Entry, T]]) -> dict[Entry, T]:
        """Values for `entries` in one round trip; the missing ones loaded together by `load`,
        which returns a value for each entry it was given (entries it leaves out are not stored).

        Entries whose scope this session changed and has not committed yet are read from the
        database: a transaction sees its own writes, and they must not be cached before they
        are committed."""
        if not entries:
            return {}
        own_writes = self._uncommitted_scopes(session)
        cacheable = [entry for entry in entries if entry.scope not in own_writes]
        found = self._read(cacheable) if cacheable else None
        values: dict[Entry, T] = {}
        versions: dict[Entry, str] = {}
        if found is None:
            missing = list(entries)
            for entry in missing:
                self.bypassed[_kind(entry)] += 1
        else:
            missing = [entry for entry in entries if entry.scope in own_writes]
            for entry in missing:
                self.bypassed[_kind(entry)] += 1
            for entry, hit in zip(cacheable, found, strict=True):
                if hit.payload is None:
                    self.misses[_kind(entry)] += 1
                    versions[entry] = hit.version
                    missing.append(entry)
                else:
                    self.hits[_kind(entry)] += 1
                    values[entry] = decode(hit.payload)  # type: ignore[assignment]
        if missing:
            loaded = load(missing)
            values.update(loaded)
            for entry, version in versions.items():
                if entry in loaded:
                    self._write(entry, version, encode(loaded[entry]))
        return values

    def peek(self, entries: Sequence[Entry]) -> dict[Entry, Found]:
        """What is cached for `entries` now (misses left out), loading and counting nothing: for
        checks that compare the cache with the database."""
        found = self._read(entries) if entries else None
        return {entry: hit for entry, hit in zip(entries, found or [], strict=False)
                if hit.payload is not None}

    def invalidate_after_commit(self, session: OrmSession, scopes: Iterable[str]) -> None:
        """Mark `scopes` changed by this session's transaction: read from the database by this
        session from now on, and invalidated for everyone once (and only if) it commits."""
        if self._store is None:
            return
        pending = session.info.get(_PENDING_SCOPES)
        if pending is None:
            pending = session.info[_PENDING_SCOPES] = set()
            after_commit(session, lambda: self.invalidate(session.info.pop(_PENDING_SCOPES, ())))
        pending.update(scopes)

    def invalidate(self, scopes: Iterable[str]) -> None:
        scopes = set(scopes)
        if self._store is None or not scopes:
            return
        if self._store_resting():
            self._remember(scopes)
            return
        try:
            self._flush_pending()
            self._store.invalidate(scopes)
        except CacheUnavailable as exc:
            self._remember(scopes)
            self._failed(exc)
            return
        self._answered()

    def clear(self) -> None:
        if self._store is not None:
            self._store.clear()

    @staticmethod
    def _uncommitted_scopes(session: OrmSession) -> set[str]:
        if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
            session.flush()  # the flush hooks record which scopes the pending changes touch
        return session.info.get(_PENDING_SCOPES, set())

    def _read(self, entries: Sequence[Entry]) -> list[Found] | None:
        if self._store is None or self._store_resting():
            return None
        try:
            self._flush_pending()
            found = self._store.read(entries)
        except CacheUnavailable as exc:
            self._failed(exc)
            return None
        self._answered()
        return found

    def _write(self, entry: Entry, version: str, payload: bytes) -> None:
        try:
            self._store.write(entry, version, payload, self._ttl)  # type: ignore[union-attr]
        except CacheUnavailable as exc:
            self._failed(exc)

    def _store_resting(self) -> bool:
        return self._down_until > 0 and time.monotonic() < self._down_until

    def _remember(self, scopes: set[str]) -> None:
        with self._lock:
            if len(self._pending) + len(scopes) > MAX_PENDING_INVALIDATIONS:
                self._pending_overflowed = True
                self._pending.clear()
            elif not self._pending_overflowed:
                self._pending |= scopes

    def _flush_pending(self) -> None:
        """Before anything is read from a store that was away: write the invalidations it
        missed (or, if there were too many to keep, drop every entry)."""
        with self._lock:
            pending, overflowed = self._pending, self._pending_overflowed
            self._pending, self._pending_overflowed = set(), False
        try:
            if overflowed:
                self._store.clear()  # type: ignore[union-attr]
            elif pending:
                self._store.invalidate(pending)  # type: ignore[union-attr]
        except CacheUnavailable:
            with self._lock:
                self._pending |= pending
                self._pending_overflowed |= overflowed
            raise

    def _answered(self) -> None:
        if self._down_until:
            log.warning("cache: %s answers again; caching resumes", self._describe)
            self._down_until = 0.0

    def _failed(self, exc: Exception) -> None:
        if not self._down_until:
            log.warning("cache: %s does not answer (%s); reading from the database until it does",
                        self._describe, exc)
        self._down_until = time.monotonic() + RETRY_REDIS_SECONDS


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_after_rollback(session: OrmSession, transaction: SessionTransaction) -> None:
    # After a commit the scopes were invalidated already; after a rollback nothing changed.
    if transaction.parent is None:
        session.info.pop(_PENDING_SCOPES, None)


def _kind(entry: Entry) -> str:
    return entry.scope.split(":", 1)[0]


def key_of(*parts: Hashable) -> str:
    """A short, stable entry name for a tuple of simple values (a search query, say)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def build_cache() -> Cache:
    settings = get_settings()
    if not settings.cache_enabled:
        log.info("cache: off (ACADEMY_CACHE_ENABLED=false); every read goes to the database")
        return Cache(None, settings.cache_ttl_seconds)
    url = settings.cache_url or settings.redis_url
    if url:
        where = urlsplit(url).hostname  # never the password
        return Cache(RedisStore(url, namespace_for(settings.database_url)),
                     settings.cache_ttl_seconds, describe=f"Redis cache at {where}")
    log.info("cache: no Redis configured; caching in this process (embedded mode, one process)")
    return Cache(MemoryStore(), settings.cache_ttl_seconds, describe="in-process cache")


_current: Cache | None = None


def cache() -> Cache:
    """This process's cache, built from the settings on first use."""
    global _current
    if _current is None:
        _current = build_cache()
    return _current


def use(instance: Cache | None) -> None:
    """Put `instance` in place of this process's cache (None: build it again from the settings on
    next use). For tests and benchmarks, which compare stores and the cache off."""
    global _current
    _current = instance
