"""Self-healing workers (issue #10, finding 3): `manage.py run_workers` after kill -9 of a cluster process.

An idle django-q2 worker blocks in the task queue's get() holding the queue's read lock; killing it
leaves the lock held and every respawned worker waits on it forever (django-q2 #23). The supervisor
notices the stalled queue and restarts the cluster. A killed busy worker's rows are queued again as
soon as the supervisor sees its process is gone, without waiting for the lease. An idle monitor dies
holding the result queue's read lock in the same way, and a pusher can die holding the task queue's
write lock (or tasks it took from the broker): the supervisor restarts the cluster as soon as
django-q2's guard reports it replaced either.

Every test runs on PostgreSQL (two workers) and on a SQLite file of its own (one worker); each waits at
most 150 s for recovery, well within the lease (300 s) plus one minute.
"""
from __future__ import annotations

import os
import re
import signal

import pytest
from django.utils import timezone

from curation.models import ProcessingAttempt
from tests.curation.sites import make_site
from tests.support import alive, descendants, wait_until
from tests.testapp.models import Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(params=["postgresql", "sqlite"])
def site(request, tmp_path):
    site = make_site(request, tmp_path)
    yield site
    site.close()


def widgets(site):
    return Widget.objects.using(site.db)


def queue_widgets(site, n: int, behaviour: str) -> list:
    now = timezone.now()
    return widgets(site).bulk_create([
        Widget(name=f"w{i}", behaviour=behaviour, widget_check_curation_status="Selected",
               widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now)
        for i in range(n)
    ])


def settled(site) -> bool:
    return not widgets(site).filter(widget_check_processing_status__in=["Queued", "Processing"]).exists()


def start_supervisor(processes, site):
    return processes.start("run_workers", "--stall-seconds", "10", "--check-seconds", "1", env=site.env())


def worker_pids(processes) -> set[int]:
    """The cluster's live worker processes, from django-q2's "ready for work at <pid>" lines."""
    log = processes.procs[-1][1].read_text()
    return {int(pid) for pid in re.findall(r"ready for work at (\d+)", log) if alive(int(pid))}


def test_killing_idle_workers_does_not_stall_the_queue(processes, site):
    start_supervisor(processes, site)
    idle = wait_until(lambda: len(worker_pids(processes)) == site.workers and worker_pids(processes), 120,
                      "the idle workers")
    for pid in idle:  # one of them waits in the task queue's get() holding its read lock
        os.kill(pid, signal.SIGKILL)

    rows = queue_widgets(site, 30, "ok")
    site.wake("widget_check")
    # Without the watchdog the respawned workers wait on the dead worker's lock and nothing moves.
    wait_until(lambda: settled(site), 150, "every row to complete after the idle workers were killed", interval=1)
    assert widgets(site).filter(pk__in=[r.pk for r in rows], widget_check_processing_status="Completed").count() == 30
    log = processes.procs[-1][1].read_text()
    assert "the queue is stalled" in log and "restarting the worker cluster" in log


def test_killing_a_busy_worker_requeues_its_rows_without_waiting_for_the_lease(processes, site):
    supervisor = start_supervisor(processes, site)
    rows = queue_widgets(site, 12, "sleep:2")
    site.wake("widget_check")
    claimed = wait_until(
        lambda: list(widgets(site).filter(widget_check_processing_status="Processing")
                     .values_list("pk", "widget_check_locked_by")),
        120, "a worker to claim rows",
    )
    busy = int(claimed[0][1].split(":")[1])
    assert busy in descendants(supervisor.pid)
    os.kill(busy, signal.SIGKILL)  # the worker dies holding its claimed batch (leases of 300 s)
    held = [pk for pk, locked_by in claimed if int(locked_by.split(":")[1]) == busy]

    wait_until(lambda: settled(site), 150, "every row to complete after the busy worker was killed", interval=1)
    assert widgets(site).filter(widget_check_processing_status="Completed").count() == len(rows)
    lost = widgets(site).filter(pk__in=held)
    assert set(lost.values_list("widget_check_attempts", flat=True)) == {2}, "the killed attempt counts"
    attempts = ProcessingAttempt.objects.using(site.db)
    assert attempts.filter(object_id__in=[str(pk) for pk in held], outcome="worker_lost").count() == len(held)


def role_pid(processes, role: str) -> int | None:
    """The live pid of the cluster's pusher or monitor, from django-q2's "pushing tasks at" / "monitoring at"."""
    log = processes.procs[-1][1].read_text()
    pattern = {"pusher": r"pushing tasks at (\d+)", "monitor": r"monitoring at (\d+)"}[role]
    pids = [int(pid) for pid in re.findall(pattern, log) if alive(int(pid))]
    return pids[-1] if pids else None


@pytest.mark.parametrize("role", ["pusher", "monitor"])
def test_killing_the_pusher_or_the_monitor_heals_without_manual_action(processes, site, role):
    """Unhealed, a replaced monitor waits forever on the dead one's lock: rows still complete (the workers
    run them), but no task is acknowledged or its result saved, and the workers hang once their result
    pipes are full."""
    from django_q.models import Success

    start_supervisor(processes, site)
    victim = wait_until(lambda: role_pid(processes, role), 120, f"the cluster's {role}")
    wait_until(lambda: len(worker_pids(processes)) == site.workers, 120, "the idle workers")
    os.kill(victim, signal.SIGKILL)

    rows = queue_widgets(site, 30, "ok")
    site.wake("widget_check")
    wait_until(lambda: settled(site), 150, f"every row to complete after the {role} was killed", interval=1)
    assert widgets(site).filter(pk__in=[r.pk for r in rows], widget_check_processing_status="Completed").count() == 30
    # The supervisor restarts the cluster (the wedged one may still have run the rows above).
    restarted = f"the cluster's {role} died and was replaced: restarting the worker cluster"

    def log_after_restart() -> str:
        return processes.procs[-1][1].read_text().partition(restarted)[2]

    wait_until(lambda: "running." in log_after_restart(), 120, "the restarted cluster", interval=1)
    restarted_at = timezone.now()
    # The cluster is whole again: a run woken now is executed, and its result saved (by a live monitor).
    more = queue_widgets(site, 5, "ok")
    site.wake("widget_check")
    wait_until(lambda: Success.objects.using(site.db).filter(started__gt=restarted_at).exists(), 120,
               "a task result saved by the cluster's monitor", interval=1)
    wait_until(lambda: settled(site), 60, "the rows queued after the recovery", interval=1)
    assert widgets(site).filter(pk__in=[r.pk for r in more], widget_check_processing_status="Completed").count() == 5
