"""The worker loop: outcomes, retries with backoff, poison rows, pause, stop, time budget, fencing, rescue, heartbeat."""
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.exceptions import TimeoutException

from curation import engine, services
from curation.exceptions import ErrorClass
from tests.factories import WidgetFactory
from tests.testapp.models import HookCall, Widget

pytestmark = pytest.mark.django_db


def row(pk) -> Widget:
    return Widget.objects.get(pk=pk)


def test_success_completes_and_clears_the_lease(wf_check):
    w = WidgetFactory(queued=True)
    report = engine.workflow_run(wf_check)
    assert (report.claimed, report.completed) == (1, 1)
    w = row(w.pk)
    assert w.widget_check_processing_status == "Completed"
    assert w.widget_check_lease_token is None and w.widget_check_lease_until is None
    assert w.widget_check_attempts == 1 and w.widget_check_processed_at is not None
    assert HookCall.objects.filter(widget_id=w.pk).count() == 1


def test_retryable_error_backs_off_within_bounds(wf_check):
    w = WidgetFactory(queued=True, behaviour="retry")
    before = timezone.now()
    report = engine.workflow_run(wf_check)
    after = timezone.now()
    assert report.retried == 1
    w = row(w.pk)
    assert w.widget_check_processing_status == "Queued"
    assert w.widget_check_error_class == ErrorClass.HTTP_5XX
    assert "HTTP 503 from https://" in w.widget_check_processing_error
    assert "Attempt 1 of 3" in w.widget_check_processing_error
    # base 10 s, first retry: 10 s × (1 + U[0, 0.1))
    assert before + timedelta(seconds=10) <= w.widget_check_available_at <= after + timedelta(seconds=11)
    # Not due yet: a second run claims nothing.
    assert engine.workflow_run(wf_check).claimed == 0


def test_retry_after_is_honoured(wf_check):
    w = WidgetFactory(queued=True, behaviour="retry_after:500")
    engine.workflow_run(wf_check)
    w = row(w.pk)
    assert w.widget_check_available_at >= timezone.now() + timedelta(seconds=490)
    assert w.widget_check_error_class == ErrorClass.RATE_LIMITED


def test_permanent_error_goes_straight_to_error(wf_check):
    w = WidgetFactory(queued=True, behaviour="permanent")
    report = engine.workflow_run(wf_check)
    assert report.errored == 1
    w = row(w.pk)
    assert w.widget_check_processing_status == "Error"
    assert w.widget_check_processing_error.startswith("HTTP 404 from https://")
    assert w.widget_check_error_class == ErrorClass.NOT_FOUND
    assert w.widget_check_attempts == 1


def make_due(pk):
    Widget.objects.filter(pk=pk).update(widget_check_available_at=timezone.now() - timedelta(seconds=1))


def test_poison_row_stops_after_max_attempts(wf_check):
    w = WidgetFactory(queued=True, behaviour="bug")
    for _ in range(wf_check.max_attempts):
        engine.workflow_run(wf_check)
        make_due(w.pk)  # time travel past the backoff
    w = row(w.pk)
    assert w.widget_check_processing_status == "Error"
    assert w.widget_check_attempts == wf_check.max_attempts == 3
    assert w.widget_check_error_class == ErrorClass.BUG
    assert w.widget_check_processing_error.startswith("ZeroDivisionError: division by zero")
    assert "gave up after 3 attempts" in w.widget_check_processing_error
    assert engine.workflow_run(wf_check).claimed == 0
    assert HookCall.objects.filter(widget_id=w.pk).count() == 3


def test_pause_releases_rows_without_counting_an_attempt(wf_check):
    first = WidgetFactory(queued=True, behaviour="pause:120", name="a")
    WidgetFactory.create_batch(3, queued=True, name=factory_name("b"))
    Widget.objects.filter(pk=first.pk).update(widget_check_available_at=timezone.now() - timedelta(minutes=5))
    report = engine.workflow_run(wf_check)
    assert "daily budget" in report.paused
    assert report.completed == 0 and report.released == 4
    rows = Widget.objects.all()
    assert {r.widget_check_processing_status for r in rows} == {"Queued"}
    assert {r.widget_check_attempts for r in rows} == {0}
    paused = row(first.pk)
    assert paused.widget_check_processing_error.startswith("Waiting: daily budget")
    assert paused.widget_check_available_at > timezone.now() + timedelta(seconds=100)


