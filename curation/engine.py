"""The worker loop of one workflow: claim → run the hook → guarded finish (DESIGN §2).

No transaction is open while a hook runs. Hooks may run on several threads
(`Workflow.concurrency`) because they are I/O-bound; each thread has its own
database connection, closed when the thread ends.
"""
from __future__ import annotations

import inspect
import logging
import os
import queue
import socket
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field

from django.db import InterfaceError, OperationalError, connection, connections

from curation import services
from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowPaused
from curation.workflow import Workflow

logger = logging.getLogger(__name__)

_stop = threading.Event()

# How long a worker keeps retrying a status write while the database is unreachable
# (a restart or failover): the hook's work is done and must not be lost.
DB_RETRY_SECONDS = 60.0


def request_stop() -> None:
    """Ask every running loop of this process to stop after the rows already started."""
    _stop.set()


def clear_stop() -> None:
    _stop.clear()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class RunReport:
    workflow: str
    batches: int = 0
    claimed: int = 0
    completed: int = 0
    retried: int = 0
    errored: int = 0
    released: int = 0
    lost: int = 0  # finished after the lease was rescued: result dropped
    rescued: int = 0
    paused: str = ""
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _with_db_retry(what: str, fn):
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


def _failure(exc: Exception) -> tuple[str, str, bool, float | None]:
    """(message, error class, retryable, retry_after) of a hook's exception."""
    if isinstance(exc, RetryableError):
        return exc.message, exc.error_class, True, exc.retry_after
    if isinstance(exc, PermanentError):
        return exc.message, exc.error_class, False, None
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}", ErrorClass.BUG, True, None


class _Heartbeat(threading.Thread):
    """Extends the lease of the current batch's in-flight rows every lease/3 seconds."""

    def __init__(self, workflow: Workflow):
        super().__init__(name=f"heartbeat:{workflow.name}", daemon=True)
        self.workflow = workflow
        self.batch = None  # (token, active ids, lock) of the batch being run
        self.done = threading.Event()

    def run(self) -> None:
        interval = max(self.workflow.lease_seconds / 3, 0.05)
        try:
            while not self.done.wait(interval):
                batch = self.batch
                if batch is None:
                    continue
                token, active, lock = batch
                with lock:
                    ids = list(active)
                if not ids:
                    continue
                try:
                    kept = services.processing_heartbeat(workflow=self.workflow, ids=ids, token=token)
                except (OperationalError, InterfaceError) as exc:  # database restarting: beat again next time
                    logger.warning("%s: heartbeat failed (%s); retrying", self.workflow.name, exc)
                    connection.close_if_unusable_or_obsolete()
                    continue
                if kept < len(ids):
                    logger.warning("%s: lease lost for %d row(s) still running", self.workflow.name, len(ids) - kept)
        finally:
            connections.close_all()


class _Pool:
    """Hook threads that live for a whole run, so each opens one database connection, not one per batch."""

    def __init__(self, size: int, name: str):
        self.tasks: "queue.Queue" = queue.Queue()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._main, name=f"hook:{name}:{i}", daemon=True) for i in range(size)]
        for thread in self.threads:
            thread.start()

    def _main(self) -> None:
        try:
            while True:
                fn = self.tasks.get()
                try:
                    if fn is None:
                        return
                    fn()
                except Exception as exc:  # a database failure past its retries: the main thread re-raises it
                    self.errors.append(exc)
                finally:
                    self.tasks.task_done()
        finally:
            connections.close_all()  # this thread's own connection

    def run(self, fn) -> None:
        for _ in self.threads:
            self.tasks.put(fn)
        self.tasks.join()
        if self.errors:
            raise self.errors.pop(0)

    def close(self) -> None:
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()


def _takes_records(hook) -> bool:
    """A batch hook takes `records` (a list of rows) instead of `record`."""
    try:
        return "records" in inspect.signature(hook).parameters
    except (TypeError, ValueError):
        return False


def _release_paused(workflow: Workflow, claim: services.Claim, ids: list, exc: WorkflowPaused, report: RunReport,
                    lock: threading.Lock) -> str:
    released = _with_db_retry("release", lambda: services.processing_release(
        workflow=workflow, ids=ids, token=claim.token, delay_seconds=exc.retry_after or 60, note=f"Waiting: {exc.message}"
    ))
    with lock:
        report.released += released
    return exc.message


