"""API routes of the places app (mounted under /api/v3/).

The original system's `places/staging` routes are generated from the deep_scan
declaration (curation.legacy) and mounted before these, so the router's
`places/<pk>/` never shadows them (the original's B-2).
"""
from rest_framework.routers import SimpleRouter

from places import api

router = SimpleRouter(trailing_slash=True, use_regex_path=False)  # path converters: <uuid:pk>
router.register("place-searches", api.PlaceSearchViewSet, basename="place-search")
router.register("places", api.PlaceViewSet, basename="place")
router.register("local-businesses", api.LocalBusinessViewSet, basename="local-business")

urlpatterns = [*router.urls]
