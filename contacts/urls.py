"""API routes of the contacts app that are not a resource (mounted under /api/v3/).

The resources (contacts, suppressions, social-links) are generated from contacts/workflows.py
(curation/resource_urls.py); `contacts/export/` is the list's declared action, so the router never
shadows it with `contacts/<pk>/` (the original's B-2).
"""
from django.urls import re_path

from contacts import api

urlpatterns = [
    re_path(r"^webhooks/enrichment/?$", api.EnrichmentWebhookApi.as_view(), name="webhook-enrichment"),
]