def _record_failure(workflow: Workflow, claim: services.Claim, pk, exc: Exception, report: RunReport,
                    lock: threading.Lock) -> None:
    message, error_class, retryable, retry_after = _failure(exc)
    if error_class == ErrorClass.BUG:
        logger.error("%s: hook failed on %s", workflow.name, pk, exc_info=exc)
    outcome = _with_db_retry("fail", lambda: services.processing_fail(
        workflow=workflow, pk=pk, token=claim.token, attempts=claim.attempts[pk],
        message=message, error_class=error_class, retryable=retryable, retry_after=retry_after,
    ))
    with lock:
        if outcome.status == services.QUEUED:
            report.retried += 1
        elif outcome.status == services.ERROR:
            report.errored += 1
            report.errors.append(f"{pk}: {message}"[:300])
        else:
            report.lost += 1


def _run_one(workflow: Workflow, claim: services.Claim, record, hook, report: RunReport, lock: threading.Lock):
    """Run the hook on one claimed row. Failures are written at once; returns a pause message,
    `_SUCCESS` (completion written by the batch's next flush) or None."""
    pk = record.pk
    try:
        hook(record=record)
    except WorkflowPaused as exc:
        return _release_paused(workflow, claim, [pk], exc, report, lock)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row; BaseException (timeouts) propagates
        _record_failure(workflow, claim, pk, exc, report, lock)
        return None
    return _SUCCESS


def _run_many(workflow: Workflow, claim: services.Claim, records: list, hook, report: RunReport,
              lock: threading.Lock) -> tuple[list, str | None]:
    """Run a batch hook on a chunk of claimed rows: (the pks that succeeded, a pause message or None).

    The hook answers {pk: exception} for the rows that failed (each is recorded on its own row, so one
    bad row never fails the others); an exception raised by the hook itself applies to the whole chunk.
    """
    pks = [record.pk for record in records]
    try:
        failures = hook(records=records) or {}
    except WorkflowPaused as exc:
        return [], _release_paused(workflow, claim, pks, exc, report, lock)
    except Exception as exc:  # noqa: BLE001 - recorded on every row of the chunk
        failures = {pk: exc for pk in pks}
    paused = [pk for pk in pks if isinstance(failures.get(pk), WorkflowPaused)]
    if paused:
        _release_paused(workflow, claim, paused, failures[paused[0]], report, lock)
    for pk in pks:
        exc = failures.get(pk)
        if exc is not None and not isinstance(exc, WorkflowPaused):
            _record_failure(workflow, claim, pk, exc, report, lock)
    succeeded = [pk for pk in pks if failures.get(pk) is None]
    return succeeded, (failures[paused[0]].message if paused else None)


# Returned by _run_one for a hook that succeeded: its completion is written with
# the next flush (one UPDATE for many rows).
_SUCCESS = object()
FLUSH_ROWS = 50
FLUSH_SECONDS = 0.5
# Back-off (seconds) while every due row is locked by another transaction: the locks are short-lived.
LOCKED_ROWS_WAIT_MIN = 0.05
LOCKED_ROWS_WAIT_MAX = 1.0


def _run_batch(workflow: Workflow, claim: services.Claim, hook, report: RunReport, deadline: float,
               pool: _Pool | None, heartbeat: _Heartbeat | None) -> None:
    records = workflow.model_class.objects.in_bulk(claim.ids)
    pending: "queue.Queue" = queue.Queue()
    batched = _takes_records(hook)
    if batched:  # one unit of work = one chunk of rows for one vendor batch call
        size = max(1, workflow.hook_batch_size or workflow.batch_size)
        for start in range(0, len(claim.ids), size):
            pending.put(tuple(claim.ids[start:start + size]))
    else:
        for pk in claim.ids:
            pending.put(pk)
    lock = threading.Lock()
    active: set = set(claim.ids)
    unstarted: list = []
    pause: list[str] = []
    succeeded: list = []
    last_flush = [time.monotonic()]

    def flush(force: bool = False) -> None:
        with lock:
            due = len(succeeded) >= FLUSH_ROWS or time.monotonic() - last_flush[0] >= FLUSH_SECONDS
            if not succeeded or not (force or due):
                return
            ids = succeeded[:]
            succeeded.clear()
            last_flush[0] = time.monotonic()
        done = _with_db_retry("complete", lambda: services.processing_complete_many(workflow=workflow, ids=ids, token=claim.token))
        with lock:
            report.completed += done
            report.lost += len(ids) - done
        if done < len(ids):
            logger.warning("%s: %d row(s) finished after their lease was lost; status left as is", workflow.name, len(ids) - done)

    def should_stop() -> bool:
        return _stop.is_set() or bool(pause) or time.monotonic() > deadline

    def work() -> None:
        while True:
            try:
                pk = pending.get_nowait()
            except queue.Empty:
                return
            if should_stop():
                with lock:
                    unstarted.extend(pk if batched else [pk])
                continue
            if batched:
                chunk = [records[i] for i in pk if i in records]  # a deleted row has nothing to do
                try:
                    done, paused = _run_many(workflow, claim, chunk, hook, report, lock)
                finally:
                    with lock:
                        active.difference_update(pk)
                with lock:
                    succeeded.extend(done)
                flush()
                if paused:
                    pause.append(paused)
                continue
            record = records.get(pk)
            if record is None:  # deleted between claim and load: nothing to do
                with lock:
                    active.discard(pk)
                continue
            try:
                outcome = _run_one(workflow, claim, record, hook, report, lock)
            finally:
                with lock:
                    active.discard(pk)
            if outcome is _SUCCESS:
                with lock:
                    succeeded.append(pk)
                flush()
            elif outcome:
                pause.append(outcome)

    if heartbeat:
        heartbeat.batch = (claim.token, active, lock)
    try:
        if pool is None:
            work()
        else:
            pool.run(work)
    finally:
        flush(force=True)
        if heartbeat:
            heartbeat.batch = None
        # Rows claimed but never started (stop, time budget, pause, or a timeout
        # raised out of the hook) go back to the queue at once, not after the lease.
        leftover = list(unstarted)
        while True:
            try:
                item = pending.get_nowait()
            except queue.Empty:
                break
            leftover.extend(item if batched else [item])
        if leftover:
            note = f"Waiting: {pause[0]}" if pause else ""
            report.released += _with_db_retry("release", lambda: services.processing_release(
                workflow=workflow, ids=leftover, token=claim.token, delay_seconds=60 if pause else 0, note=note
            ))
        if pause:
            report.paused = pause[0]


