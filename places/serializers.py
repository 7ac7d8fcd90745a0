"""Serializers of the places API: every resource carries its workflow statuses and error fields (B-3)."""
from __future__ import annotations

from rest_framework import serializers

from places.google import MAX_BIAS_RADIUS_M, MAX_SEARCH_RESULTS
from places.models import LocalBusiness, Place, PlaceSearch
from places.pricing import micros_to_usd

_ENGINE_SUFFIXES = ("processing_status", "processing_error", "error_class", "attempts", "queued_at", "processed_at")


def _workflow_fields(name: str, *, curation: bool = True) -> list[str]:
    return ([f"{name}_curation_status"] if curation else []) + [f"{name}_{s}" for s in _ENGINE_SUFFIXES]


class PlaceSearchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PlaceSearch
        fields = [
            "id", "query", "location_text", "latitude", "longitude", "radius_m", "language", "region",
            "max_results", "cover_area", "area_text", "south", "west", "north", "east", "min_tile_m",
            "max_requests", "max_cost_usd", "area_resolved", "created_by", "results_found", "results_new",
            "results_known", "tiles_total", "tiles_done", "tiles_saturated", "requests_used", "cost_usd", "note",
            *_workflow_fields("place_search", curation=False), "created_at", "updated_at",
        ]
        read_only_fields = fields

    cost_usd = serializers.SerializerMethodField(help_text="List price of the requests so far (places/pricing.py).")

    def get_cost_usd(self, obj) -> str:
        return str(micros_to_usd(obj.cost_micros))


class PlaceSearchCreateSerializer(serializers.Serializer):
    """POST /place-searches/: starts a search (queued at once)."""

    query = serializers.CharField(max_length=200, help_text='Business type, e.g. "dentist".')
    location_text = serializers.CharField(max_length=255, required=False, allow_blank=True, default="",
                                          help_text='Where, e.g. "Austin, TX".')
    latitude = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-180, max_value=180)
    radius_m = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                        max_value=int(MAX_BIAS_RADIUS_M))
    language = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    max_results = serializers.IntegerField(required=False, default=MAX_SEARCH_RESULTS, min_value=1,
                                           max_value=MAX_SEARCH_RESULTS)
    cover_area = serializers.BooleanField(required=False, default=False,
                                          help_text="Every place in the area (the coverage planner), past 60 results.")
    area_text = serializers.CharField(max_length=255, required=False, allow_blank=True, default="",
                                      help_text='The area by name, looked up once, e.g. "Austin, TX".')
    south = serializers.FloatField(required=False, allow_null=True, default=None)
    west = serializers.FloatField(required=False, allow_null=True, default=None)
    north = serializers.FloatField(required=False, allow_null=True, default=None)
    east = serializers.FloatField(required=False, allow_null=True, default=None)
    min_tile_m = serializers.IntegerField(required=False, min_value=50, help_text="Smallest tile in metres (250).")
    max_requests = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    max_cost_usd = serializers.DecimalField(required=False, allow_null=True, default=None, max_digits=10,
                                            decimal_places=2, min_value=0)


class PlaceSearchEstimateSerializer(serializers.Serializer):
    """What a search would cost (POST /place-searches/estimate/): nothing is created."""

    kind = serializers.CharField()
    summary = serializers.CharField()
    search_sku = serializers.CharField()
    min_requests = serializers.IntegerField()
    max_requests = serializers.IntegerField(allow_null=True)
    total = serializers.CharField(help_text="List price of the first pass (area) or of every page (plain).")


class SearchProvenanceSerializer(serializers.Serializer):
    search = serializers.UUIDField(source="search_id")
    rank = serializers.IntegerField()
    query = serializers.CharField(source="search.query")
    location_text = serializers.CharField(source="search.location_text")
    found_at = serializers.DateTimeField()


class PlaceSerializer(serializers.ModelSerializer):
    category = serializers.CharField(read_only=True)
    found_by = SearchProvenanceSerializer(source="search_results", many=True, read_only=True)
    business = serializers.SerializerMethodField()

    class Meta:
        model = Place
        fields = [
            "id", "place_id", "name", "formatted_address", "category", "primary_type", "types", "latitude",
            "longitude", "rating", "user_rating_count", "price_level", "business_status", "website",
            "website_domain", "phone", "google_maps_uri", "first_seen_at", "last_seen_at", "last_deep_scanned_at",
            "first_search", "last_search", "found_by", "business", *_workflow_fields("deep_scan"),
            "created_at", "updated_at",
        ]
        read_only_fields = fields


    def get_business(self, obj) -> str | None:
        business = getattr(obj, "business", None)  # reverse one-to-one: absent until deep-scanned
        return str(business.pk) if business is not None else None


class PlaceDetailSerializer(PlaceSerializer):
    class Meta(PlaceSerializer.Meta):
        fields = [*PlaceSerializer.Meta.fields, "raw"]
        read_only_fields = fields


class BusinessDomainRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    domain = serializers.CharField()


class LocalBusinessSerializer(serializers.ModelSerializer):
    place = serializers.PrimaryKeyRelatedField(source="source_place", read_only=True)
    domain = BusinessDomainRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = LocalBusiness
        fields = [
            "id", "place_id", "place", "name", "formatted_address", "street", "city", "region", "postal_code",
            "country_code", "phone_national", "phone_e164", "website", "website_normalized", "website_kind",
            "website_note", "social_links", "domain", "primary_category", "categories", "rating", "reviews_count",
            "price_level", "price_text", "opening_hours", "latitude", "longitude", "utc_offset_minutes",
            "time_zone", "moved_place_id", "business_status", "google_maps_uri", "last_scanned_at", *_workflow_fields("domain_extraction"),
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class LocalBusinessDetailSerializer(LocalBusinessSerializer):
    class Meta(LocalBusinessSerializer.Meta):
        fields = [*LocalBusinessSerializer.Meta.fields, "raw"]
        read_only_fields = fields