def factory_name(prefix):
    import factory

    return factory.Sequence(lambda n: f"{prefix}-{n}")


def test_stop_request_releases_unstarted_rows(wf_check):
    rows = WidgetFactory.create_batch(5, queued=True)
    calls = []

    def hook(*, record, lease):
        calls.append(record.pk)
        engine.request_stop()  # SIGTERM arrives while the first row runs

    report = engine.workflow_run(wf_check, hook=hook)
    assert len(calls) == 1 and report.completed == 1 and report.released == 4
    states = sorted(Widget.objects.values_list("widget_check_processing_status", "widget_check_attempts"))
    assert states == [("Completed", 1)] + [("Queued", 0)] * 4
    assert len(rows) == 5


def test_time_budget_stops_claiming(wf_check):
    WidgetFactory.create_batch(3, queued=True)
    report = engine.workflow_run(wf_check, time_budget=0)
    assert report.claimed == 0
    assert Widget.objects.filter(widget_check_processing_status="Queued").count() == 3


def test_worker_timeout_propagates_and_unstarted_rows_are_released(wf_check):
    """django-q2's TimeoutException is a SystemExit: never swallowed, and the rest of the batch goes back."""
    WidgetFactory.create_batch(3, queued=True)

    def hook(*, record, lease):
        raise TimeoutException("task exceeded timeout")

    with pytest.raises(TimeoutException):
        engine.workflow_run(wf_check, hook=hook)
    states = sorted(Widget.objects.values_list("widget_check_processing_status", flat=True))
    # The row that was running keeps its lease (rescue handles it); the other two are queued again.
    assert states == ["Processing", "Queued", "Queued"]


def test_once_runs_a_single_batch(wf_check):
    WidgetFactory.create_batch(wf_check.batch_size + 5, queued=True)
    report = engine.workflow_run(wf_check, max_batches=1)
    assert report.claimed == wf_check.batch_size
    assert Widget.objects.filter(widget_check_processing_status="Queued").count() == 5


def test_claim_sets_lease_token_attempts_and_worker(wf_check):
    rows = WidgetFactory.create_batch(3, queued=True)
    claim = services.processing_claim(workflow=wf_check, worker_id="host:1:2")
    assert sorted(claim.ids) == sorted(r.pk for r in rows)
    for w in Widget.objects.all():
        assert w.widget_check_processing_status == "Processing"
        assert w.widget_check_lease_token == claim.token
        assert w.widget_check_lease_until > timezone.now() + timedelta(seconds=wf_check.lease_seconds - 5)
        assert w.widget_check_attempts == 1
        assert w.widget_check_locked_by == "host:1:2"


def test_stale_worker_cannot_complete_after_rescue(wf_check):
    w = WidgetFactory(queued=True)
    stale = services.processing_claim(workflow=wf_check, worker_id="old")
    Widget.objects.filter(pk=w.pk).update(widget_check_lease_until=timezone.now() - timedelta(seconds=1))
    assert services.processing_rescue(workflow=wf_check).requeued == 1
    make_due(w.pk)
    fresh = services.processing_claim(workflow=wf_check, worker_id="new")
    assert fresh.ids == [w.pk] and fresh.token != stale.token
    assert services.processing_complete(workflow=wf_check, pk=w.pk, token=stale.token) is False
    outcome = services.processing_fail(
        workflow=wf_check, pk=w.pk, token=stale.token, attempts=1, message="late", error_class="bug", retryable=False
    )
    assert outcome.status is None
    assert row(w.pk).widget_check_processing_status == "Processing"
    assert services.processing_complete(workflow=wf_check, pk=w.pk, token=fresh.token) is True
    assert services.processing_complete(workflow=wf_check, pk=w.pk, token=fresh.token) is False, "double complete"
    assert row(w.pk).widget_check_attempts == 2


