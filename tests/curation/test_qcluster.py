"""End to end through a real django-q2 cluster: API call → on-commit wake-up → qcluster process → Completed."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import WidgetFactory
from tests.testapp.models import HookCall, Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def qcluster(tmp_path):
    log = open(tmp_path / "qcluster.log", "w+")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings", "DATABASE_URL": database_url()}
    proc = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # django-q2 #346: a stop can hang; leases make a kill safe
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.seek(0)
    print(log.read()[-4000:])


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_rows_selected_through_the_api_are_processed_by_a_real_cluster(qcluster, api_client, settings):
    settings.CURATION_WAKE_ON_QUEUE = True
    rows = WidgetFactory.create_batch(25)
    failing = WidgetFactory(behaviour="permanent", name="gone")
    ids = [str(r.pk) for r in rows] + [str(failing.pk)]
    response = api_client.put("/api/v3/workflows/widget_check/status", {"ids": ids, "status": "Selected"}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 26

    def settled():
        return not Widget.objects.filter(widget_check_processing_status__in=["Queued", "Processing"]).exists()

    wait_until(settled, 90, "the cluster to process every queued row")
    assert qcluster.poll() is None, "the cluster is still running"
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == 25
    failed = Widget.objects.get(pk=failing.pk)
    assert failed.widget_check_processing_status == "Error"
    assert failed.widget_check_processing_error == "HTTP 404 from https://gone.example/"
    calls = list(HookCall.objects.values_list("widget_id", "pid"))
    assert len(calls) == 26 and len({c[0] for c in calls}) == 26, "every row ran exactly once"
    assert os.getpid() not in {c[1] for c in calls}, "the hooks ran in the cluster, not in the test process"
