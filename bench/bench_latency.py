"""Benchmark 3 — latency: with the cluster running, time from the API call that selects a row
to its hook starting; p50 and p95 over N selections.

Baseline: the original system polled every minute (10 rows per tick): up to 60 s, 30 s on average.
"""
import os
import signal
import statistics
import subprocess
import sys
import time

os.environ["CURATION_WAKE_ON_QUEUE"] = "1"  # the wake-up on commit is what is measured

from common import ROOT, emit, manage_env, setup  # noqa: E402

args = setup(__doc__)

from django.contrib.auth import get_user_model  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from tests.testapp.models import HookCall, Widget  # noqa: E402

N = 20 if args.quick else 200

user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
cluster = subprocess.Popen(
    [sys.executable, str(ROOT / "manage.py"), "qcluster"], env={**manage_env(), "Q_WORKERS": "2"},
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
)


def select_and_wait(widget: Widget, timeout: float = 30.0) -> float:
    """Seconds from the API call to the hook's first statement (HookCall.at, written by the worker)."""
    started = time.time()
    response = client.put("/api/v3/workflows/widget_check/status", {"ids": [str(widget.pk)], "status": "Selected"}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 1, response.content
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = HookCall.objects.filter(widget_id=widget.pk).values_list("at", flat=True).first()
        if call:
            return call.timestamp() - started
        time.sleep(0.005)
    raise RuntimeError(f"the hook did not start within {timeout}s")


try:
    select_and_wait(Widget.objects.create(name="warm-up"), timeout=60)  # the cluster is up and polling
    latencies = []
    for i in range(N):
        latencies.append(select_and_wait(Widget.objects.create(name=f"w{i}")))
        time.sleep(0.05)  # selections arrive one at a time, as a curator's would
finally:
    os.killpg(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()

latencies.sort()
p50 = statistics.median(latencies)
p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
emit(
    "latency_select_to_hook",
    args.quick,
    selections=N,
    p50_seconds=round(p50, 3),
    p95_seconds=round(p95, 3),
    max_seconds=round(latencies[-1], 3),
    baseline_original_p50_seconds=30.0,
    baseline_original_max_seconds=60.0,
    ratio_original_p50_vs_ours=round(30.0 / p50, 1),
    target="p50 < 1 s, p95 < 3 s",
)
