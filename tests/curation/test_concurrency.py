"""Claims under real concurrency, on PostgreSQL (SKIP LOCKED and row locks do not exist on SQLite)."""
import threading

import pytest
from django.db import connection, connections, transaction

from curation import engine, services
from tests.factories import WidgetFactory
from tests.support import wait_until
from tests.testapp.models import HookCall, Widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def in_threads(n, target):
    results, errors = [], []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # reported below, with the thread's failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_claims_are_disjoint_under_concurrency(wf_check):
    rows = WidgetFactory.create_batch(300, queued=True)

    def claim_all(i):
        mine = []
        while True:
            claim = services.processing_claim(workflow=wf_check, worker_id=f"t{i}", limit=7)
            if not claim.ids:
                return mine
            mine += claim.ids

    claimed = [pk for batch in in_threads(8, claim_all) for pk in batch]
    assert len(claimed) == len(set(claimed)), "a row was claimed twice"
    assert set(claimed) == {r.pk for r in rows}, "a row was missed"


def test_a_row_locked_by_another_transaction_is_skipped_not_waited_on(wf_check):
    locked, free = WidgetFactory.create_batch(2, queued=True)
    holding, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            list(Widget.objects.select_for_update().filter(pk=locked.pk))
            holding.set()
            release.wait(60)
        connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(30), "the lock holder never started"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a blocked claim would fail, not hang the suite
        claim = services.processing_claim(workflow=wf_check, worker_id="me")
    finally:
        release.set()
        holder.join()
    assert claim.ids == [free.pk]


def test_overlapping_runs_process_every_row_exactly_once(wf_check):
    WidgetFactory.create_batch(120, queued=True)
    in_threads(4, lambda i: engine.workflow_run(wf_check))
    assert Widget.objects.filter(widget_check_processing_status="Completed").count() == 120
    calls = list(HookCall.objects.values_list("widget_id", flat=True))
    assert len(calls) == 120 and len(set(calls)) == 120


def test_status_set_waits_for_an_in_flight_claim_and_never_requeues_it(wf_check):
    """A curator re-selecting rows while a worker claims them cannot double-queue a Processing row."""
    rows = WidgetFactory.create_batch(50, queued=True)
    ids = [r.pk for r in rows]

    def worker(i):
        return services.processing_claim(workflow=wf_check, worker_id="w", limit=50).ids

    def curator(i):
        return services.curation_status_set(workflow=wf_check, ids=ids, status="Selected").queued_count

    results = in_threads(2, lambda i: worker(i) if i == 0 else curator(i))
    claimed = next(r for r in results if isinstance(r, list))
    assert Widget.objects.filter(pk__in=claimed, widget_check_processing_status="Processing").count() == len(claimed)


def test_a_run_waits_for_due_rows_another_transaction_holds_instead_of_leaving_them_queued(wf_check, monkeypatch):
    """A woken worker whose claim skips rows locked for a moment (another workflow of the same table claiming
    or finishing them, a curator's status change) still processes them: it is the only wake-up they get."""
    row = WidgetFactory(queued=True)
    holding, release = threading.Event(), threading.Event()
    claims = []
    real_claim = services.processing_claim
    monkeypatch.setattr(services, "processing_claim", lambda **kw: claims.append(1) or real_claim(**kw))

    def hold_lock():  # what widget_index's claim, heartbeat or completion does to the same row
        with transaction.atomic():
            list(Widget.objects.select_for_update().filter(pk=row.pk))
            holding.set()
            release.wait(30)
        connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(30), "the lock holder never started"
    reports = []
    runner = threading.Thread(target=lambda: (reports.append(engine.workflow_run(wf_check)), connections.close_all()))
    try:
        runner.start()
        wait_until(lambda: len(claims) >= 2, 60, "a claim that skipped the locked row, then another")
        assert Widget.objects.get(pk=row.pk).widget_check_processing_status == "Queued"
    finally:
        release.set()
        holder.join()
    runner.join(60)
    assert not runner.is_alive(), "the run never ended"
    assert Widget.objects.get(pk=row.pk).widget_check_processing_status == "Completed"
    assert reports[0].completed == 1
