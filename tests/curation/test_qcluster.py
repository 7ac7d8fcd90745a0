"""End to end through a real django-q2 cluster: API call → on-commit wake-up → qcluster process → Completed."""
import os

import pytest

from tests.factories import WidgetFactory
from tests.support import wait_until
from tests.testapp.models import HookCall, Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_rows_selected_through_the_api_are_processed_by_a_real_cluster(processes, api_client, settings):
    settings.CURATION_WAKE_ON_QUEUE = True
    cluster = processes.start("qcluster")
    rows = WidgetFactory.create_batch(25)
    failing = WidgetFactory(behaviour="permanent", name="gone")
    ids = [str(r.pk) for r in rows] + [str(failing.pk)]
    response = api_client.put("/api/v3/workflows/widget_check/status", {"ids": ids, "status": "Selected"}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 26

    def settled():
        return not Widget.objects.filter(widget_check_processing_status__in=["Queued", "Processing"]).exists()

    wait_until(settled, 90, "the cluster to process every queued row")
    assert cluster.poll() is None, "the cluster is still running"
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == 25
    failed = Widget.objects.get(pk=failing.pk)
    assert failed.widget_check_processing_status == "Error"
    assert failed.widget_check_processing_error == "HTTP 404 from https://gone.example/"
    calls = list(HookCall.objects.values_list("widget_id", "pid"))
    assert len(calls) == 26 and len({c[0] for c in calls}) == 26, "every row ran exactly once"
    assert os.getpid() not in {c[1] for c in calls}, "the hooks ran in the cluster, not in the test process"


def test_a_retried_row_runs_again_at_its_backoff_time_without_the_schedule(processes):
    """Issue #10: a retry used to wait for the minute schedule. No schedule exists here: without the
    wake-up at the retry's due time the row would stay Queued after its first attempt."""
    from django.utils import timezone
    from django_q.models import Schedule

    from curation.models import ProcessingAttempt
    from curation.tasks import wake

    assert not Schedule.objects.exists()
    now = timezone.now()
    row = Widget.objects.create(name="flaky", behaviour="retry", widget_check_curation_status="Selected",
                                widget_check_processing_status="Queued", widget_check_queued_at=now,
                                widget_check_available_at=now)
    processes.start("qcluster")
    wake("widget_check")  # what the on-commit wake-up does
    # Backoff 10 s then 20 s (widget_check): three attempts, then Error.
    wait_until(lambda: Widget.objects.get(pk=row.pk).widget_check_processing_status == "Error", 120,
               "the row's three attempts, each at its backoff time", interval=0.5)
    row.refresh_from_db()
    assert row.widget_check_attempts == 3
    attempts = list(ProcessingAttempt.objects.filter(object_id=str(row.pk)).order_by("attempt"))
    assert [a.outcome for a in attempts] == ["retrying", "retrying", "error"], [a.outcome for a in attempts]
    # Each retry started after its backoff (10 s, then 20 s, +10% jitter at most).
    assert (attempts[1].claimed_at - attempts[0].finished_at).total_seconds() >= 10
    assert (attempts[2].claimed_at - attempts[1].finished_at).total_seconds() >= 20
