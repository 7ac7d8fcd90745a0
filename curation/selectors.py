"""Read-only views of the queues, for the operator page, the API and `workflow_status`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from curation import registry
from curation.choices import ProcessingStatus
from curation.counting import table_is_large
from curation.models import ProcessingAttempt
from curation.workflow import Workflow


def workflow_overview(workflow: Workflow) -> dict:
    """Counts by status, the oldest queued row's age, last hour's throughput and errors by class."""
    model = workflow.model_class
    now = timezone.now()
    large = table_is_large(model)
    processing = {status: 0 for status in ["none", *ProcessingStatus.values]}
    for value, n in status_counts(model, workflow.status_field, large=large, exact=IN_FLIGHT).items():
        processing[value or "none"] = n
    curation = {}
    if workflow.curation:
        curation = {value: 0 for value in workflow.curation_values()}
        curation.update(status_counts(model, workflow.curation_field, large=large, exact=()))
    oldest = model.objects.filter(**{workflow.status_field: ProcessingStatus.QUEUED}).aggregate(
        oldest=Min(workflow.f("queued_at"))
    )["oldest"]
    hour_ago = now - timedelta(hours=1)
    finished = model.objects.filter(**{f"{workflow.f('processed_at')}__gte": hour_ago})
    if large:  # a GROUP BY over every errored row of millions: the column's statistics instead
        errors = {k: v for k, v in sorted(estimated_value_counts(model, workflow.f("error_class")).items(),
                                          key=lambda kv: -kv[1]) if k}
    else:
        errors = {
            row[workflow.f("error_class")]: row["n"]
            for row in model.objects.filter(**{workflow.status_field: ProcessingStatus.ERROR})
            .values(workflow.f("error_class"))
            .annotate(n=Count("pk"))
            .order_by("-n")
        }
    return {
        "name": workflow.name,
        "label": workflow.label,
        "model": workflow.model,
        "curation": workflow.curation,
        "trigger": workflow.trigger if workflow.curation else None,
        "curation_counts": curation,
        "processing_counts": processing,
        "oldest_queued_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "completed_last_hour": finished.filter(**{workflow.status_field: ProcessingStatus.COMPLETED}).count(),
        "errored_last_hour": finished.filter(**{workflow.status_field: ProcessingStatus.ERROR}).count(),
        "errors_by_class": errors,
        "readiness_problem": workflow.readiness_problem(),
        "approximate": large,  # the big buckets (New, Completed…) are the statistics' estimate
    }


# Statuses whose counts stay exact on any table: few rows each, found through the status index.
IN_FLIGHT = (ProcessingStatus.QUEUED, ProcessingStatus.PROCESSING)


def status_counts(model, field_name: str, *, large: bool, exact=()) -> dict:
    """Rows per value of `field_name`. On tables of millions (`large`), a GROUP BY over every row costs
    seconds per status column, so the values in `exact` are counted through the index and the rest are
    estimated from PostgreSQL's column statistics (pg_stats: most common values × the table's row count)."""
    if not large:
        return {row[field_name]: row["n"] for row in model.objects.values(field_name).annotate(n=Count("pk")).order_by()}
    counts = estimated_value_counts(model, field_name)
    if exact:
        for value in exact:
            counts.pop(value, None)
        counts.update({row[field_name]: row["n"] for row in model.objects.filter(**{f"{field_name}__in": exact})
                       .values(field_name).annotate(n=Count("pk")).order_by()})
    return counts


def estimated_value_counts(model, field_name: str) -> dict:
    """PostgreSQL's estimate of the rows per value of a column (its most common values; NULL as None)."""
    column = model._meta.get_field(field_name).column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.null_frac, s.most_common_vals::text::text[], s.most_common_freqs "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname AND s.attname = %s "
            "AND s.schemaname = current_schema() WHERE c.oid = %s::regclass",
            [column, model._meta.db_table],
        )
        row = cursor.fetchone()
    if not row or row[0] is None or row[0] < 0:
        return {}
    total, null_frac, values, freqs = row
    counts = {value: round(total * freq) for value, freq in zip(values or [], freqs or [])}
    if null_frac:
        counts[None] = round(total * null_frac)
    return counts


def workflows_overview() -> list[dict]:
    return [workflow_overview(wf) for wf in sorted(registry.all_workflows(), key=lambda w: w.name)]


@dataclass
class QueueHealth:
    """Is the queue moving? (the liveness check and the worker watchdog)"""

    stall_seconds: float
    waiting: dict = field(default_factory=dict)  # workflow -> seconds its oldest due row has waited
    expired: dict = field(default_factory=dict)  # workflow -> rows whose lease expired over stall_seconds ago
    live_leases: int = 0  # rows being worked on right now (lease not expired)
    last_progress_at: datetime | None = None  # the newest finished attempt

    @property
    def stalled(self) -> bool:
        """Due work has waited longer than `stall_seconds`, and in that time no attempt finished and no row is
        being worked on; or leases expired long ago were never rescued."""
        if self.expired:
            return True
        if not self.waiting:
            return False
        recent = self.last_progress_at is not None and (
            timezone.now() - self.last_progress_at).total_seconds() < self.stall_seconds
        return not recent and not self.live_leases

    def problems(self) -> list[str]:
        lines = [f"{name}: due rows waiting {age:.0f}s (threshold {self.stall_seconds:.0f}s)"
                 for name, age in sorted(self.waiting.items())]
        lines += [f"{name}: {n} row(s) Processing with a lease expired over {self.stall_seconds:.0f}s ago (not rescued)"
                  for name, n in sorted(self.expired.items())]
        return lines


def queue_health(*, stall_seconds: float, worker_prefix: str = "") -> QueueHealth:
    """Per workflow: due rows waiting longer than `stall_seconds`, and leases expired that long ago;
    overall: rows worked on now and the last finished attempt (of workers whose id starts with
    `worker_prefix`, e.g. "host:" for one machine's workers)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=stall_seconds)
    health = QueueHealth(stall_seconds=stall_seconds)
    for wf in registry.all_workflows():
        model = wf.model_class
        status, available = wf.status_field, wf.f("available_at")
        oldest = model.objects.filter(
            Q(**{f"{available}__lte": cutoff}) | Q(**{f"{available}__isnull": True, f"{wf.f('queued_at')}__lte": cutoff}),
            **{status: ProcessingStatus.QUEUED},
        ).aggregate(oldest=Min(Coalesce(available, wf.f("queued_at"))))["oldest"]
        if oldest is not None:
            health.waiting[wf.name] = round((now - oldest).total_seconds(), 1)
        processing = model.objects.filter(**{status: ProcessingStatus.PROCESSING})
        expired = processing.filter(**{f"{wf.f('lease_until')}__lt": cutoff}).count()
        if expired:
            health.expired[wf.name] = expired
        live = processing.filter(**{f"{wf.f('lease_until')}__gte": now})
        if worker_prefix:
            live = live.filter(**{f"{wf.f('locked_by')}__startswith": worker_prefix})
        health.live_leases += live.count()
    attempts = ProcessingAttempt.objects.filter(finished_at__gte=cutoff)
    if worker_prefix:
        attempts = attempts.filter(worker__startswith=worker_prefix)
    health.last_progress_at = attempts.aggregate(last=Max("finished_at"))["last"]
    return health
