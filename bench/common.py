"""Shared set-up for the benchmarks: a PostgreSQL database of their own, Django, JSON output."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://scrapersky:scrapersky@127.0.0.1:5432/scrapersky_bench"


def database_url() -> str:
    """BENCH_DATABASE_URL, or a database named after this checkout's folder: every script drops and
    recreates its database, so two checkouts benchmarking on one server must not share one."""
    checkout = "".join(c if c.isalnum() else "_" for c in ROOT.name.lower())
    return os.environ.get("BENCH_DATABASE_URL", f"{DEFAULT_URL}_{checkout}")


def fresh_database(url: str) -> None:
    """A new, empty benchmark database for every script: results never depend on leftovers."""
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup(description: str) -> argparse.Namespace:
    """Parse --quick, point Django at the benchmark database, migrate. Returns the arguments."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes: prove the script works (CI)")
    args = parser.parse_args()
    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "scrapersky.test_settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    fresh_database(url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return args


def manage_env() -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings", "DATABASE_URL": database_url()}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def emit(benchmark: str, quick: bool, **figures) -> None:
    print(json.dumps({"benchmark": benchmark, "quick": quick, "machine": machine(), **figures}, default=str), flush=True)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
