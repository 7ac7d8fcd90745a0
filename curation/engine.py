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
from dataclasses import asdict, dataclass, field

from django.db import InterfaceError, OperationalError, connection, connections
from django.db.models import Min
from django.utils import timezone

from curation import services
from curation.outcomes import Outcomes, run_many, run_one, with_db_retry
from curation.workflow import Workflow

logger = logging.getLogger(__name__)

_stop = threading.Event()


def _sleep_unless_stopped(seconds: float) -> None:
    """Sleep, waking early on a stop request. Polls instead of `_stop.wait()`: request_stop() runs in a
    signal handler, and Event.set() there deadlocks if it interrupted Event.wait() on the same thread."""
    end = time.monotonic() + seconds
    while not _stop.is_set() and time.monotonic() < end:
        time.sleep(min(0.02, max(0.0, end - time.monotonic())))


def request_stop() -> None:
    """Ask every running loop of this process to stop after the rows already started."""
    _stop.set()


def clear_stop() -> None:
    _stop.clear()


def next_attempt_at(workflow: Workflow):
    """When the earliest Queued row not yet due becomes due (a retry's backoff, a pause), or None."""
    available = workflow.f("available_at")
    return workflow.model_class.objects.filter(
        **{workflow.status_field: "Queued", f"{available}__gt": timezone.now()}
    ).aggregate(at=Min(available))["at"]


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


class _Heartbeat(threading.Thread):
    """Every lease/3 seconds: writes the batch's buffered completions, then extends the lease of its
    rows still in flight (and of buffered ones the flush could not write yet). So no row is ever
    both unfenced (a success not yet written) and unheartbeated (a lease left to expire)."""

    def __init__(self, workflow: Workflow):
        super().__init__(name=f"heartbeat:{workflow.name}", daemon=True)
        self.workflow = workflow
        self.batch = None  # (token, active ids, lock, flush) of the batch being run
        self.done = threading.Event()

    def run(self) -> None:
        interval = max(self.workflow.lease_seconds / 3, 0.05)
        try:
            while not self.done.wait(interval):
                batch = self.batch
                if batch is None:
                    continue
                token, active, lock, flush = batch
                try:
                    flush(force=True)
                    with lock:
                        ids = list(active)
                    if not ids:
                        continue
                    kept = services.processing_heartbeat(workflow=self.workflow, ids=ids, token=token)
                except (OperationalError, InterfaceError) as exc:  # database restarting: beat again next time
                    logger.warning("%s: heartbeat failed (%s); retrying", self.workflow.name, exc)
                    connection.close_if_unusable_or_obsolete()
                    continue
                if kept < len(ids):
                    logger.info("%s: %d row(s) of the batch are no longer ours (finished or rescued)",
                                self.workflow.name, len(ids) - kept)
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


# A hook that succeeded without writing results through its lease is completed with the next
# flush (one statement for many rows); until then its row stays in the heartbeat.
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
            pending.put((pk,))
    lock = threading.Lock()
    out = Outcomes(workflow, claim, report, lock)
    active: set = set(claim.ids)  # heartbeated: in flight, or succeeded and waiting for the flush
    unstarted: list = []
    pause: list[str] = []
    succeeded: list = []
    durations: dict = {}  # pk -> the hook's run time (ms), for the processing history
    last_flush = [time.monotonic()]

    def flush(force: bool = False) -> None:
        with lock:
            due = len(succeeded) >= FLUSH_ROWS or time.monotonic() - last_flush[0] >= FLUSH_SECONDS
            if not succeeded or not (force or due):
                return
            ids = succeeded[:]
            succeeded.clear()
            last_flush[0] = time.monotonic()
        try:
            done = with_db_retry("complete", lambda: services.processing_complete_many(
                workflow=workflow, ids=ids, token=claim.token, claim=claim, durations=durations))
        except BaseException:
            with lock:  # not written: keep them buffered (and heartbeated) for the next flush
                succeeded.extend(ids)
            raise
        with lock:
            active.difference_update(ids)
            report.completed += done
            report.lost += len(ids) - done
        if done < len(ids):
            logger.warning("%s: %d row(s) finished after their lease was lost; status left as is", workflow.name, len(ids) - done)

    def should_stop() -> bool:
        return _stop.is_set() or bool(pause) or time.monotonic() > deadline

    def run(unit: tuple) -> tuple[dict, str | None]:
        """({pk: ms} of rows to complete with the flush, a pause message or None)."""
        rows = [records[pk] for pk in unit if pk in records]  # a row deleted since the claim: nothing to do
        if not rows:
            return {}, None
        if batched:
            return run_many(out, rows, hook)
        outcome = run_one(out, rows[0], hook)
        if isinstance(outcome, int):
            return {rows[0].pk: outcome}, None
        return {}, outcome if isinstance(outcome, str) else None

    def work() -> None:
        while True:
            try:
                unit = pending.get_nowait()
            except queue.Empty:
                return
            if should_stop():
                with lock:
                    unstarted.extend(unit)
                    active.difference_update(unit)
                continue
            ok: dict = {}
            try:
                ok, paused = run(unit)
            finally:
                with lock:
                    durations.update(ok)
                    succeeded.extend(ok)
                    active.difference_update(pk for pk in unit if pk not in ok)
            if ok:
                flush()
            if paused:
                pause.append(paused)

    if heartbeat:
        heartbeat.batch = (claim.token, active, lock, flush)
    try:
        if pool is None:
            work()
        else:
            pool.run(work)
    finally:
        try:
            flush(force=True)
        finally:
            if heartbeat:
                heartbeat.batch = None
        # Rows claimed but never started (stop, time budget, pause, or a timeout
        # raised out of the hook) go back to the queue at once, not after the lease.
        leftover = list(unstarted)
        while True:
            try:
                leftover.extend(pending.get_nowait())
            except queue.Empty:
                break
        if leftover:
            note = f"Waiting: {pause[0]}" if pause else ""
            report.released += with_db_retry("release", lambda: services.processing_release(
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
        rescued = with_db_retry("rescue", lambda: services.processing_rescue(workflow=workflow))
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
            claim = with_db_retry("claim", lambda: services.processing_claim(workflow=workflow, worker_id=me))
            if not claim.ids:
                # SKIP LOCKED also passes over due rows that another transaction holds for a moment: a curator's
                # status change, or another workflow of the same table claiming or finishing them (the three
                # CRM syncs share the contacts). Ending here would leave them Queued until the next schedule
                # tick, so wait for those locks; rows a peer of this workflow is claiming stop being due.
                if not with_db_retry("due", lambda: services.processing_due_exists(workflow=workflow)):
                    break
                _sleep_unless_stopped(min(idle_wait, max(0.0, deadline - time.monotonic())))
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
