"""The operator page: the pipeline dashboard and every workflow's queue at a glance, kept live."""
from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from curation import dashboard, selectors
from curation.admin import operator_rows


def operator_view(request):
    overview = selectors.workflows_overview()
    rows = operator_rows(overview)
    series = dashboard.throughput()
    context = {
        **admin.site.each_context(request),
        "title": "Pipeline",
        "rows": rows,
        "funnel": dashboard.funnel(),
        "errors_by_class": dashboard.errors_by_class(overview),
        "panels": dashboard.panels(),
        "chart": dashboard.throughput_svg(series),
        "operator_live": {"url": reverse("curation-operator-status"), "in_flight": sum(r["in_flight"] for r in rows)},
    }
    return TemplateResponse(request, "admin/curation/operator.html", context)


def operator_status_view(request):
    """The operator page's counts as JSON, for its live refresh (live.js)."""
    rows = operator_rows(selectors.workflows_overview())
    return JsonResponse({"workflows": [
        {"name": r["name"], "processing_counts": r["processing_counts"], "in_flight": r["in_flight"],
         "completed_last_hour": r["completed_last_hour"], "errored_last_hour": r["errored_last_hour"]}
        for r in rows
    ]})
