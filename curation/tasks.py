"""django-q2 entry points (thin): parse, call one service, return a summary."""
from __future__ import annotations

import logging
import math
import multiprocessing
import signal
import threading
import time

from django.conf import settings
from django.db import connections
from django.utils import timezone

from curation import engine, registry, services

logger = logging.getLogger(__name__)

# A run that retried (or paused) rows wakes the workflow again when the first of them is due, instead of
# leaving it to the next minute tick of the schedule; further ahead than this, the schedule is precise enough.
WAKE_HORIZON_SECONDS = 600.0
_timers: dict[str, threading.Timer] = {}
_timers_lock = threading.Lock()


def workflow_run(workflow: str) -> dict:
    """Drain one workflow's queue (scheduled every minute, and woken when rows are queued)."""
    wf = registry.get(workflow)
    previous, told = None, []

    def stop(signum, frame):
        told.append(signum)
        engine.request_stop()

    if threading.current_thread() is threading.main_thread():
        # A worker told to stop (SIGTERM) releases its unstarted rows instead of abandoning them.
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        report = engine.workflow_run(wf)
        if not told and multiprocessing.parent_process() is not None:
            _wake_when_due(wf)  # in a cluster's worker process (long-lived), not a test or a one-off call
        return report.as_dict()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if told:
            # Then it obeys the signal itself (django-q2's worker would otherwise wait for its next task).
            engine.clear_stop()
            signal.raise_signal(signal.SIGTERM)


def _wake_when_due(wf) -> None:
    """Wake `wf` when its next retried row is due: a timer in this worker process (one per workflow, the
    earliest wins). If the process ends first (recycled, stopped), the schedule picks the row up."""
    try:
        at = engine.next_attempt_at(wf)
    except Exception:  # best effort: the schedule still runs it
        logger.exception("%s: could not look up the next retry time", wf.name)
        return
    if at is None:
        return
    delay = max(0.0, (at - timezone.now()).total_seconds()) + 0.1
    if delay > WAKE_HORIZON_SECONDS:
        return
    due = time.monotonic() + delay
    with _timers_lock:
        current = _timers.get(wf.name)
        if current is not None and current.is_alive() and current.due <= due:
            return
        if current is not None:
            current.cancel()
        timer = threading.Timer(delay, _wake_from_timer, args=(wf.name,))
        timer.daemon = True
        timer.due = due
        _timers[wf.name] = timer
        timer.start()


def _wake_from_timer(workflow: str) -> None:
    try:
        wake(workflow)
    finally:
        connections.close_all()  # this thread's own connection


def workflow_rescue(workflow: str) -> dict:
    """Return rows whose worker died to the queue (or to Error when attempts ran out)."""
    result = services.processing_rescue(workflow=registry.get(workflow))
    return {"workflow": result.workflow, "requeued": result.requeued, "errored": result.errored}


def wake_count(workflow: str) -> int:
    """How many worker processes to wake for `workflow`: one per batch of due rows, at most all but one of
    the cluster's worker processes (Q_CLUSTER "workers"), so that a large selection (1,000 pages selected at
    once) is drained by several processes instead of one process's threads, while one process stays free for
    the next stage, whose rows arrive while this one drains (page_scrape → contact_extraction overlap)."""
    workers = max(1, int(settings.Q_CLUSTER.get("workers") or 1))
    if workers <= 2:
        return 1
    wf = registry.get(workflow)
    cap = (workers - 1) * wf.batch_size
    due = wf.model_class.objects.filter(**{wf.status_field: services.QUEUED})[:cap].count()
    return max(1, min(workers - 1, math.ceil(due / wf.batch_size)))


def wake(workflow: str) -> None:
    """Ask workers to drain `workflow` now, instead of at the next scheduled tick (`wake_count` tasks)."""
    from django_q.tasks import async_task

    try:
        for _ in range(wake_count(workflow)):
            async_task("curation.tasks.workflow_run", workflow, task_name=f"curation:{workflow}:wake")
    except Exception:  # the schedule still drains the queue within a minute; say why it was not immediate
        logger.exception("could not wake a worker for %s; the schedule will pick the rows up", workflow)
