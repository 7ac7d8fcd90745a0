"""One hook call and what becomes of its rows: success, failure, pause, a lost lease, a database blip.

The engine's loop (`curation.engine`) calls `run_one` for a row (or `run_many`
for a chunk of a batch hook) on a hook thread; every failure is written on its
row at once, guarded by the lease token, with its entry in the processing history.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Callable

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from curation import history, services
from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowPaused
from curation.lease import Lease, LeaseBatch, LeaseLost
from curation.workflow import Workflow

logger = logging.getLogger("curation.engine")

# How long a worker keeps retrying a status write while the database is unreachable
# (a restart or failover): the hook's work is done and must not be lost.
DB_RETRY_SECONDS = 60.0
# A row released after a database blip waits this long before it is due again.
DB_BLIP_DELAY_SECONDS = 5.0
# run_one's answer when the hook completed the row itself (through its lease).
DONE = object()


def with_db_retry(what: str, fn: Callable):
    """Run a status write, retrying while the database is briefly unreachable."""
    deadline = time.monotonic() + DB_RETRY_SECONDS
    delay = 0.2
    while True:
        try:
            return fn()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() > deadline:
                raise
            logger.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            connection.close_if_unusable_or_obsolete()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


# An absolute file system path in an exception's text (not a URL's path: those follow a host name).
_PATH = re.compile(r"(?<![\w:/.~-])/(?:[\w.@+~-]+/)+([\w.@+~-]*)")


def without_paths(text: str) -> str:
    """Messages are shown to curators and API readers: keep file names, never the server's paths."""
    return _PATH.sub(lambda m: m.group(1) or "…", text)


def failure(exc: Exception) -> tuple[str, str, bool, float | None]:
    """(message, error class, retryable, retry_after) of a hook's exception.

    An unexpected exception keeps its type and message (the traceback goes to the
    worker's log only), never a file system path.
    """
    if isinstance(exc, RetryableError):
        return exc.message, exc.error_class, True, exc.retry_after
    if isinstance(exc, PermanentError):
        return exc.message, exc.error_class, False, None
    if isinstance(exc, (OperationalError, InterfaceError)):  # the connection itself was fine: spends an attempt
        return without_paths(f"{type(exc).__name__}: {exc}")[:2000], ErrorClass.DATABASE, True, None
    return without_paths(f"{type(exc).__name__}: {exc}")[:2000], ErrorClass.BUG, True, None


def connection_lost() -> bool:
    """True when this thread's database connection is gone (a restart or failover), not merely in error."""
    if connection.connection is None:
        return True
    try:
        return not connection.is_usable()
    except Exception:  # noqa: BLE001 - any failure to ask means the connection is not usable
        return True


class Outcomes:
    """Writes the outcomes of one claim's rows and counts them in the run's report (thread-safe)."""

    def __init__(self, workflow: Workflow, claim: services.Claim, report, lock: threading.Lock):
        self.workflow, self.claim, self.report, self.lock = workflow, claim, report, lock

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self.report, name, getattr(self.report, name) + n)

    def lease_lost(self, lease: Lease) -> None:
        logger.warning("%s: %s: lease lost, results discarded", self.workflow.name, lease.record.pk)
        with_db_retry("history", lambda: services.processing_attempt_lost(lease=lease))
        self.count("lost")

    def paused(self, ids: list, exc: WorkflowPaused, started_at=None) -> str:
        released = with_db_retry("release", lambda: services.processing_release(
            workflow=self.workflow, ids=ids, token=self.claim.token, delay_seconds=exc.retry_after or 60,
            note=f"Waiting: {exc.message}", error_class=exc.error_class, claim=self.claim, started_at=started_at,
        ))
        self.count("released", released)
        return exc.message

    def database_blip(self, ids: list, exc: Exception, started_at=None) -> None:
        """The database dropped the connection mid-row (a restart, a failover): not the rows' fault.
        Once it answers again they go back to the queue without spending an attempt."""
        logger.warning("%s: database unavailable while running %d row(s) (%s); released, no attempt spent",
                       self.workflow.name, len(ids), exc)
        connection.close_if_unusable_or_obsolete()
        note = without_paths(f"Database unavailable ({type(exc).__name__}: {exc}); queued again, no attempt spent")
        released = with_db_retry("release", lambda: services.processing_release(
            workflow=self.workflow, ids=ids, token=self.claim.token, delay_seconds=DB_BLIP_DELAY_SECONDS,
            note=note[:2000], error_class=ErrorClass.DATABASE, claim=self.claim, started_at=started_at,
        ))
        self.count("released", released)

    def failed(self, pk, exc: Exception, started_at=None) -> None:
        message, error_class, retryable, retry_after = failure(exc)
        if error_class == ErrorClass.BUG:
            logger.error("%s: hook failed on %s", self.workflow.name, pk, exc_info=exc)
        outcome = with_db_retry("fail", lambda: services.processing_fail(
            workflow=self.workflow, pk=pk, token=self.claim.token, attempts=self.claim.attempts[pk],
            message=message, error_class=error_class, retryable=retryable, retry_after=retry_after,
            claim=self.claim, started_at=started_at,
        ))
        with self.lock:
            if outcome.status == services.QUEUED:
                self.report.retried += 1
            elif outcome.status == services.ERROR:
                self.report.errored += 1
                self.report.errors.append(f"{pk}: {message}"[:300])
            else:
                self.report.lost += 1


