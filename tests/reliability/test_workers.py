"""Faults survived by real worker processes on PostgreSQL: many clusters at once, a worker killed mid-batch."""
import os
import signal
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from curation import registry, services
from curation.tasks import wake
from tests.support import wait_until
from tests.testapp.models import HookCall, Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def queue_widgets(n: int, behaviour: str = "ok") -> None:
    now = timezone.now()
    Widget.objects.bulk_create(
        [
            Widget(
                name=f"w{i}", behaviour=behaviour, widget_check_curation_status="Selected",
                widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )


def unsettled() -> int:
    return Widget.objects.filter(widget_check_processing_status__in=["Queued", "Processing"]).count()


def test_exactly_once_with_four_clusters(processes):
    queue_widgets(5000)
    for _ in range(4):
        processes.start("qcluster")
    for _ in range(8):  # wake-ups land on whichever cluster's pusher is free
        wake("widget_check")
    wait_until(lambda: unsettled() == 0, 300, "four clusters to drain 5,000 rows", interval=1)
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == 5000
    per_row = HookCall.objects.values("widget_id").annotate(n=Count("id"))
    assert per_row.count() == 5000, "every row's hook ran"
    assert not per_row.filter(n__gt=1).exists(), "no row's hook ran twice"
    assert set(Widget.objects.values_list("widget_check_attempts", flat=True)) == {1}
    pids = set(HookCall.objects.values_list("pid", flat=True))
    assert len(pids) >= 2, f"the work was shared between clusters (pids {pids})"


def test_worker_killed_mid_batch_loses_nothing(processes):
    wf = registry.get("widget_check")
    queue_widgets(30, behaviour="sleep:2")
    processes.start("qcluster")
    wake("widget_check")
    claimed = wait_until(
        lambda: list(Widget.objects.filter(widget_check_processing_status="Processing").values_list("pk", "widget_check_locked_by")),
        60, "a worker to claim rows",
    )
    worker_pid = int(claimed[0][1].split(":")[1])
    os.kill(worker_pid, signal.SIGKILL)  # the worker dies holding its claimed batch
    held = [pk for pk, locked_by in claimed if int(locked_by.split(":")[1]) == worker_pid]
    assert held

    # The lease runs out (time travel instead of waiting lease_seconds); one row has used up its attempts.
    Widget.objects.filter(pk__in=held).update(widget_check_lease_until=timezone.now() - timedelta(seconds=1))
    Widget.objects.filter(pk=held[0]).update(widget_check_attempts=wf.max_attempts)
    result = services.processing_rescue(workflow=wf)
    assert result.errored == 1 and result.requeued == len(held) - 1
    Widget.objects.filter(widget_check_processing_status="Queued").update(widget_check_available_at=timezone.now())
    wake("widget_check")
    wait_until(lambda: unsettled() == 0, 180, "the cluster (its killed worker replaced) to finish every row", interval=0.5)

    lost = Widget.objects.get(pk=held[0])
    assert (lost.widget_check_processing_status, lost.widget_check_error_class) == ("Error", "worker_lost")
    assert lost.widget_check_processing_error.startswith("Worker lost")
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == 29
    assert set(Widget.objects.filter(pk__in=held[1:]).values_list("widget_check_attempts", flat=True)) == {2}, (
        "the killed attempt was counted"
    )
    assert not Widget.objects.filter(widget_check_processing_status="Processing").exists()
