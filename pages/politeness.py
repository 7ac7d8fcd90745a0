"""Per-host politeness shared by every worker process on every machine: request slots, pacing, robots.txt.

A site must never see more than FETCH_PER_HOST_CONCURRENCY of our requests at once, nor two request starts
closer than the per-host delay, however many worker processes and machines fetch. The state therefore lives
where the deployment already shares state (FETCH_POLITENESS_BACKEND, "auto" by default):

- ``redis`` (REDIS_URL is set): slots are members of a sorted set per host, scored by their lease expiry
  (a crashed process's slot frees itself), taken by one Lua script that also advances the host's next start
  time; robots.txt is a key with the cache TTL.
- ``database`` (PostgreSQL): a slot is a session advisory lock (host hash, slot number): PostgreSQL frees it
  when the holder's connection ends, so a killed worker can never leak one; the next start time and the
  robots.txt cache are rows of `pages.HostPoliteness`, updated by one upsert.
- ``local`` (the embedded default: SQLite runs one worker process): the same limits in this process's memory.

`backend()` returns the one in use; `pages.fetch` calls `backend().slot(...)` around every request and
`robots_get` / `robots_put` around its robots.txt cache.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from curation.exceptions import ErrorClass, RetryableError
from pages.models import HostPoliteness

_POLL_SECONDS = 0.01  # first wait when every slot of a host is taken (then doubling, at most _POLL_MAX)
_POLL_MAX = 0.1


@dataclass(frozen=True)
class RobotsEntry:
    """A cached robots.txt outcome: the text (None: no robots.txt, allow all) or a temporary failure."""

    expires_at: float  # wall-clock seconds (time.time()): shared between machines
    text: str | None
    failure: dict | None = None  # {"message", "error_class", "retry_after"}


def _timeout(url: str) -> RetryableError:
    return RetryableError(f"Timed out waiting for a free connection slot for {url}", error_class=ErrorClass.TIMEOUT)


def _pace_timeout(url: str) -> RetryableError:
    return RetryableError(f"Per-host delay would exceed the time limit for {url}", error_class=ErrorClass.TIMEOUT)


def _sleep_until(start: float, deadline: float, url: str) -> None:
    """Wait until wall-clock `start` (the host's turn), unless that is past the deadline (monotonic)."""
    wait = start - time.time()
    if wait > 0:
        if time.monotonic() + wait > deadline:
            raise _pace_timeout(url)
        time.sleep(wait)


class _Memo:
    """This process's copy of shared robots.txt entries until they expire (an entry never changes before)."""

    def __init__(self):
        self._entries: dict[str, RobotsEntry] = {}

    def get(self, origin: str) -> RobotsEntry | None:
        entry = self._entries.get(origin)
        return entry if entry is not None and entry.expires_at > time.time() else None

    def put(self, origin: str, entry: RobotsEntry) -> None:
        if len(self._entries) >= 10_000:
            self._entries.clear()
        self._entries[origin] = entry


class _Backoff:
    def __init__(self):
        self.wait = _POLL_SECONDS

    def sleep(self, deadline: float, url: str) -> None:
        if time.monotonic() + self.wait > deadline:
            raise _timeout(url)
        time.sleep(self.wait)
        self.wait = min(self.wait * 2, _POLL_MAX)


# --------------------------------------------------------------------------------------------------- local

class LocalBackend:
    """This process only: a semaphore and a next start time per host."""

    name = "local"

    def __init__(self):
        self._lock = threading.Lock()
        self._gates: dict[tuple[str, int], list] = {}  # (host, limit) -> [semaphore, next_start, users]
        self._robots: dict[str, RobotsEntry] = {}

    @contextmanager
    def slot(self, host: str, *, limit: int, delay: float, deadline: float, url: str):
        with self._lock:
            gate = self._gates.get((host, limit))
            if gate is None:
                if len(self._gates) >= 10_000:  # a long-running worker visits many hosts: forget idle ones
                    for key in [k for k, g in self._gates.items() if g[2] == 0 and g[1] <= time.time()]:
                        del self._gates[key]
                gate = self._gates[(host, limit)] = [threading.BoundedSemaphore(limit), 0.0, 0]
            gate[2] += 1
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not gate[0].acquire(timeout=remaining):
                raise _timeout(url)
            try:
                if delay > 0:
                    with self._lock:
                        start = max(time.time(), gate[1])
                        gate[1] = start + delay
                    _sleep_until(start, deadline, url)
                yield
            finally:
                gate[0].release()
        finally:
            with self._lock:
                gate[2] -= 1

    def robots_get(self, origin: str) -> RobotsEntry | None:
        entry = self._robots.get(origin)
        return entry if entry is not None and entry.expires_at > time.time() else None

    def robots_put(self, origin: str, entry: RobotsEntry) -> None:
        with self._lock:
            if len(self._robots) >= 10_000:
                now = time.time()
                for key in [k for k, v in self._robots.items() if v.expires_at <= now] or list(self._robots)[:5_000]:
                    del self._robots[key]
            self._robots[origin] = entry

    def clear(self) -> None:
        with self._lock:
            self._gates.clear()
            self._robots.clear()


# --------------------------------------------------------------------------------------------------- redis

# KEYS[1] slots zset, KEYS[2] next-start key; ARGV: now, limit, lease seconds, token, delay
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return nil end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
local start = tonumber(ARGV[1])
local delay = tonumber(ARGV[5])
if delay > 0 then
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if nxt > start then start = nxt end
  redis.call('SET', KEYS[2], tostring(start + delay), 'EX', math.ceil(delay) + 60)
end
return tostring(start)
"""


class RedisBackend:
    name = "redis"

    def __init__(self, url: str, *, prefix: str, lease_seconds: float):
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self.lease = lease_seconds
        self._take = self.client.register_script(_TAKE)
        self._memo = _Memo()

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @contextmanager
    def slot(self, host: str, *, limit: int, delay: float, deadline: float, url: str):
        token = uuid.uuid4().hex
        slots, pace = self._key("slots", host), self._key("next", host)
        backoff = _Backoff()
        while True:
            start = self._take(keys=[slots, pace], args=[time.time(), limit, self.lease, token, delay])
            if start is not None:
                break
            backoff.sleep(deadline, url)
        try:
            _sleep_until(float(start), deadline, url)
            yield
        finally:
            self.client.zrem(slots, token)

    def robots_get(self, origin: str) -> RobotsEntry | None:
        entry = self._memo.get(origin)
        if entry is not None:
            return entry
        raw = self.client.get(self._key("robots", origin))
        if raw is None:
            return None
        data = json.loads(raw)
        if data["expires_at"] <= time.time():
            return None
        entry = RobotsEntry(data["expires_at"], data["text"], data.get("failure"))
        self._memo.put(origin, entry)
        return entry

    def robots_put(self, origin: str, entry: RobotsEntry) -> None:
        ttl = int(entry.expires_at - time.time()) + 1
        if entry.expires_at <= time.time():
            return
        self._memo.put(origin, entry)
        self.client.set(self._key("robots", origin),
                        json.dumps({"expires_at": entry.expires_at, "text": entry.text, "failure": entry.failure}),
                        ex=ttl)

    def clear(self) -> None:
        self._memo = _Memo()
        for key in self.client.scan_iter(self._key("*")):
            self.client.delete(key)


# ------------------------------------------------------------------------------------------------ database

def _lock_key(host: str) -> int:
    """A stable signed 32-bit key per host (the first of the two advisory-lock keys; the slot is the second).
    Two hosts sharing a key only ever restrict each other more, never less."""
    return int.from_bytes(hashlib.blake2b(host.encode("utf-8"), digest_size=4).digest(), "big", signed=True)


class DatabaseBackend:
    """PostgreSQL: session advisory locks for slots; `pages.HostPoliteness` rows for pacing and robots.txt."""

    name = "database"

    def __init__(self):
        self._memo = _Memo()

    @contextmanager
    def slot(self, host: str, *, limit: int, delay: float, deadline: float, url: str):
        key = _lock_key(host)
        backoff = _Backoff()
        held = None
        with connection.cursor() as cursor:
            while held is None:
                for number in range(limit):
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, number])
                    if cursor.fetchone()[0]:
                        held = number
                        break
                else:
                    backoff.sleep(deadline, url)
        try:
            if delay > 0:
                _sleep_until(self._next_start(host, delay), deadline, url)
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [key, held])

    @staticmethod
    def _next_start(host: str, delay: float) -> float:
        """This request's start (wall clock): max(now, the host's next start); the host's next start moves on."""
        table = connection.ops.quote_name(HostPoliteness._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (host, next_start) VALUES (%s, %s) "
                f"ON CONFLICT (host) DO UPDATE SET next_start = GREATEST({table}.next_start, EXCLUDED.next_start - %s) + %s "
                f"RETURNING next_start",
                [host, time.time() + delay, delay, delay],
            )
            return cursor.fetchone()[0] - delay

    def robots_get(self, origin: str) -> RobotsEntry | None:
        entry = self._memo.get(origin)
        if entry is not None:
            return entry
        row = (HostPoliteness.objects.filter(host=_robots_key(origin), robots_expires_at__gt=time.time())
               .values_list("robots_expires_at", "robots_text", "robots_failure").first())
        if row is None:
            return None
        entry = RobotsEntry(row[0], row[1], row[2])
        self._memo.put(origin, entry)
        return entry

    def robots_put(self, origin: str, entry: RobotsEntry) -> None:
        self._memo.put(origin, entry)
        HostPoliteness.objects.bulk_create(
            [HostPoliteness(host=_robots_key(origin), robots_expires_at=entry.expires_at, robots_text=entry.text,
                            robots_failure=entry.failure)],
            update_conflicts=True, unique_fields=["host"],
            update_fields=["robots_expires_at", "robots_text", "robots_failure"],
        )

    def clear(self) -> None:
        """This process's copies only: the rows are the database's (test transactions roll them back)."""
        self._memo = _Memo()


