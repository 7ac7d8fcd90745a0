"""The contract every registered workflow meets, through every interface.

Parametrised over the registry: a new workflow gets these tests by registering
its declaration and adding its model's factory to tests/factories.py.
"""
from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from curation import engine, registry, services
from curation.checks import check_workflow
from curation.choices import ProcessingStatus
from curation.exceptions import PermanentError
from curation.models import CurationEvent
from curation.schedules import schedules_sync
from tests.factories import make_rows, put_in_state

pytestmark = pytest.mark.django_db

ALL = sorted(registry.all_workflows(), key=lambda w: w.name)
CURATED = [wf for wf in ALL if wf.curation]
PROCESSING_BEFORE = [None, "Queued", "Processing", "Completed", "Error"]


def expected_processing(before: str | None, target_is_trigger: bool, reprocess: bool) -> str | None:
    """DESIGN §2's transition table, written out independently of the service."""
    if before == "Processing":
        return "Processing"
    if target_is_trigger:
        if before in (None, "Error"):
            return "Queued"
        if before == "Completed":
            return "Queued" if reprocess else "Completed"
        return "Queued"
    return None if before == "Queued" else before


def apply_via(interface: str, wf, row, status: str, reprocess: bool, client, admin_client):
    if interface == "service":
        services.curation_status_set(workflow=wf, ids=[row.pk], status=status, reprocess=reprocess, source="test")
    elif interface == "api":
        response = client.put(
            f"/api/v3/workflows/{wf.name}/status",
            {"ids": [str(row.pk)], "status": status, "reprocess": reprocess},
            format="json",
        )
        assert response.status_code == 200, response.content
    else:
        opts = wf.model_class._meta
        action = f"{wf.name}__rerun" if reprocess else f"{wf.name}__{status.lower()}"
        response = admin_client.post(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            # _confirmed: actions that spend money (deep scans) show their cost first and act once confirmed.
            {ACTION_CHECKBOX_NAME: [str(row.pk)], "action": action, "index": 0, "_confirmed": "1"},
        )
        assert response.status_code == 302, response.content


def matrix():
    for wf in CURATED:
        for before in PROCESSING_BEFORE:
            for status in wf.curation_values():
                for reprocess in ([False, True] if status == wf.trigger else [False]):
                    yield pytest.param(wf, before, status, reprocess, id=f"{wf.name}-{before}-{status}-{'re' if reprocess else ''}")


@pytest.mark.parametrize("interface", ["service", "api", "admin"])
@pytest.mark.parametrize("wf,before,status,reprocess", list(matrix()))
def test_transition_table(wf, before, status, reprocess, interface, api_client, admin_client):
    row = make_rows(wf)[0]
    put_in_state(wf, [row], processing=before, curation="New", attempts=2 if before in ("Error", "Completed") else 0)
    apply_via(interface, wf, row, status, reprocess, api_client, admin_client)
    row.refresh_from_db()
    want = expected_processing(before, status == wf.trigger, reprocess)
    assert getattr(row, wf.curation_field) == status
    assert getattr(row, wf.status_field) == want
    if want == "Queued" and before != "Queued":
        assert getattr(row, wf.f("attempts")) == 0, "queueing resets attempts"
        assert getattr(row, wf.error_field) == ""
        assert getattr(row, wf.f("available_at")) is not None
    event = CurationEvent.objects.filter(workflow=wf.name, object_id=str(row.pk)).first()
    if status == "New" and want == before:
        assert event is None, "nothing changed, so nothing is audited"
    else:
        assert (event.curation_from, event.curation_to) == ("New", status)
        assert (event.processing_from, event.processing_to) == (before or "", want or "")


@pytest.mark.parametrize("wf", ALL, ids=lambda w: w.name)
def test_declaration_passes_checks(wf):
    assert check_workflow(wf) == []


@pytest.mark.parametrize("wf", ALL, ids=lambda w: w.name)
def test_schedules_exist_for_workflow(wf):
    schedules_sync()
    from django_q.models import Schedule

    names = set(Schedule.objects.values_list("name", flat=True))
    assert {f"curation:{wf.name}:run", f"curation:{wf.name}:rescue"} <= names


@pytest.mark.parametrize("wf", ALL, ids=lambda w: w.name)
def test_claim_complete_fail_rescue(wf):
    """The engine's transitions hold on every workflow's model (hook replaced: the hook has its own tests)."""
    rows = make_rows(wf, 3)
    put_in_state(wf, rows, processing="Queued")
    outcomes = {rows[0].pk: None, rows[1].pk: PermanentError("HTTP 404 from https://x.example/"), rows[2].pk: RuntimeError("boom")}

    def hook(*, record, lease):
        outcome = outcomes[record.pk]
        if outcome is not None:
            raise outcome

    report = engine.workflow_run(wf, hook=hook)
    assert (report.completed, report.errored, report.retried) == (1, 1, 1)
    states = dict(wf.model_class.objects.filter(pk__in=outcomes).values_list("pk", wf.status_field))
    assert states == {rows[0].pk: "Completed", rows[1].pk: "Error", rows[2].pk: "Queued"}

    stuck = make_rows(wf)[0]
    put_in_state(wf, [stuck], processing="Processing", lease_until=timezone.now())
    result = services.processing_rescue(workflow=wf)
    assert result.requeued == 1
    stuck.refresh_from_db()
    assert getattr(stuck, wf.status_field) == ProcessingStatus.QUEUED


@pytest.mark.parametrize("wf", ALL, ids=lambda w: w.name)
def test_admin_and_api_list_the_workflow(wf, admin_client, api_client):
    opts = wf.model_class._meta
    make_rows(wf, 2)
    page = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert page.status_code == 200
    assert f"{wf.name}__retry_errors".encode() in page.content
    response = api_client.get(f"/api/v3/workflows/{wf.name}/")
    assert response.status_code == 200
    assert sum(response.json()["processing_counts"].values()) == wf.model_class.objects.count()
