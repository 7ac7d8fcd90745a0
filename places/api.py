"""The places API (DESIGN §5): place-searches (POST starts one), places, local-businesses.

The original system's staging routes are generated from the deep_scan declaration (curation.legacy).

Views are thin: they validate input and call one service.
"""
from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from curation.services import CurationInputError
from places import serializers as s
from places import services
from places.filters import LocalBusinessFilterSet, PlaceFilterSet, PlaceSearchFilterSet
from places.models import LocalBusiness, Place, PlaceSearch, PlaceSearchResult


def _flatten(errors) -> str:
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {' '.join(map(str, v))}" for k, v in messages.items()]
        elif not isinstance(messages, (list, tuple)):
            messages = [messages]
        parts.append(f"{name}: {' '.join(map(str, messages))}")
    return "; ".join(parts)


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise CurationInputError(_flatten(serializer.errors))
    return serializer.validated_data


def _require_perm(request, perm: str, what: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"{what} needs the {perm} permission")


class PlaceSearchViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Place searches (WF1). POST starts one: it is queued at once and runs in the background."""

    lookup_value_converter = "uuid"
    queryset = PlaceSearch.objects.select_related("created_by").order_by("-created_at")
    serializer_class = s.PlaceSearchSerializer
    filterset_class = PlaceSearchFilterSet
    search_fields = ["query", "location_text"]
    ordering_fields = ["created_at", "query", "location_text", "results_found", "results_new",
                       "place_search_processing_status"]
    ordering = ["-created_at"]

    @extend_schema(request=s.PlaceSearchCreateSerializer, responses={201: s.PlaceSearchSerializer},
                   summary="Start a place search (queued at once)")
    def create(self, request, *args, **kwargs):
        _require_perm(request, "places.add_placesearch", "Starting a place search")
        data = _valid(s.PlaceSearchCreateSerializer, request.data)
        search = services.place_search_create(**data, user=request.user)
        return Response(s.PlaceSearchSerializer(search).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PlaceSearchCreateSerializer, responses={200: s.PlaceSearchEstimateSerializer},
                   summary="What a place search would cost (nothing is created)")
    @action(detail=False, methods=["post"])
    def estimate(self, request):
        _require_perm(request, "places.add_placesearch", "Estimating a place search")
        data = _valid(s.PlaceSearchCreateSerializer, request.data)
        estimate = services.place_search_estimate(**services.place_search_clean(**data))
        return Response(s.PlaceSearchEstimateSerializer(estimate).data)


class PlaceViewSet(viewsets.ReadOnlyModelViewSet):
    """Places found by searches (the staging table); curate them with PUT /workflows/deep_scan/status."""

    lookup_value_converter = "uuid"
    queryset = Place.objects.select_related("business").prefetch_related(
        Prefetch("search_results", queryset=PlaceSearchResult.objects.select_related("search").order_by("found_at"))
    ).order_by("-last_seen_at", "name")
    filterset_class = PlaceFilterSet
    search_fields = ["name", "formatted_address", "place_id", "website", "phone"]
    ordering_fields = ["name", "rating", "user_rating_count", "first_seen_at", "last_seen_at", "updated_at",
                       "created_at", "business_status", "primary_type", "deep_scan_curation_status",
                       "deep_scan_processing_status"]
    ordering = ["-last_seen_at", "name"]

    def get_serializer_class(self):
        return s.PlaceDetailSerializer if self.action == "retrieve" else s.PlaceSerializer


class LocalBusinessViewSet(viewsets.ReadOnlyModelViewSet):
    """Deep-scanned businesses; curate them with PUT /workflows/domain_extraction/status."""

    lookup_value_converter = "uuid"
    queryset = LocalBusiness.objects.select_related("domain").order_by("name")
    filterset_class = LocalBusinessFilterSet
    search_fields = ["name", "formatted_address", "place_id", "website", "phone_e164", "city"]
    ordering_fields = ["name", "rating", "reviews_count", "city", "last_scanned_at", "updated_at", "created_at",
                       "business_status", "website_kind", "domain_extraction_curation_status",
                       "domain_extraction_processing_status"]
    ordering = ["name"]

    def get_serializer_class(self):
        return s.LocalBusinessDetailSerializer if self.action == "retrieve" else s.LocalBusinessSerializer
