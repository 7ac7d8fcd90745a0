"""The liveness check (`workflow_status --check`, `selectors.queue_health`) and the supervisor's rescues."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from curation import registry, selectors, services
from curation.history import Attempt, attempts_record
from tests.factories import WidgetFactory, put_in_state
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def wf():
    return registry.get("widget_check")


def check(threshold=120) -> tuple[int, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("workflow_status", "--check", "--threshold", str(threshold), stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, err.getvalue()
    return 0, out.getvalue()


def test_an_empty_or_fresh_queue_is_healthy(wf):
    assert check() == (0, "ok: the queue is moving\n")
    WidgetFactory(queued=True)  # due now, not for long
    assert check()[0] == 0


def test_due_rows_waiting_with_no_progress_fail_the_check(wf):
    w = WidgetFactory(queued=True)
    Widget.objects.filter(pk=w.pk).update(widget_check_available_at=timezone.now() - timedelta(seconds=300),
                                          widget_check_queued_at=timezone.now() - timedelta(seconds=300))
    code, text = check()
    assert code == 1
    assert "widget_check: due rows waiting 300s (threshold 120s)" in text


def test_recent_progress_or_rows_in_flight_keep_it_healthy(wf):
    w = WidgetFactory(queued=True)
    Widget.objects.filter(pk=w.pk).update(widget_check_available_at=timezone.now() - timedelta(seconds=300))
    busy = WidgetFactory()
    put_in_state(wf, [busy], processing="Processing")  # a live lease: a worker is on it
    assert check()[0] == 0
    put_in_state(wf, [busy], processing="Completed")
    attempts_record(workflow=wf, attempts=[Attempt(object_id="x", attempt=1, outcome="completed",
                                                   finished_at=timezone.now() - timedelta(seconds=30))])
    assert check()[0] == 0, "an attempt finished 30 s ago: the queue moves, just slowly"
    assert check(threshold=20)[0] == 1


def test_leases_expired_long_ago_fail_the_check(wf):
    stuck = WidgetFactory()
    put_in_state(wf, [stuck], processing="Processing", lease_until=timezone.now() - timedelta(seconds=600))
    code, text = check()
    assert code == 1 and "lease expired" in text
    health = selectors.queue_health(stall_seconds=120)
    assert health.expired == {"widget_check": 1} and health.stalled


def test_rows_of_dead_worker_processes_are_requeued_with_the_attempt_counted(wf):
    dead, live, elsewhere = WidgetFactory(), WidgetFactory(), WidgetFactory()
    put_in_state(wf, [dead], processing="Processing", locked_by="box:111:1", attempts=1)
    put_in_state(wf, [live], processing="Processing", locked_by="box:222:1", attempts=1)
    put_in_state(wf, [elsewhere], processing="Processing", locked_by="other-box:111:1", attempts=1)
    count = services.processing_rescue_dead_workers(workflow=wf, host="box", alive=lambda pid: pid == 222)
    assert count == 1
    states = {w.pk: (w.widget_check_processing_status, w.widget_check_attempts, w.widget_check_error_class)
              for w in Widget.objects.all()}
    assert states[dead.pk] == ("Queued", 1, "worker_lost")
    assert states[live.pk][0] == states[elsewhere.pk][0] == "Processing"
    assert Widget.objects.get(pk=dead.pk).widget_check_available_at <= timezone.now()


def test_a_dead_worker_row_out_of_attempts_ends_in_error(wf):
    row = WidgetFactory()
    put_in_state(wf, [row], processing="Processing", locked_by="box:111:1", attempts=wf.max_attempts)
    services.processing_rescue_dead_workers(workflow=wf, host="box", alive=lambda pid: False)
    row.refresh_from_db()
    assert (row.widget_check_processing_status, row.widget_check_error_class) == ("Error", "worker_lost")


def test_rows_of_workers_stopped_on_purpose_are_released_without_spending_an_attempt(wf):
    stopped, other = WidgetFactory(), WidgetFactory()
    put_in_state(wf, [stopped], processing="Processing", locked_by="box:111:7", attempts=2,
                 lease_token=uuid.uuid4())
    put_in_state(wf, [other], processing="Processing", locked_by="box:1112:7", attempts=1)
    assert services.processing_release_workers(workflow=wf, worker_prefixes=["box:111:"], note="shutdown") == 1
    stopped.refresh_from_db()
    other.refresh_from_db()
    assert (stopped.widget_check_processing_status, stopped.widget_check_attempts) == ("Queued", 1)
    assert "no attempt spent" in stopped.widget_check_processing_error
    assert other.widget_check_processing_status == "Processing", "a prefix is matched up to the colon"
