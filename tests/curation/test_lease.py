"""The lease handle: a hook's results are written only while its lease is current (issue #10, finding 1)."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest

from curation import engine, registry, services
from curation.lease import LeaseLost
from tests.factories import lease_for, put_in_state
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def wf():
    return registry.get("widget_check")


def test_complete_writes_results_and_status_together(wf):
    widget = Widget.objects.create(name="fresh")
    lease = lease_for(wf, widget)
    with lease.complete():
        Widget.objects.filter(pk=widget.pk).update(name="written")
    widget.refresh_from_db()
    assert (widget.name, widget.widget_check_processing_status, widget.widget_check_lease_token) == (
        "written", "Completed", None)
    assert lease.completed


def test_stale_lease_writes_nothing(wf):
    widget = Widget.objects.create(name="original")
    stale = lease_for(wf, widget, worker="stale")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))
    fresh = lease_for(wf, widget, worker="fresh")
    with fresh.complete():
        Widget.objects.filter(pk=widget.pk).update(name="fresh result")
    ran = []
    with pytest.raises(LeaseLost):
        with stale.complete():
            ran.append(True)
            Widget.objects.filter(pk=widget.pk).update(name="stale result")
    widget.refresh_from_db()
    assert ran == [], "the block must not run once the lease is lost"
    assert (widget.name, widget.widget_check_processing_status) == ("fresh result", "Completed")


def test_a_failing_block_rolls_back_results_and_status(wf):
    widget = Widget.objects.create(name="original")
    lease = lease_for(wf, widget)
    with pytest.raises(RuntimeError):
        with lease.complete():
            Widget.objects.filter(pk=widget.pk).update(name="half written")
            raise RuntimeError("disk full")
    widget.refresh_from_db()
    assert (widget.name, widget.widget_check_processing_status) == ("original", "Processing")
    assert widget.widget_check_lease_token == lease.token and not lease.completed


def test_engine_discards_the_results_of_a_lost_lease(wf, caplog):
    """The worker's lease is lost while its hook runs: the engine logs it and the other worker's state stays."""
    widget = Widget.objects.create(name="original")
    put_in_state(wf, [widget], processing="Queued")
    other = uuid.uuid4()

    def hook(*, record, lease):
        # Meanwhile our lease expired, was rescued, and another worker claimed the row.
        put_in_state(wf, [record], processing="Processing", lease_token=other)
        with lease.complete():
            Widget.objects.filter(pk=record.pk).update(name="stale result")

    with caplog.at_level(logging.WARNING, logger="curation.engine"):
        report = engine.workflow_run(wf, hook=hook, rescue=False)
    assert (report.completed, report.lost) == (0, 1)
    assert "lease lost, results discarded" in caplog.text
    widget.refresh_from_db()
    assert (widget.name, widget.widget_check_processing_status, widget.widget_check_lease_token) == (
        "original", "Processing", other)


def test_engine_counts_rows_completed_through_the_lease_once(wf):
    rows = [Widget.objects.create(name=f"w{i}") for i in range(3)]
    put_in_state(wf, rows, processing="Queued")

    def hook(*, record, lease):
        with lease.complete():
            Widget.objects.filter(pk=record.pk).update(name=f"{record.name} done")

    report = engine.workflow_run(wf, hook=hook)
    assert (report.completed, report.lost) == (3, 0)
    assert sorted(Widget.objects.values_list("name", wf.status_field)) == [
        ("w0 done", "Completed"), ("w1 done", "Completed"), ("w2 done", "Completed")]


def test_a_batch_hook_writes_only_the_rows_still_ours(wf):
    """LeaseBatch: the rows taken over meanwhile are discarded, the others complete with their results."""
    import dataclasses

    batch_wf = dataclasses.replace(wf, hook_batch_size=3)
    rows = [Widget.objects.create(name=f"w{i}") for i in range(3)]
    put_in_state(batch_wf, rows, processing="Queued")
    other, taken = uuid.uuid4(), rows[1]

    def hook(*, records, leases):
        put_in_state(batch_wf, [taken], processing="Processing", lease_token=other)  # taken over meanwhile
        with leases.complete([r.pk for r in records]) as ours:
            Widget.objects.filter(pk__in=ours).update(name="batch result")
        return {}

    report = engine.workflow_run(batch_wf, hook=hook, rescue=False)
    assert (report.completed, report.lost) == (2, 1)
    state = {w.pk: (w.name, w.widget_check_processing_status) for w in Widget.objects.all()}
    assert state == {rows[0].pk: ("batch result", "Completed"), taken.pk: ("w1", "Processing"),
                     rows[2].pk: ("batch result", "Completed")}