def test_rescue_requeues_expired_lease(wf_check):
    stuck = WidgetFactory(stuck=True)
    alive = WidgetFactory(stuck=True, widget_check_lease_until=timezone.now() + timedelta(minutes=5))
    result = services.processing_rescue(workflow=wf_check)
    assert (result.requeued, result.errored) == (1, 0)
    stuck, alive = row(stuck.pk), row(alive.pk)
    assert stuck.widget_check_processing_status == "Queued"
    assert stuck.widget_check_attempts == 1, "attempts are kept: the crash counted"
    assert stuck.widget_check_error_class == ErrorClass.WORKER_LOST
    assert stuck.widget_check_lease_token is None
    assert stuck.widget_check_available_at > timezone.now()
    assert alive.widget_check_processing_status == "Processing"


def test_rescue_errors_when_attempts_are_exhausted(wf_check):
    w = WidgetFactory(stuck=True, widget_check_attempts=wf_check.max_attempts)
    result = services.processing_rescue(workflow=wf_check)
    assert (result.requeued, result.errored) == (0, 1)
    w = row(w.pk)
    assert w.widget_check_processing_status == "Error"
    assert w.widget_check_processing_error.startswith("Worker lost")
    assert w.widget_check_error_class == "worker_lost"


def test_run_rescues_before_claiming(wf_check):
    w = WidgetFactory(stuck=True)
    Widget.objects.filter(pk=w.pk).update(widget_check_lease_until=timezone.now() - timedelta(hours=1))
    report = engine.workflow_run(wf_check)
    assert report.rescued == 1
    assert row(w.pk).widget_check_processing_status == "Queued", "rescued rows wait for their backoff"


def test_processing_only_workflow_runs_rows_queued_on_creation(wf_index):
    rows = WidgetFactory.create_batch(2)
    services.processing_enqueue(workflow=wf_index, ids=[r.pk for r in rows])
    report = engine.workflow_run(wf_index)
    assert report.completed == 2
    assert set(Widget.objects.values_list("widget_index_processing_status", flat=True)) == {"Completed"}
    assert set(Widget.objects.values_list("widget_check_processing_status", flat=True)) == {None}, "workflows are independent"


@pytest.mark.django_db(transaction=True)
def test_heartbeat_keeps_a_long_hook_from_being_rescued(wf_check):
    import dataclasses

    from tests.support import wait_until

    # A 6 s lease, a heartbeat every 2 s: a heartbeat may come 4 s late on a loaded machine and still hold it.
    wf = dataclasses.replace(wf_check, lease_seconds=6, concurrency=1)
    w = WidgetFactory(queued=True)
    seen = {}

    def hook(*, record, lease):
        claimed_until = row(record.pk).widget_check_lease_until
        # run until the lease taken at the claim is over (a condition, not a fixed sleep): only the heartbeat
        # keeps the row ours now
        wait_until(lambda: timezone.now() > claimed_until + timedelta(seconds=0.5), 60, "the claimed lease to run out")
        seen["rescue"] = services.processing_rescue(workflow=wf)
        seen["lease_until"] = row(record.pk).widget_check_lease_until

    report = engine.workflow_run(wf, hook=hook, rescue=False)
    assert seen["rescue"].requeued == 0 and seen["rescue"].errored == 0
    assert report.completed == 1 and report.lost == 0
    assert row(w.pk).widget_check_processing_status == "Completed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_hooks_overlap_up_to_the_declared_concurrency(wf_check):
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs hooks one at a time (single writer)")
    WidgetFactory.create_batch(10, queued=True)
    lock, state = threading.Lock(), {"now": 0, "max": 0, "threads": set()}
    four_at_once = threading.Event()

    def hook(*, record, lease):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            state["threads"].add(threading.get_ident())
            if state["now"] >= 4:
                four_at_once.set()
        # hold the row until four run at once (a condition, not a fixed sleep: on a loaded machine a thread may
        # start late); the bound only ends a run whose concurrency is too low
        four_at_once.wait(30)  # a fifth thread, if the engine allowed one, would be counted meanwhile
        with lock:
            state["now"] -= 1

    report = engine.workflow_run(wf_check, hook=hook)
    assert report.completed == 10
    assert state["max"] == wf_check.concurrency == 4
    assert len(state["threads"]) == 4


