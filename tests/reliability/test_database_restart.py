"""PostgreSQL restarts while workers run: they recover by themselves and lose nothing.

Runs on a throwaway cluster of the test's own (initdb into a temporary folder,
another port), never on the machine's shared server.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.support import wait_until

pytestmark = [pytest.mark.slow]

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self):
        self.bin = PG_BIN[-1]
        self.root = Path(tempfile.mkdtemp(prefix="scrapersky-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        shutil.chown(self.root, "postgres")
        self._as_postgres(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc", "CREATE DATABASE sky"],
            check=True, capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/sky"

    def _as_postgres(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True)

    def pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            f"{self.bin}/pg_ctl", action, "-D", str(self.data), "-w", "-l", str(self.root / "log"), "-o", options, *extra
        )

    def destroy(self) -> None:
        try:
            self.pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def throwaway_postgres():
    if not PG_BIN or not shutil.which("psql"):
        pytest.skip("PostgreSQL server binaries are not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("runuser is needed to run initdb as the postgres user")
    pg = ThrowawayPostgres()
    yield pg
    pg.destroy()


def manage(db_url: str, *args: str, log=None, **popen) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings", "DATABASE_URL": db_url}
    return subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env=env, stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **popen,
    )


def run_manage(db_url: str, *args: str) -> str:
    proc = manage(db_url, *args)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return out


def counts(url: str) -> dict:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT coalesce(widget_check_processing_status, 'none'), count(*) FROM testapp_widget GROUP BY 1"
            ).fetchall()
        return dict(rows)
    except psycopg.OperationalError:
        return {}  # restarting


SEED = """
from django.utils import timezone
from tests.testapp.models import Widget
now = timezone.now()
Widget.objects.bulk_create([
    Widget(name=f"w{i}", behaviour="sleep:0.02", widget_check_curation_status="Selected",
           widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now)
    for i in range(1500)
])
from curation.tasks import wake
for _ in range(3):
    wake("widget_check")
"""


def test_workers_recover_from_a_database_restart(throwaway_postgres, tmp_path):
    url = throwaway_postgres.url
    run_manage(url, "migrate", "--no-input")
    run_manage(url, "sync_schedules")
    log = open(tmp_path / "qcluster.log", "w+")
    cluster = manage(url, "qcluster", log=log)
    try:
        run_manage(url, "shell", "-c", SEED)
        wait_until(lambda: counts(url).get("Completed", 0) >= 150, 120, "the workers to get going")

        throwaway_postgres.pg_ctl("restart", "-m", "fast")  # every connection is cut mid-batch

        def settled():
            c = counts(url)
            return c.get("Completed", 0) == 1500 and not c.get("Processing") and not c.get("Queued")

        wait_until(settled, 300, "every row Completed after the restart, without manual action", interval=1)
        assert cluster.poll() is None, "the cluster survived the restart"
    finally:
        if cluster.poll() is None:
            os.killpg(cluster.pid, 9)
            cluster.wait()
        log.seek(0)
        print(log.read()[-5000:])
    with psycopg.connect(url) as conn:
        missing = conn.execute(
            "SELECT count(*) FROM testapp_widget w WHERE NOT EXISTS (SELECT 1 FROM testapp_hookcall h WHERE h.widget_id = w.id)"
        ).fetchone()[0]
    assert missing == 0, "every row's hook ran"
