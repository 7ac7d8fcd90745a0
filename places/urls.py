"""API routes of the places app (mounted under /api/v3/).

The seed-compatible `places/staging` routes come first, so that the router's
`places/<pk>/` never shadows them (the original's B-2).
"""
from django.urls import re_path
from rest_framework.routers import SimpleRouter

from places import api

router = SimpleRouter(trailing_slash=True, use_regex_path=False)  # path converters: <uuid:pk>
router.register("place-searches", api.PlaceSearchViewSet, basename="place-search")
router.register("places", api.PlaceViewSet, basename="place")
router.register("local-businesses", api.LocalBusinessViewSet, basename="local-business")

urlpatterns = [
    re_path(r"^places/staging/?$", api.PlacesStagingApi.as_view(), name="places-staging"),
    re_path(r"^places/staging/status/?$", api.PlacesStagingStatusApi.as_view(), name="places-staging-status"),
    *router.urls,
]
