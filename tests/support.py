"""Helpers for tests that start real processes against the test database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The URL of the test database, for subprocesses."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Processes:
    """Starts `manage.py` subprocesses on the test database; stops them all at teardown."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        log_path = self.tmp_path / f"proc-{len(self.procs)}.log"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings",
            "DATABASE_URL": database_url(),
            **(env or {}),
        }
        proc = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
            env=full_env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs.append((proc, log_path))
        return proc

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log_path in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # django-q2 #346: a stop can hang; leases make a kill safe
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            print(f"--- {log_path.name} ---\n" + log_path.read_text()[-3000:])


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll `predicate` until it is true; fail with `what` after `timeout` seconds (never a blind sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