def run_one(out: Outcomes, record, hook):
    """Run the hook on one claimed row: a pause message (str), `DONE` (the hook completed the row through
    its lease), the hook's run time in ms (int: no results written, the row waits for the grouped flush)
    or None (a failure, written)."""
    claim = out.claim
    lease = Lease(workflow=out.workflow, record=record, token=claim.token, attempt=claim.attempts[record.pk],
                  deadline=claim.lease_until, worker=claim.worker_id, claimed_at=claim.claimed_at)
    try:
        hook(record=record, lease=lease)
    except LeaseLost:
        out.lease_lost(lease)
        return None
    except WorkflowPaused as exc:
        return out.paused([record.pk], exc, lease.started_at)
    except (OperationalError, InterfaceError) as exc:
        if lease.completed or not connection_lost():  # a deadlock, a statement timeout: an attempt like any failure
            return _failed_after(out, lease, exc)
        out.database_blip([record.pk], exc, lease.started_at)
        return None
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row; BaseException (timeouts) propagates
        return _failed_after(out, lease, exc)
    if lease.completed:
        out.count("completed")
        return DONE
    return history.duration_ms(lease.started_at, timezone.now())


def _failed_after(out: Outcomes, lease: Lease, exc: Exception):
    if lease.completed:  # raised after its results were committed: the row is Completed, nothing to undo
        logger.error("%s: hook raised after completing %s", out.workflow.name, lease.record.pk, exc_info=exc)
        out.count("completed")
        return DONE
    out.failed(lease.record.pk, exc, lease.started_at)
    return None


def run_many(out: Outcomes, records: list, hook) -> tuple[dict, str | None]:
    """Run a batch hook on a chunk of claimed rows: ({pk: run time in ms} of the rows that succeeded without
    writing results, a pause message or None).

    The hook answers {pk: exception} for the rows that failed (each is recorded on its own row, so one
    bad row never fails the others); an exception raised by the hook itself applies to the whole chunk.
    Rows it completed through `leases.complete(...)` are counted; rows found taken over are discarded.
    """
    claim = out.claim
    pks = [record.pk for record in records]
    leases = LeaseBatch(workflow=out.workflow, records=records, token=claim.token,
                        attempts={pk: claim.attempts[pk] for pk in pks}, deadline=claim.lease_until,
                        worker=claim.worker_id, claimed_at=claim.claimed_at)
    try:
        failures = hook(records=records, leases=leases) or {}
    except WorkflowPaused as exc:
        _settle(out, leases)
        return {}, out.paused(_open(pks, leases), exc, leases.started_at)
    except (OperationalError, InterfaceError) as exc:
        if connection_lost():
            _settle(out, leases)
            out.database_blip(_open(pks, leases), exc, leases.started_at)
            return {}, None
        failures = {pk: exc for pk in pks}
    except Exception as exc:  # noqa: BLE001 - recorded on every row of the chunk
        failures = {pk: exc for pk in pks}
    _settle(out, leases)
    open_pks = _open(pks, leases)
    paused = [pk for pk in open_pks if isinstance(failures.get(pk), WorkflowPaused)]
    message = out.paused(paused, failures[paused[0]], leases.started_at) if paused else None
    for pk in open_pks:
        exc = failures.get(pk)
        if exc is not None and not isinstance(exc, WorkflowPaused):
            out.failed(pk, exc, leases.started_at)
    ms = history.duration_ms(leases.started_at, timezone.now())
    return {pk: ms for pk in open_pks if failures.get(pk) is None}, message


def _open(pks: list, leases: LeaseBatch) -> list:
    """The rows of the chunk neither completed through the lease nor found taken over."""
    return [pk for pk in pks if pk not in leases.completed and pk not in leases.lost]


def _settle(out: Outcomes, leases: LeaseBatch) -> None:
    out.count("completed", len(leases.completed))
    if leases.lost:
        logger.warning("%s: %s: lease lost, results discarded", out.workflow.name, ", ".join(map(str, leases.lost)))
        with_db_retry("history", lambda: services.processing_attempts_lost(
            workflow=out.workflow, attempts={pk: leases.attempts[pk] for pk in leases.lost}, worker=leases.worker,
            claimed_at=leases.claimed_at, started_at=leases.started_at))
        out.count("lost", len(leases.lost))
