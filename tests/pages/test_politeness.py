"""Per-host limits and the robots.txt cache shared across worker processes (pages/politeness.py).

Each thread below has its own database connection (or Redis connection): to PostgreSQL and Redis they are as
separate as worker processes on different machines.
"""
from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection, connections

from curation.exceptions import RetryableError
from pages import politeness

pytestmark = pytest.mark.django_db(transaction=True)


def redis_backend() -> politeness.RedisBackend:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not listening on 127.0.0.1:6379")
    return politeness.RedisBackend("redis://127.0.0.1:6379/0", prefix=f"test-polite-{uuid.uuid4().hex}",
                                   lease_seconds=30)


@pytest.fixture(params=["database", "redis"])
def shared(request):
    if request.param == "database":
        if connection.vendor != "postgresql":
            pytest.skip("the database backend is PostgreSQL's (SQLite runs one worker: the local backend)")
        yield politeness.DatabaseBackend()
    else:
        backend = redis_backend()
        yield backend
        backend.clear()


def hammer(backend, *, workers: int, rounds: int, limit: int, delay: float = 0.0) -> tuple[int, list[float]]:
    """`workers` threads take `rounds` slots each of one host; returns (most in flight at once, start times)."""
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    starts: list[float] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(rounds):
                with backend.slot("shop.example", limit=limit, delay=delay, deadline=time.monotonic() + 30,
                                  url="https://shop.example/"):
                    with lock:
                        state["now"] += 1
                        state["max"] = max(state["max"], state["now"])
                        starts.append(time.time())
                    time.sleep(0.01)
                    with lock:
                        state["now"] -= 1
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return state["max"], sorted(starts)


def test_no_host_ever_sees_more_than_its_limit(shared):
    most, starts = hammer(shared, workers=8, rounds=6, limit=2)
    assert len(starts) == 48
    assert most == 2, "the limit holds across connections, and it is reached (the test can see a breach)"


def test_request_starts_are_paced_across_workers(shared):
    _, starts = hammer(shared, workers=4, rounds=2, limit=4, delay=0.15)
    # Each start is scheduled 0.15 s after the previous one (unpaced, the eight would span ~0.02 s); a thread
    # waking late on a busy machine shortens the measured span by its lateness only.
    assert starts[-1] - starts[0] >= 7 * 0.15 - 0.1, [round(b - a, 3) for a, b in zip(starts, starts[1:])]


def test_a_dead_worker_never_keeps_a_database_slot():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    backend = politeness.DatabaseBackend()
    key = politeness._lock_key("shop.example")
    settings_dict = connection.settings_dict
    other = psycopg.connect(host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432,
                            user=settings_dict["USER"], password=settings_dict["PASSWORD"],
                            dbname=connection.settings_dict["NAME"], autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s, 0), pg_advisory_lock(%s, 1)", [key, key])  # both slots held
    with pytest.raises(RetryableError, match="free connection slot"):
        with backend.slot("shop.example", limit=2, delay=0, deadline=time.monotonic() + 0.3, url="https://shop.example/"):
            pass
    other.close()  # the holder dies: PostgreSQL frees its locks with its session
    with backend.slot("shop.example", limit=2, delay=0, deadline=time.monotonic() + 30, url="https://shop.example/"):
        pass


def test_an_expired_redis_slot_frees_itself():
    backend = redis_backend()
    backend.lease = 0.3
    slots = backend._key("slots", "shop.example")
    expires = time.time() + 0.3
    backend.client.zadd(slots, {"dead-1": expires, "dead-2": expires})  # a killed worker's
    with backend.slot("shop.example", limit=2, delay=0, deadline=time.monotonic() + 30, url="https://shop.example/"):
        assert time.time() >= expires, "a slot was taken while both dead slots were still leased"
    backend.clear()


def test_the_robots_cache_is_shared(shared):
    other = politeness.DatabaseBackend() if isinstance(shared, politeness.DatabaseBackend) else \
        politeness.RedisBackend("redis://127.0.0.1:6379/0", prefix=shared.prefix, lease_seconds=30)
    assert other.robots_get("https://shop.example") is None
    shared.robots_put("https://shop.example", politeness.RobotsEntry(time.time() + 60, "User-agent: *\nDisallow: /x"))
    entry = other.robots_get("https://shop.example")
    assert entry is not None and entry.text == "User-agent: *\nDisallow: /x"
    shared.robots_put("https://down.example", politeness.RobotsEntry(
        time.time() + 60, None, {"message": "robots.txt unavailable", "error_class": "http_5xx", "retry_after": None}))
    assert other.robots_get("https://down.example").failure["error_class"] == "http_5xx"
    shared.robots_put("https://old.example", politeness.RobotsEntry(time.time() - 1, "User-agent: *"))
    assert other.robots_get("https://old.example") is None, "an expired entry is never served"


def test_the_backend_follows_the_deployment(settings):
    settings.FETCH_POLITENESS_BACKEND = "auto"
    settings.REDIS_URL = ""
    assert politeness.backend_name() == ("database" if connection.vendor == "postgresql" else "local")
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert politeness.backend_name() == "redis"
    settings.FETCH_POLITENESS_BACKEND = "memcache"
    with pytest.raises(ValueError, match="FETCH_POLITENESS_BACKEND must be"):
        politeness.backend_name()