def workflow_run(
    workflow: Workflow,
    *,
    max_batches: int | None = None,
    time_budget: float | None = None,
    hook=None,
    rescue: bool = True,
) -> RunReport:
    """Drain the workflow's queue: claim batches until none is due, the time budget is spent, or a stop is requested.

    `max_batches=1` runs one batch (`run_workflow --once`). `hook` replaces the
    declared hook (engine tests only).
    """
    started = time.monotonic()
    deadline = started + (time_budget if time_budget is not None else workflow.time_budget_seconds)
    hook = hook or workflow.load_hook()
    report = RunReport(workflow=workflow.name)
    if rescue:
        rescued = _with_db_retry("rescue", lambda: services.processing_rescue(workflow=workflow))
        report.rescued = rescued.requeued + rescued.errored
    me = worker_id()
    # Threads and the heartbeat need their own connections, which only see
    # committed rows: inside an outer transaction (a test) everything runs inline.
    inline = connection.in_atomic_block
    threads = 1 if inline or connection.vendor == "sqlite" else max(1, workflow.concurrency)
    pool = heartbeat = None
    idle_wait = LOCKED_ROWS_WAIT_MIN
    try:
        while not _stop.is_set() and time.monotonic() < deadline:
            if max_batches is not None and report.batches >= max_batches:
                break
            claim = _with_db_retry("claim", lambda: services.processing_claim(workflow=workflow, worker_id=me))
            if not claim.ids:
                # SKIP LOCKED also passes over due rows that another transaction holds for a moment: a curator's
                # status change, or another workflow of the same table claiming or finishing them (the three
                # CRM syncs share the contacts). Ending here would leave them Queued until the next schedule
                # tick, so wait for those locks; rows a peer of this workflow is claiming stop being due.
                if not _with_db_retry("due", lambda: services.processing_due_exists(workflow=workflow)):
                    break
                _stop.wait(min(idle_wait, max(0.0, deadline - time.monotonic())))
                idle_wait = min(idle_wait * 2, LOCKED_ROWS_WAIT_MAX)
                continue
            idle_wait = LOCKED_ROWS_WAIT_MIN
            if threads > 1 and pool is None:
                pool = _Pool(threads, workflow.name)
            if not inline and heartbeat is None:
                heartbeat = _Heartbeat(workflow)
                heartbeat.start()
            report.batches += 1
            report.claimed += len(claim.ids)
            _run_batch(workflow, claim, hook, report, deadline, pool, heartbeat)
            if report.paused:
                break
    finally:
        if heartbeat:
            heartbeat.done.set()
            heartbeat.join()
        if pool:
            pool.close()
    report.seconds = round(time.monotonic() - started, 3)
    if report.claimed:
        logger.info(
            "%s: %d claimed, %d completed, %d retried, %d errored, %d released in %.2fs",
            workflow.name, report.claimed, report.completed, report.retried, report.errored, report.released, report.seconds,
        )
    return report
