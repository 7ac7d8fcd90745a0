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


# The upper bound of "it ended promptly, it did not hang" in tests: far above what a run on a loaded 2-core
# machine takes, far below what the hang it guards against would take. Tests assert behaviour, not speed
# (speed targets live in bench/); never use a tighter bound than this for an operation that must finish.
HANG_GUARD_S = 30.0


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll `predicate` until it is true; fail with `what` after `timeout` seconds (never a blind sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


COMPONENTS = ("sandbox", "places", "pages", "contacts")
# Every variable the components read that a test may want unset (the outer environment must not leak in).
COMPONENT_VARIABLES = (
    "SANDBOX", "GOOGLE_MAPS_API_KEY", "SANDBOX_PLACES_PORT", "SANDBOX_WEBSITES_PORT", "SANDBOX_CRM_PORT",
    "GOOGLE_PLACES_BASE_URL", "FETCH_HOST_MAP", "FETCH_ALLOW_PRIVATE", "FETCH_PER_HOST_DELAY",
    "BREVO_API_KEY", "BREVO_BASE_URL", "BREVO_LIST_IDS", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_BASE_URL",
    "WEBHOOK_SYNC_URL", "WEBHOOK_SYNC_SECRET", "ENRICHMENT_WEBHOOK_SECRET", "CRM_TIMEOUT", "CRM_MAX_RETRIES",
    "CONTACTS_DNS_RESOLVER_FACTORY",
)


def component_settings(env: dict[str, str], *, isolated: bool = True) -> dict:
    """The UPPER_CASE settings scrapersky/components/*.py compute under `env`, evaluated fresh.

    The components import the one sandbox switch from scrapersky.components.sandbox, so every
    component module is re-imported (sys.modules restored afterwards). isolated: the variables
    of COMPONENT_VARIABLES not in `env` are unset, so that the outer environment cannot leak in.
    """
    import importlib
    from unittest import mock

    values: dict = {}
    base = {k: v for k, v in os.environ.items() if not (isolated and k in COMPONENT_VARIABLES)}
    with mock.patch.dict(os.environ, {**base, **env}, clear=True), mock.patch.dict(sys.modules):
        for name in list(sys.modules):
            if name.startswith("scrapersky.components."):
                del sys.modules[name]
        for name in COMPONENTS:
            module = importlib.import_module(f"scrapersky.components.{name}")
            values.update({key: getattr(module, key) for key in dir(module) if key.isupper()})
    return values


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live (non-zombie) process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z":
            table[int(entry)] = (int(fields[1]), cmd)
    return table


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every live process below `root` (children, grandchildren…)."""
    table = process_table()
    found, frontier = {}, {root}
    while frontier:
        children = {pid for pid, (ppid, _) in table.items() if ppid in frontier and pid not in found}
        for pid in children:
            found[pid] = table[pid][1]
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
