"""`make run` as an operator runs it: the banner comes last, and a stop is clean (issue #10, finding 4).

SIGTERM or SIGINT to make's process group (what a terminal's Ctrl-C or `kill -- -PGID` does) stops
web, workers and sandbox within 5 s with no process left, the sandbox after the workers, and rows a
worker had claimed but not started go back to the queue without spending an attempt.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.curation.sites import make_site
from tests.support import alive, descendants, wait_until
from tests.testapp.models import HookCall, Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MakeRun:
    def __init__(self, tmp_path: Path, site):
        self.log = tmp_path / "make-run.log"
        self.ports = {name: free_port() for name in ("PORT", "SANDBOX_PLACES_PORT", "SANDBOX_WEBSITES_PORT", "SANDBOX_CRM_PORT")}
        env = {
            **os.environ, **{k: str(v) for k, v in self.ports.items()},
            "DJANGO_SETTINGS_MODULE": "scrapersky.test_settings", **site.env(),
            "SANDBOX": "1", "CURATION_WAKE_ON_QUEUE": "1", "ADMIN_PASSWORD": "make-run-test-pw",
        }
        env.pop("GOOGLE_MAPS_API_KEY", None)
        # -o: the virtualenv is already installed; what is tested is the run, not pip.
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.requirements-installed", "run"],
            cwd=settings.BASE_DIR, env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        for pid in [*descendants(self.proc.pid), self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)


@pytest.fixture(params=["postgresql", "sqlite"])
def site(request, tmp_path):
    """PostgreSQL with two workers, and a SQLite file of the test's own with one worker."""
    site = make_site(request, tmp_path)
    yield site
    site.close()


@pytest.fixture
def make_run(tmp_path, site):
    run = MakeRun(tmp_path, site)
    yield run
    if run.proc.poll() is None or descendants(run.proc.pid):
        run.kill()
    print(run.output()[-4000:])


def queue_widgets(site, n: int, behaviour: str) -> None:
    now = timezone.now()
    Widget.objects.using(site.db).bulk_create([
        Widget(name=f"w{i}", behaviour=behaviour, widget_check_curation_status="Selected",
               widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now)
        for i in range(n)
    ])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_make_run_stops_cleanly_within_five_seconds(make_run, site, sig):
    """Hooks of 1 s: the runs stop after their current rows and release the rest themselves."""
    stop_and_check(make_run, site, sig, "sleep:1")


def test_make_run_stops_within_five_seconds_when_a_hook_does_not_finish(make_run, site):
    """Hooks of 30 s (a hung request): the supervisor kills its cluster after its grace period and releases
    what the killed processes held; still nothing is left running after 5 s and no attempt is spent."""
    stop_and_check(make_run, site, signal.SIGINT, "sleep:30")


def stop_and_check(make_run, site, sig, behaviour: str) -> None:
    wait_until(lambda: "ScraperSky is running on" in make_run.output(), 240, "make run's banner", interval=0.5)
    # The banner is the last block of the start-up: no child's start line comes after it.
    tail = make_run.output().split("ScraperSky is running on", 1)[1]
    assert "sandbox:" not in tail and "Q Cluster" not in tail and "Starting development server" not in tail, tail

    queue_widgets(site, 40, behaviour)
    site.wake("widget_check")
    wait_until(lambda: HookCall.objects.using(site.db).exists(), 60, "a worker to start a hook")
    processes = descendants(make_run.proc.pid)
    sandbox = [pid for pid, cmd in processes.items() if cmd.rstrip().endswith("manage.py sandbox")]
    workers = [pid for pid, cmd in processes.items() if "qcluster" in cmd or "run_workers" in cmd]
    assert sandbox and len(workers) >= 4, processes  # supervisor, cluster, sentinel, 2 workers, pusher, monitor

    os.killpg(make_run.proc.pid, sig)
    signalled = time.monotonic()
    gone_at: dict[int, float] = {}
    watched = [make_run.proc.pid, *processes]
    while time.monotonic() - signalled < 10 and len(gone_at) < len(watched):
        for pid in watched:
            if pid not in gone_at and not alive(pid):
                gone_at[pid] = time.monotonic() - signalled
        make_run.proc.poll()
        time.sleep(0.02)
    print("stop profile (s after the signal):", {f"{pid} {processes.get(pid, 'make')[-40:]}": round(t, 2) for pid, t in
                                                 sorted(gone_at.items(), key=lambda item: item[1])})
    left = {pid: processes.get(pid, "make") for pid in watched if pid not in gone_at}
    assert not left, f"still running 10 s after {sig.name}: {left}"
    # Measured from the signal (stop profile above): about 2 s on a machine with a load average of 17 on
    # 2 cores; every wait of the stop path is bounded so that the sum stays under 5 s (runall.py).
    slowest = max(gone_at.values())
    assert slowest <= 5.0, f"the last process took {slowest:.1f}s to stop: {gone_at}"
    assert min(gone_at[pid] for pid in sandbox) >= max(gone_at[pid] for pid in workers), (
        "the sandbox stopped before the workers")

    widgets = Widget.objects.using(site.db)
    assert not widgets.filter(widget_check_processing_status="Processing").exists()
    started = set(HookCall.objects.using(site.db).values_list("widget_id", flat=True))
    unstarted = widgets.exclude(pk__in=started)
    assert unstarted.exists()
    assert set(unstarted.values_list("widget_check_processing_status", "widget_check_attempts")) == {("Queued", 0)}, (
        "a row that never started spent an attempt")
    # Rows cut off mid-hook by the stop are queued again without spending an attempt too.
    interrupted = widgets.filter(pk__in=started, widget_check_processing_status="Queued")
    assert set(interrupted.values_list("widget_check_attempts", flat=True)) <= {0}
