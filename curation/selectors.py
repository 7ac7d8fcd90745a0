"""Read-only views of the queues, for the operator page, the API and `workflow_status`."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from curation import registry
from curation.choices import ProcessingStatus
from curation.workflow import Workflow


def workflow_overview(workflow: Workflow) -> dict:
    """Counts by status, the oldest queued row's age, last hour's throughput and errors by class."""
    model = workflow.model_class
    now = timezone.now()
    processing = {status: 0 for status in ["none", *ProcessingStatus.values]}
    for row in model.objects.values(workflow.status_field).annotate(n=Count("pk")).order_by():
        processing[row[workflow.status_field] or "none"] = row["n"]
    curation = {}
    if workflow.curation:
        curation = {value: 0 for value in workflow.curation_values()}
        for row in model.objects.values(workflow.curation_field).annotate(n=Count("pk")).order_by():
            curation[row[workflow.curation_field]] = row["n"]
    oldest = model.objects.filter(**{workflow.status_field: ProcessingStatus.QUEUED}).aggregate(
        oldest=Min(workflow.f("queued_at"))
    )["oldest"]
    hour_ago = now - timedelta(hours=1)
    finished = model.objects.filter(**{f"{workflow.f('processed_at')}__gte": hour_ago})
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
    }


def workflows_overview() -> list[dict]:
    return [workflow_overview(wf) for wf in sorted(registry.all_workflows(), key=lambda w: w.name)]