def _robots_key(origin: str) -> str:
    return f"robots:{origin}"[:300]


# ------------------------------------------------------------------------------------------------- choice

_BUILT: list = []


@functools.lru_cache(maxsize=4)
def _build(choice: str, redis_url: str, pid: int):
    if choice == "redis":
        prefix = f"scrapersky:{getattr(settings, 'Q_CLUSTER', {}).get('name', 'scrapersky')}:polite"
        lease = float(getattr(settings, "FETCH_TOTAL_TIMEOUT", 30)) + 30.0
        built = RedisBackend(redis_url, prefix=prefix, lease_seconds=lease)
    elif choice == "database":
        built = DatabaseBackend()
    else:
        built = LocalBackend()
    _BUILT.append(built)
    return built


def backend_name() -> str:
    """The backend this deployment uses (see the module docstring)."""
    choice = str(getattr(settings, "FETCH_POLITENESS_BACKEND", "auto") or "auto").lower()
    if choice not in ("auto", "local", "database", "redis"):
        raise ValueError(f"FETCH_POLITENESS_BACKEND must be auto, local, database or redis (got {choice!r})")
    if choice != "auto":
        return choice
    if getattr(settings, "REDIS_URL", ""):
        return "redis"
    return "database" if connection.vendor == "postgresql" else "local"


def backend():
    name = backend_name()
    # per process: a forked worker must not share its parent's Redis connection pool
    return _build(name, getattr(settings, "REDIS_URL", "") if name == "redis" else "", os.getpid())


def clear() -> None:
    """Forget every host's slots, pacing and cached robots.txt of the backends built so far (tests, settings
    changes)."""
    for built in _BUILT:
        built.clear()
    _BUILT.clear()
    _build.cache_clear()
