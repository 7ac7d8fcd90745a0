"""API routes of the contacts app (mounted under /api/v3/).

`contacts/export/` is the list's own action, so the router never shadows it with
`contacts/<pk>/` (the original's B-2).
"""
from django.urls import re_path
from rest_framework.routers import SimpleRouter

from contacts import api

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("suppressions", api.SuppressionViewSet, basename="suppression")
router.register("social-links", api.SocialLinkViewSet, basename="social-link")

urlpatterns = [
    re_path(r"^webhooks/enrichment/?$", api.EnrichmentWebhookApi.as_view(), name="webhook-enrichment"),
    *router.urls,
]
