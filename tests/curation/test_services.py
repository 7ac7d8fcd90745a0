"""The status services: counts, audit, bad input that changes nothing, filtered updates, requeue."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation import services
from curation.models import CurationEvent
from tests.factories import WidgetFactory, put_in_state

pytestmark = pytest.mark.django_db


def statuses(wf, rows):
    return [
        (getattr(r, wf.curation_field), getattr(r, wf.status_field))
        for r in wf.model_class.objects.filter(pk__in=[r.pk for r in rows]).order_by("name")
    ]


def test_select_returns_counts_and_audits(wf_check, admin_user):
    rows = WidgetFactory.create_batch(4)
    put_in_state(wf_check, rows[1:2], processing="Processing")
    put_in_state(wf_check, rows[2:3], processing="Completed")
    put_in_state(wf_check, rows[3:4], processing="Error")
    result = services.curation_status_set(workflow=wf_check, ids=[r.pk for r in rows], status="Selected", actor=admin_user)
    assert (result.updated_count, result.queued_count, result.dequeued_count, result.skipped_count) == (4, 2, 0, 2)
    assert "2 queued" in result.message
    assert statuses(wf_check, rows) == [
        ("Selected", "Queued"), ("Selected", "Processing"), ("Selected", "Completed"), ("Selected", "Queued")
    ]
    events = CurationEvent.objects.filter(workflow="widget_check")
    assert events.count() == 4
    assert set(events.values_list("actor_label", flat=True)) == {admin_user.username}


def test_status_set_is_set_based(wf_check):
    """A handful of statements whatever the batch size (no per-row save; SQLite splits big INSERTs)."""
    def statements(n):
        rows = WidgetFactory.create_batch(n)
        put_in_state(wf_check, rows[: n // 2], processing="Queued")
        with CaptureQueriesContext(connection) as ctx:
            services.curation_status_set(workflow=wf_check, ids=[r.pk for r in rows], status="Maybe")
        return len(ctx.captured_queries)

    small, large = statements(4), statements(300)
    assert small <= 6
    assert large <= small + 5, f"{large} statements for 300 rows"


def test_deselecting_a_queued_row_dequeues_it(wf_check):
    row = WidgetFactory(queued=True)
    result = services.curation_status_set(workflow=wf_check, ids=[row.pk], status="Rejected")
    assert result.dequeued_count == 1
    assert statuses(wf_check, [row]) == [("Rejected", None)]


def test_not_a_fit_alias_is_rejected(wf_check):
    row = WidgetFactory()
    result = services.curation_status_set(workflow=wf_check, ids=[str(row.pk)], status="Not a Fit")
    assert result.status == "Rejected"
    assert statuses(wf_check, [row]) == [("Rejected", None)]


@pytest.mark.parametrize(
    "ids,status,message",
    [
        ("unknown", "Selected", "not found"),
        ("bad", "Selected", "invalid id"),
        ("ok", "Chosen", "Unknown status 'Chosen'"),
        ("ok", "", "status is required"),
        ("empty", "Selected", "must not be empty"),
        ("string", "Selected", "must be a list"),
    ],
)
def test_bad_input_changes_nothing(wf_check, ids, status, message):
    row = WidgetFactory()
    id_list = {
        "unknown": [str(row.pk), str(uuid.uuid4())],
        "bad": [str(row.pk), "not-a-uuid"],
        "ok": [str(row.pk)],
        "empty": [],
        "string": str(row.pk),
    }[ids]
    with pytest.raises(services.CurationInputError, match=message):
        services.curation_status_set(workflow=wf_check, ids=id_list, status=status)
    assert statuses(wf_check, [row]) == [("New", None)]
    assert not CurationEvent.objects.exists()


def test_oversized_batch_is_refused(wf_check, settings):
    settings.CURATION_MAX_BATCH = 3
    rows = WidgetFactory.create_batch(4)
    with pytest.raises(services.CurationInputError, match="Too many ids: 4; the limit is 3"):
        services.curation_status_set(workflow=wf_check, ids=[r.pk for r in rows], status="Selected")
    assert statuses(wf_check, rows) == [("New", None)] * 4


def test_unknown_id_error_lists_the_missing_ids(wf_check):
    missing = str(uuid.uuid4())
    with pytest.raises(services.CurationInputError) as info:
        services.curation_status_set(workflow=wf_check, ids=[missing], status="Selected")
    assert info.value.not_found_ids == [missing]


def test_processing_only_workflow_has_no_curation(wf_index):
    row = WidgetFactory()
    with pytest.raises(services.CurationInputError, match="has no curation status"):
        services.curation_status_set(workflow=wf_index, ids=[row.pk], status="Selected")


def test_enqueue_queues_only_never_queued_rows(wf_index):
    fresh, done = WidgetFactory.create_batch(2)
    put_in_state(wf_index, [done], processing="Completed")
    assert services.processing_enqueue(workflow=wf_index, ids=[fresh.pk, done.pk]) == 1
    assert statuses_index(wf_index, [fresh, done]) == ["Queued", "Completed"]


def statuses_index(wf, rows):
    return [getattr(r, wf.status_field) for r in wf.model_class.objects.filter(pk__in=[r.pk for r in rows]).order_by("name")]


def test_filtered_set_uses_the_list_filters(wf_check):
    errors = WidgetFactory.create_batch(3, errored=True)
    others = WidgetFactory.create_batch(2)
    result = services.curation_status_set_filtered(
        workflow=wf_check, filters={"widget_check_processing_status": ["Error"]}, status="Selected"
    )
    assert (result.updated_count, result.queued_count) == (3, 3)
    assert statuses_index(wf_check, errors) == ["Queued"] * 3
    assert statuses_index(wf_check, others) == [None, None]


@pytest.mark.parametrize(
    "filters,message",
    [
        ({"colour": "red"}, "Unknown filter"),
        ({"widget_check_processing_status": ["Done"]}, "Invalid filters"),
        ({}, "non-empty"),
    ],
)
def test_filtered_set_rejects_bad_filters(wf_check, filters, message):
    WidgetFactory(errored=True)
    with pytest.raises(services.CurationInputError, match=message):
        services.curation_status_set_filtered(workflow=wf_check, filters=filters, status="Selected")
    assert not CurationEvent.objects.exists()


def test_filtered_set_refuses_more_rows_than_the_limit(wf_check, settings):
    settings.CURATION_MAX_BATCH = 2
    WidgetFactory.create_batch(3, errored=True)
    with pytest.raises(services.CurationInputError, match="more than 2 rows"):
        services.curation_status_set_filtered(
            workflow=wf_check, filters={"widget_check_processing_status": ["Error"]}, status="Selected"
        )


def test_requeue_errors_of_one_class(wf_check):
    not_found = WidgetFactory(errored=True)
    server = WidgetFactory(errored=True, widget_check_error_class="http_5xx")
    done = WidgetFactory(completed=True)
    result = services.processing_requeue(
        workflow=wf_check, ids=[not_found.pk, server.pk, done.pk], error_class="http_5xx"
    )
    assert (result.queued_count, result.skipped_count) == (1, 2)
    assert statuses_index(wf_check, [not_found, server, done]) == ["Error", "Queued", "Completed"]
    server.refresh_from_db()
    assert server.widget_check_attempts == 0 and server.widget_check_processing_error == ""


def test_requeue_refuses_unknown_error_class(wf_check):
    row = WidgetFactory(errored=True)
    with pytest.raises(services.CurationInputError, match="Unknown error class"):
        services.processing_requeue(workflow=wf_check, ids=[row.pk], error_class="gremlins")


def test_readiness_problem_refuses_to_queue(wf_check, monkeypatch):
    row = WidgetFactory()
    monkeypatch.setattr(type(wf_check), "readiness_problem", lambda self: "BREVO_API_KEY is not set")
    with pytest.raises(services.CurationInputError, match="BREVO_API_KEY is not set"):
        services.curation_status_set(workflow=wf_check, ids=[row.pk], status="Selected")
    assert statuses(wf_check, [row]) == [("New", None)]
    # Other statuses still work: a curator may reject rows while the CRM is not configured.
    services.curation_status_set(workflow=wf_check, ids=[row.pk], status="Rejected")


def test_events_are_append_only(wf_check):
    row = WidgetFactory()
    services.curation_status_set(workflow=wf_check, ids=[row.pk], status="Maybe")
    event = CurationEvent.objects.get()
    event.note = "edited"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_database_refuses_processing_without_lease(wf_check):
    from django.db import IntegrityError, transaction

    row = WidgetFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(widget_check_processing_status="Processing")
