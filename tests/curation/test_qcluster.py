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
