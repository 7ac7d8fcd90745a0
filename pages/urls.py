"""API routes of the pages app (mounted under /api/v3/).

Path converters (not regexes), so ids are checked as UUIDs by the resolver.
`domains/import/` is routed before `domains/<uuid:pk>/` by the router.
"""
from rest_framework.routers import SimpleRouter

from pages import api

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("domains", api.DomainViewSet, basename="domain")
router.register("sitemap-files", api.SitemapFileViewSet, basename="sitemap-file")
router.register("pages", api.PageViewSet, basename="page")

urlpatterns = [*router.urls]
