"""The processing history: one attempt-log row per worker attempt, on the change page and in the API (issue #10, finding 6)."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from curation import engine, services
from curation.models import ProcessingAttempt
from tests.factories import WidgetFactory, lease_for, put_in_state
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


def log(widget) -> list[tuple]:
    return list(ProcessingAttempt.objects.filter(object_id=str(widget.pk)).order_by("id").values_list(
        "workflow", "attempt", "outcome", "error_class"))


def test_each_outcome_is_logged_with_when_where_and_how_long(wf_check):
    ok, retry, bad = (WidgetFactory(queued=True, behaviour=b) for b in ("ok", "retry", "permanent"))
    engine.workflow_run(wf_check)
    assert log(ok) == [("widget_check", 1, "completed", "")]
    assert log(retry) == [("widget_check", 1, "retrying", "http_5xx")]
    assert log(bad) == [("widget_check", 1, "error", "not_found")]
    entry = ProcessingAttempt.objects.get(object_id=str(ok.pk))
    assert entry.claimed_at is not None and entry.claimed_at <= entry.finished_at
    assert entry.duration_ms is not None and entry.duration_ms >= 0
    assert entry.worker == engine.worker_id()
    failed = ProcessingAttempt.objects.get(object_id=str(bad.pk))
    assert failed.message.startswith("HTTP 404 from https://")


def test_retries_until_error_give_one_entry_per_attempt(wf_check):
    w = WidgetFactory(queued=True, behaviour="retry")
    for _ in range(wf_check.max_attempts):
        Widget.objects.filter(pk=w.pk).update(widget_check_available_at=None)
        engine.workflow_run(wf_check)
    assert log(w) == [("widget_check", 1, "retrying", "http_5xx"), ("widget_check", 2, "retrying", "http_5xx"),
                      ("widget_check", 3, "error", "http_5xx")]


def test_completion_through_the_lease_is_logged_in_its_transaction(wf_check):
    w = WidgetFactory()
    lease = lease_for(wf_check, w, worker="host:1:2")
    with pytest.raises(RuntimeError):
        with lease.complete():
            raise RuntimeError("the results could not be written")
    assert log(w) == [], "a rolled-back completion leaves no history"
    with lease.complete():
        pass
    entry = ProcessingAttempt.objects.get(object_id=str(w.pk))
    assert (entry.outcome, entry.worker, entry.attempt, entry.claimed_at) == ("completed", "host:1:2", 1, lease.claimed_at)


def test_grouped_completion_logs_only_the_rows_still_ours(wf_check):
    rows = WidgetFactory.create_batch(3)
    put_in_state(wf_check, rows, processing="Queued")
    claim = services.processing_claim(workflow=wf_check, worker_id="host:9:9")
    Widget.objects.filter(pk=rows[0].pk).update(widget_check_lease_token=uuid.uuid4())  # taken over meanwhile
    done = services.processing_complete_many(workflow=wf_check, ids=claim.ids, token=claim.token, claim=claim,
                                             durations={rows[1].pk: 120})
    assert done == 2
    assert log(rows[0]) == []
    assert log(rows[1]) == log(rows[2]) == [("widget_check", 1, "completed", "")]
    assert ProcessingAttempt.objects.get(object_id=str(rows[1].pk)).duration_ms == 120
    assert ProcessingAttempt.objects.get(object_id=str(rows[2].pk)).worker == "host:9:9"


def test_rescue_and_lost_lease_are_logged(wf_check):
    w = WidgetFactory()
    stale = lease_for(wf_check, w, worker="dead-host:42:1")
    services.processing_rescue(workflow=wf_check, now=stale.deadline + timedelta(seconds=1))
    services.processing_attempt_lost(lease=stale)
    assert log(w) == [("widget_check", 1, "worker_lost", "worker_lost"), ("widget_check", 1, "lease_lost", "")]
    assert ProcessingAttempt.objects.filter(object_id=str(w.pk), outcome="worker_lost").get().worker == "dead-host:42:1"


def test_history_api(wf_check, api_client):
    w = WidgetFactory(behaviour="retry")
    services.curation_status_set(workflow=wf_check, ids=[w.pk], status="Selected")
    engine.workflow_run(wf_check)
    response = api_client.get(f"/api/v3/workflows/widget_check/rows/{w.pk}/history")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["workflow"], body["id"], body["processing_status"]) == ("widget_check", str(w.pk), "Queued")
    [attempt] = body["attempts"]
    assert (attempt["attempt"], attempt["outcome"], attempt["error_class"]) == (1, "retrying", "http_5xx")
    assert attempt["worker"] and attempt["finished_at"] and attempt["duration_ms"] is not None
    assert [(e["curation_to"], e["processing_to"]) for e in body["curation_events"]] == [("Selected", "Queued")]


def test_history_api_refuses_unknown_rows_and_readers_without_permission(api_client, nobody_client, viewer_client):
    w = WidgetFactory()
    assert api_client.get(f"/api/v3/workflows/widget_check/rows/{uuid.uuid4()}/history").status_code == 404
    assert api_client.get("/api/v3/workflows/widget_check/rows/not-an-id/history").status_code == 404
    assert api_client.get(f"/api/v3/workflows/nope/rows/{w.pk}/history").status_code == 404
    assert nobody_client.get(f"/api/v3/workflows/widget_check/rows/{w.pk}/history").status_code == 403
    assert viewer_client.get(f"/api/v3/workflows/widget_check/rows/{w.pk}/history").status_code == 200


def test_change_page_shows_the_processing_history(wf_check, admin_client):
    w = WidgetFactory(queued=True, behaviour="permanent")
    engine.workflow_run(wf_check)
    page = admin_client.get(reverse("admin:testapp_widget_change", args=[w.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Processing history" in content and "Status history" in content
    assert "HTTP 404 from https://" in content and engine.worker_id().split(":")[0] in content
