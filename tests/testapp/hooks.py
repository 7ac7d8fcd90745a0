"""The test workflows' hook: its behaviour is chosen by the row, so any process runs it the same way."""
import os
import time

from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowPaused
from tests.testapp.models import HookCall


def _behave(record, workflow: str) -> None:
    if record.behaviour == "noop":  # benchmarks: the engine's own cost only
        return
    HookCall.objects.create(widget_id=record.pk, workflow=workflow, pid=os.getpid())
    kind, _, arg = record.behaviour.partition(":")
    if kind == "ok":
        return
    if kind == "sleep":
        time.sleep(float(arg))
        return
    if kind == "retry":
        raise RetryableError(f"HTTP 503 from https://{record.name}.example/", error_class=ErrorClass.HTTP_5XX)
    if kind == "retry_after":
        raise RetryableError("rate limited", error_class=ErrorClass.RATE_LIMITED, retry_after=float(arg))
    if kind == "permanent":
        raise PermanentError(f"HTTP 404 from https://{record.name}.example/", error_class=ErrorClass.NOT_FOUND)
    if kind == "pause":
        raise WorkflowPaused("daily budget of 3 requests reached", retry_after=float(arg or 60))
    if kind == "bug":
        raise ZeroDivisionError("division by zero")
    raise AssertionError(f"unknown behaviour {record.behaviour!r}")


def widget_check(*, record, lease) -> None:
    _behave(record, "widget_check")


def widget_index(*, record, lease) -> None:
    _behave(record, "widget_index")


def noop_task(widget_id: str) -> None:
    """Benchmarks: the same no-op work as one django-q2 task per row (the baseline design)."""