@pytest.mark.django_db(transaction=True)
def test_a_succeeded_row_waiting_for_the_grouped_flush_is_never_rerun(wf_check, monkeypatch):
    """Issue #10 finding 2: a success waiting in the completion buffer keeps its lease (the heartbeat
    flushes it), even when the lease is shorter than the flush interval and other workers rescue meanwhile."""
    import dataclasses
    import threading

    from django.db import connections

    from tests.support import wait_until

    # The flush interval far beyond the 6 s lease; the heartbeat (every 2 s) may be 4 s late on a loaded machine
    # before the rescues below would take the slow row.
    monkeypatch.setattr(engine, "FLUSH_SECONDS", 60.0)
    wf = dataclasses.replace(wf_check, lease_seconds=6, concurrency=1, batch_size=2)
    quick, slow = WidgetFactory(queued=True, name="quick"), WidgetFactory(queued=True, name="slow")
    Widget.objects.filter(pk=slow.pk).update(widget_check_available_at=timezone.now() + timedelta(milliseconds=1))
    release, calls = threading.Event(), []

    def hook(*, record, lease):
        calls.append(record.name)
        if record.name == "slow":
            assert release.wait(60), "the test never released the slow row"

    def run() -> None:
        try:
            engine.workflow_run(wf, hook=hook, rescue=False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_until(lambda: calls == ["quick", "slow"], 30, "both rows to start")

        def quick_finished() -> bool:
            services.processing_rescue(workflow=wf)  # other workers keep rescuing expired leases meanwhile
            return row(quick.pk).widget_check_processing_status == "Completed"

        wait_until(quick_finished, 30, "the buffered success to be written while the slow row still runs",
                   interval=0.5)
        assert row(slow.pk).widget_check_processing_status == "Processing"
    finally:
        release.set()
        thread.join(60)
    assert calls == ["quick", "slow"], "a row ran twice"
    assert {row(quick.pk).widget_check_processing_status, row(slow.pk).widget_check_processing_status} == {"Completed"}


@pytest.mark.django_db(transaction=True)
def test_a_dropped_database_connection_costs_no_attempt(wf_check, postgres_only):
    """Issue #10 finding 5: the server ends the hook's connection mid-row (as a restart does):
    the row goes back to the queue classed `database`, no attempt spent, no file path in the message."""
    import dataclasses

    import psycopg
    from django.db import connection

    from curation.models import ProcessingAttempt
    from tests.support import database_url

    wf = dataclasses.replace(wf_check, concurrency=1)
    w = WidgetFactory(queued=True)

    def hook(*, record, lease):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        Widget.objects.filter(pk=record.pk).count()  # the connection is gone: OperationalError

    report = engine.workflow_run(wf, hook=hook, rescue=False)
    assert (report.released, report.retried, report.errored, report.completed) == (1, 0, 0, 0)
    w = row(w.pk)
    assert (w.widget_check_processing_status, w.widget_check_attempts, w.widget_check_error_class) == (
        "Queued", 0, ErrorClass.DATABASE)
    assert w.widget_check_processing_error.startswith("Database unavailable (OperationalError")
    assert "/" not in w.widget_check_processing_error.replace("https://", "")
    entry = ProcessingAttempt.objects.get(object_id=str(w.pk))
    assert (entry.outcome, entry.error_class) == ("released", ErrorClass.DATABASE)


def test_database_errors_on_a_live_connection_spend_an_attempt(wf_check):
    """A deadlock or statement timeout is not a blip: classed `database`, retried with backoff like any failure."""
    from django.db import OperationalError

    w = WidgetFactory(queued=True)

    def hook(*, record, lease):
        raise OperationalError("deadlock detected")

    report = engine.workflow_run(wf_check, hook=hook)
    assert report.retried == 1
    w = row(w.pk)
    assert (w.widget_check_processing_status, w.widget_check_attempts, w.widget_check_error_class) == (
        "Queued", 1, ErrorClass.DATABASE)


def test_unexpected_errors_keep_type_and_message_but_no_file_path(wf_check):
    w = WidgetFactory(queued=True)

    def hook(*, record, lease):
        open("/srv/scrapersky/private/settings-override.yaml")  # noqa: SIM115 - FileNotFoundError names the path

    engine.workflow_run(wf_check, hook=hook)
    message = row(w.pk).widget_check_processing_error
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'settings-override.yaml'" in message
    assert "/srv" not in message and "private" not in message and ".py" not in message
