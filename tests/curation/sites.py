"""Where the real processes of a test keep their data: the test database (PostgreSQL), or a SQLite file of the test's own.

Issue #10's guarantees must hold on PostgreSQL and on SQLite with a single worker. The suite runs on one
database (PostgreSQL in .ci/run), so a SQLite variant migrates its own file in tmp_path, starts the real
processes with DATABASE_URL=sqlite:///that-file, and reads and writes it from the test through an extra
connection alias (`site.db`); wake-ups go through that file's ORM broker.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.utils import load_backend

from tests.support import database_url

SQLITE_ALIAS = "sqlite_site"


class Site:
    vendor = "postgresql"
    db = "default"
    workers = 2

    def __init__(self) -> None:
        self.url = database_url()

    def env(self, **extra: str) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "Q_WORKERS": str(self.workers), **extra}

    @contextlib.contextmanager
    def broker(self):
        yield

    def wake(self, workflow: str) -> None:
        from curation.tasks import wake

        with self.broker():
            wake(workflow)

    def close(self) -> None:
        pass


class SqliteSite(Site):
    """A migrated SQLite file of the test's own, used by every process of the test; one worker."""

    vendor = "sqlite"
    db = SQLITE_ALIAS
    workers = 1

    def __init__(self, tmp_path: Path) -> None:
        import dj_database_url

        path = tmp_path / "site.sqlite3"
        self.url = f"sqlite:///{path}"
        subprocess.run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "--no-input", "-v0"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings", "DATABASE_URL": self.url},
            check=True, timeout=600,
        )
        raw = dj_database_url.parse(self.url, conn_max_age=0)
        raw["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
        conf = connections.configure_settings({"default": connections.settings["default"], self.db: raw})[self.db]
        # A dynamically created connection (not in settings.DATABASES): Django's test case allows it.
        connections[self.db] = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, self.db)

    @contextlib.contextmanager
    def broker(self):
        """async_task() into this file's ORM broker (a Redis broker is shared as it is)."""
        from django_q.conf import Conf

        if not Conf.ORM:
            yield
            return
        previous, Conf.ORM = Conf.ORM, self.db
        try:
            yield
        finally:
            Conf.ORM = previous

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            connections[self.db].close()
            delattr(connections._connections, self.db)


def make_site(request, tmp_path) -> Site:
    if request.param == "sqlite":
        return SqliteSite(tmp_path)
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL variant needs the suite on PostgreSQL (.ci/run)")
    return Site()
