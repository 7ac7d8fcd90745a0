"""Batch hooks (Workflow.hook_batch_size): one call per chunk of rows, one outcome per row."""
from dataclasses import replace

import pytest

from curation import engine
from curation.checks import check_workflow
from curation.exceptions import PermanentError, RetryableError, WorkflowPaused
from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


def statuses(rows) -> dict:
    return dict(Widget.objects.filter(pk__in=[w.pk for w in rows]).values_list("pk", "widget_check_processing_status"))


def test_each_row_gets_its_own_outcome_and_chunks_respect_the_size(wf_check):
    wf = replace(wf_check, batch_size=10, hook_batch_size=4)
    rows = WidgetFactory.create_batch(10, queued=True)
    bad, flaky = rows[1], rows[6]
    calls = []

    def hook(*, records, leases):
        calls.append([r.pk for r in records])
        return {bad.pk: PermanentError("HTTP 400 from https://crm.example/: bad row"),
                flaky.pk: RetryableError("HTTP 503 from https://crm.example/")}

    report = engine.workflow_run(wf, hook=hook)
    assert [len(c) for c in calls] == [4, 4, 2], "one call per chunk of hook_batch_size rows"
    assert (report.completed, report.errored, report.retried) == (8, 1, 1)
    states = statuses(rows)
    assert states.pop(bad.pk) == "Error" and states.pop(flaky.pk) == "Queued"
    assert set(states.values()) == {"Completed"}, "one bad row does not fail its chunk"
    bad.refresh_from_db()
    assert "bad row" in bad.widget_check_processing_error


def test_an_exception_of_the_whole_call_lands_on_every_row_of_its_chunk(wf_check):
    wf = replace(wf_check, batch_size=6, hook_batch_size=3)
    rows = WidgetFactory.create_batch(6, queued=True)
    first_chunk = {w.pk for w in rows[:3]}

    def hook(*, records, leases):
        if {r.pk for r in records} == first_chunk:
            raise PermanentError("HTTP 401 from https://crm.example/", error_class="config")
        return {}

    report = engine.workflow_run(wf, hook=hook)
    assert (report.completed, report.errored) == (3, 3)
    states = statuses(rows)
    assert {states[pk] for pk in first_chunk} == {"Error"}
    assert {states[w.pk] for w in rows[3:]} == {"Completed"}


def test_a_paused_row_is_released_without_spending_its_attempt(wf_check):
    wf = replace(wf_check, batch_size=3, hook_batch_size=3)
    rows = WidgetFactory.create_batch(3, queued=True)

    def hook(*, records, leases):
        return {records[0].pk: WorkflowPaused("daily quota used up")}

    report = engine.workflow_run(wf, hook=hook)
    assert report.completed == 2 and report.released == 1 and report.paused == "daily quota used up"
    paused = Widget.objects.get(pk=rows[0].pk)
    assert paused.widget_check_processing_status == "Queued" and paused.widget_check_attempts == 0


def test_the_check_wants_records_for_a_batch_hook(wf_check):
    wf = replace(wf_check, hook_batch_size=10)
    [error] = [e for e in check_workflow(wf) if e.id == "curation.E003"]
    assert "keyword-only `records`" in error.msg
