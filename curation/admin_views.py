"""The operator page: every workflow's queue at a glance."""
from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse

from curation import selectors
from curation.admin import operator_rows


def operator_view(request):
    rows = operator_rows(selectors.workflows_overview())
    return TemplateResponse(
        request,
        "admin/curation/operator.html",
        {**admin.site.each_context(request), "title": "Workflows — operator view", "rows": rows},
    )
