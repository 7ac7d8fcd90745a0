"""Self-healing workers (issue #10, finding 3): `manage.py run_workers` after kill -9 of a worker process.

An idle django-q2 worker blocks in the task queue's get() holding the queue's read lock; killing it
leaves the lock held and every respawned worker waits on it forever (django-q2 #23). The supervisor
notices the stalled queue and restarts the cluster. A killed busy worker's rows are queued again as
soon as the supervisor sees its process is gone, without waiting for the lease.
"""
from __future__ import annotations

import os
import re
import signal

import pytest
from django.utils import timezone

from curation.tasks import wake
from tests.support import alive, descendants, wait_until
from tests.testapp.models import Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def queue_widgets(n: int, behaviour: str) -> list:
    now = timezone.now()
    return Widget.objects.bulk_create([
        Widget(name=f"w{i}", behaviour=behaviour, widget_check_curation_status="Selected",
               widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now)
        for i in range(n)
    ])


def settled() -> bool:
    return not Widget.objects.filter(widget_check_processing_status__in=["Queued", "Processing"]).exists()


def start_supervisor(processes):
    proc = processes.start("run_workers", "--stall-seconds", "10", "--check-seconds", "1", env={"Q_WORKERS": "2"})
    return proc


def worker_pids(processes) -> set[int]:
    """The cluster's live worker processes, from django-q2's "ready for work at <pid>" lines."""
    log = processes.procs[-1][1].read_text()
    return {int(pid) for pid in re.findall(r"ready for work at (\d+)", log) if alive(int(pid))}


def test_killing_idle_workers_does_not_stall_the_queue(processes):
    start_supervisor(processes)
    idle = wait_until(lambda: len(worker_pids(processes)) == 2 and worker_pids(processes), 120, "two idle workers")
    for pid in idle:  # one of them waits in the task queue's get() holding its read lock
        os.kill(pid, signal.SIGKILL)

    rows = queue_widgets(30, "ok")
    wake("widget_check")
    # Without the watchdog the respawned workers wait on the dead worker's lock and nothing moves.
    wait_until(lambda: settled(), 150, "every row to complete after the idle workers were killed", interval=1)
    assert Widget.objects.filter(pk__in=[r.pk for r in rows], widget_check_processing_status="Completed").count() == 30
    log = processes.procs[-1][1].read_text()
    assert "the queue is stalled" in log and "restarting the worker cluster" in log


def test_killing_a_busy_worker_requeues_its_rows_without_waiting_for_the_lease(processes):
    supervisor = start_supervisor(processes)
    rows = queue_widgets(12, "sleep:2")
    wake("widget_check")
    claimed = wait_until(
        lambda: list(Widget.objects.filter(widget_check_processing_status="Processing")
                     .values_list("pk", "widget_check_locked_by")),
        120, "a worker to claim rows",
    )
    busy = int(claimed[0][1].split(":")[1])
    assert busy in descendants(supervisor.pid)
    os.kill(busy, signal.SIGKILL)  # the worker dies holding its claimed batch (leases of 300 s)
    held = [pk for pk, locked_by in claimed if int(locked_by.split(":")[1]) == busy]

    wait_until(lambda: settled(), 150, "every row to complete after the busy worker was killed", interval=1)
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == len(rows)
    lost = Widget.objects.filter(pk__in=held)
    assert set(lost.values_list("widget_check_attempts", flat=True)) == {2}, "the killed attempt counts"
    from curation.models import ProcessingAttempt

    assert ProcessingAttempt.objects.filter(object_id__in=[str(pk) for pk in held], outcome="worker_lost").count() == len(held)
