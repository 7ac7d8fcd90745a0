"""django-q2 entry points (thin): parse, call one service, return a summary."""
from __future__ import annotations

import logging
import signal
import threading

from curation import engine, registry, services

logger = logging.getLogger(__name__)


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
        return engine.workflow_run(wf).as_dict()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if told:
            # Then it obeys the signal itself (django-q2's worker would otherwise wait for its next task).
            engine.clear_stop()
            signal.raise_signal(signal.SIGTERM)


def workflow_rescue(workflow: str) -> dict:
    """Return rows whose worker died to the queue (or to Error when attempts ran out)."""
    result = services.processing_rescue(workflow=registry.get(workflow))
    return {"workflow": result.workflow, "requeued": result.requeued, "errored": result.errored}


def wake(workflow: str) -> None:
    """Ask a worker to drain `workflow` now, instead of at the next scheduled tick."""
    from django_q.tasks import async_task

    try:
        async_task("curation.tasks.workflow_run", workflow, task_name=f"curation:{workflow}:wake")
    except Exception:  # the schedule still drains the queue within a minute; say why it was not immediate
        logger.exception("could not wake a worker for %s; the schedule will pick the rows up", workflow)
