"""Admin of the places app: a "New search" form, and change lists built for fast curation.

The workflow actions (mark Selected → queues the next stage, Maybe, Rejected,
Archived, Re-run, Retry errors…), status columns and filters come from
`curation.admin.WorkflowAdminMixin`.
"""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils.html import format_html

from curation import dashboard
from curation.admin import (WorkflowAdminMixin, YesNoFilter, admin_link, changelist_query_link, changelist_url,
                            truncated)
from curation.services import CurationInputError
from places import budget, services
from places.models import GooglePlacesUsage, LocalBusiness, Place, PlaceSearch, PlaceSearchResult


# --- helpers -----------------------------------------------------------------------------


def website_link(url: str) -> str:
    """A short link to a website: the host and path cut to 28 characters, the whole URL on hover."""
    if not url:
        return "—"
    short = url.removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/")
    short = short if len(short) <= 28 else short[:27] + "…"
    return format_html('<a href="{}" title="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, url, short)


# --- list filters that help curators decide fast ---------------------------------------------

class HasWebsiteFilter(YesNoFilter):
    title = "has website"
    parameter_name = "has_website"

    def condition(self):
        return ~Q(website="")


class PlaceHasPhoneFilter(YesNoFilter):
    title = "has phone"
    parameter_name = "has_phone"

    def condition(self):
        return ~Q(phone="")


class BusinessHasPhoneFilter(YesNoFilter):
    title = "has phone"
    parameter_name = "has_phone"

    def condition(self):
        return ~Q(phone_e164="") | ~Q(phone_national="")


class HasBusinessFilter(YesNoFilter):
    title = "deep-scanned"
    parameter_name = "has_business"

    def condition(self):
        return Q(business__isnull=False)


class HasDomainFilter(YesNoFilter):
    title = "has domain"
    parameter_name = "has_domain"

    def condition(self):
        return Q(domain__isnull=False)


class PlaceChainFilter(YesNoFilter):
    """The same website on several places: a chain or a franchise (usually one decision for all)."""

    title = "chain (same website on several places)"
    parameter_name = "chain"

    def condition(self):
        shared = (Place.objects.exclude(website_domain="").values("website_domain").annotate(n=Count("pk"))
                  .filter(n__gt=1).values("website_domain"))
        return Q(website_domain__in=shared)


class BusinessChainFilter(YesNoFilter):
    title = "chain (same domain on several businesses)"
    parameter_name = "chain"

    def condition(self):
        shared = (LocalBusiness.objects.filter(domain__isnull=False).values("domain").annotate(n=Count("pk"))
                  .filter(n__gt=1).values("domain"))
        return Q(domain__in=shared)


class RatingBandFilter(admin.SimpleListFilter):
    title = "rating"
    parameter_name = "rating_band"
    BANDS = {
        "4.5+": Q(rating__gte=4.5),
        "4-4.5": Q(rating__gte=4.0, rating__lt=4.5),
        "3-4": Q(rating__gte=3.0, rating__lt=4.0),
        "<3": Q(rating__lt=3.0),
        "none": Q(rating__isnull=True),
    }

    def lookups(self, request, model_admin):
        return (("4.5+", "4.5 and up"), ("4-4.5", "4.0 – 4.4"), ("3-4", "3.0 – 3.9"), ("<3", "below 3"),
                ("none", "no rating"))

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value() or "")
        return queryset.filter(band) if band is not None else queryset


class FoundBySearchFilter(admin.SimpleListFilter):
    title = "found by search"
    parameter_name = "search"

    def lookups(self, request, model_admin):
        return [(str(s.pk), f"{s} ({s.created_at:%Y-%m-%d %H:%M})") for s in PlaceSearch.objects.order_by("-created_at")[:25]]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            search = PlaceSearch._meta.pk.to_python(value)
        except ValidationError:
            return queryset.none()
        return queryset.filter(search_results__search_id=search)


# --- PlaceSearch: the "New search" form ---------------------------------------------------------

SEARCH_INPUT_FIELDS = ("query", "location_text", "latitude", "longitude", "radius_m", "language", "region",
                       "max_results")


class PlaceSearchForm(forms.ModelForm):
    class Meta:
        model = PlaceSearch
        fields = SEARCH_INPUT_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.instance._state.adding:
            return cleaned
        try:
            self.search_params = services.place_search_clean(**{name: cleaned.get(name) for name in SEARCH_INPUT_FIELDS})
        except CurationInputError as exc:
            raise ValidationError(exc.message) from None
        return cleaned


@admin.register(PlaceSearch)
class PlaceSearchAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    form = PlaceSearchForm
    list_display = ("query", "location_text", "max_results", "results_found", "results_new", "results_known",
                    "places_link", "created_by", "created_at")
    list_display_links = ("query",)
    search_fields = ("query", "location_text")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                ("What and where", {"fields": ("query", "location_text", "max_results")}),
                ("Optional: bias to a circle, language and region",
                 {"fields": ("latitude", "longitude", "radius_m", "language", "region"), "classes": ("collapse",)}),
            ]
        return [
            ("Search", {"fields": (*SEARCH_INPUT_FIELDS, "created_by", "created_at")}),
            ("Results", {"fields": ("results_found", "results_new", "results_known", "places_link")}),
            ("Processing", {"fields": (
                "place_search_processing_status", "place_search_processing_error", "place_search_error_class",
                "place_search_attempts", "place_search_queued_at", "place_search_processed_at", "status_history")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a search is a record of what was asked: not edited after the fact
            base += [*SEARCH_INPUT_FIELDS, "created_by", "created_at", "results_found", "results_new",
                     "results_known", "places_link"]
        return base

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, {**(extra_context or {}), "title": "New place search"})

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        search = services.place_search_create(**form.search_params, user=request.user)
        # The admin goes on with `obj` (messages, redirect): make it the created, queued row.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(search, field.attname))
        obj._state.adding = False
        obj._state.db = search._state.db

    @admin.display(description="places")
    def places_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return changelist_query_link(Place, f"search={obj.pk}", f"{obj.results_found or 0} place(s)")


# --- Place ------------------------------------------------------------------------------------------

class PlaceSearchResultInline(admin.TabularInline):
    model = PlaceSearchResult
    fk_name = "place"
    fields = ("search_link", "rank", "found_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "found by search"
    verbose_name_plural = "found by searches (provenance)"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="search")
    def search_link(self, obj):
        return admin_link(obj.search)


PLACE_FACTS = ("place_id", "name", "formatted_address", "primary_type", "types", "latitude", "longitude", "rating",
               "user_rating_count", "price_level", "business_status", "website", "website_domain", "phone",
               "google_maps_uri", "first_seen_at", "last_seen_at", "last_deep_scanned_at", "first_search",
               "last_search", "raw")


@admin.register(Place)
class PlaceAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("name", "rating_display", "primary_type", "business_status", "website_display", "phone",
                    "short_address", "search_link", "business_link", "last_seen_at")
    list_filter = (HasWebsiteFilter, PlaceHasPhoneFilter, "business_status", RatingBandFilter, "primary_type",
                   FoundBySearchFilter, PlaceChainFilter, HasBusinessFilter)
    search_fields = ("name", "formatted_address", "place_id", "website", "phone")
    list_select_related = ("business", "first_search")
    list_per_page = 100
    inlines = [PlaceSearchResultInline]
    fields = (*PLACE_FACTS, "business_link")

    def get_readonly_fields(self, request, obj=None):
        return [*PLACE_FACTS, "business_link", *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False  # places come from searches

    @admin.display(description="rating", ordering="rating")
    def rating_display(self, obj):
        if obj.rating is None:
            return "—"
        return f"{obj.rating:.1f} ({obj.user_rating_count or 0})"

    @admin.display(description="website", ordering="website_domain")
    def website_display(self, obj):
        return website_link(obj.website)

    @admin.display(description="address")
    def short_address(self, obj):
        return truncated(obj.formatted_address, 32)

    @admin.display(description="found by", ordering="first_search__created_at")
    def search_link(self, obj):
        return admin_link(obj.first_search, obj.first_search.query) if obj.first_search_id else "—"

    @admin.display(description="business")
    def business_link(self, obj):
        business = getattr(obj, "business", None)
        return admin_link(business, "business") if business is not None else "—"


# --- LocalBusiness --------------------------------------------------------------------------------------

BUSINESS_FACTS = ("place_id", "place_link", "name", "formatted_address", "street", "city", "region", "postal_code",
                  "country_code", "phone_national", "phone_e164", "website", "primary_category", "categories",
                  "rating", "reviews_count", "price_level", "price_text", "opening_hours", "latitude", "longitude",
                  "utc_offset_minutes", "time_zone", "business_status", "google_maps_uri", "last_scanned_at",
                  "website_normalized", "website_kind", "website_note", "social_links", "domain_link", "contacts_link",
                  "raw")


@admin.register(LocalBusiness)
class LocalBusinessAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("name", "city", "primary_category", "rating_display", "phone_e164", "website_display",
                    "website_kind", "place_link", "domain_link", "contacts_link")
    list_filter = (HasWebsiteFilter, BusinessHasPhoneFilter, "business_status", RatingBandFilter, "primary_category",
                   "website_kind", HasDomainFilter, BusinessChainFilter, "country_code")
    search_fields = ("name", "formatted_address", "place_id", "website", "phone_e164", "city", "domain__domain")
    list_select_related = ("domain", "source_place")
    list_per_page = 100
    fields = BUSINESS_FACTS

    def get_readonly_fields(self, request, obj=None):
        return [*BUSINESS_FACTS, *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False  # businesses come from deep scans

    def get_queryset(self, request):
        from contacts.models import Contact
        from pages.services import count_of

        return super().get_queryset(request).annotate(contact_count=count_of(Contact, "business"))

    @admin.display(description="rating", ordering="rating")
    def rating_display(self, obj):
        if obj.rating is None:
            return "—"
        return f"{obj.rating:.1f} ({obj.reviews_count or 0})"

    @admin.display(description="website", ordering="website")
    def website_display(self, obj):
        return website_link(obj.website)

    @admin.display(description="domain", ordering="domain__domain")
    def domain_link(self, obj):
        return admin_link(obj.domain) if obj.domain_id else "—"

    @admin.display(description="place")
    def place_link(self, obj):
        return admin_link(obj.source_place, "place") if obj.source_place_id else "—"

    @admin.display(description="contacts", ordering="contact_count")
    def contacts_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        from contacts.models import Contact

        count = getattr(obj, "contact_count", None)
        if count is None:
            count = obj.contacts.count()
        return changelist_query_link(Contact, f"business={obj.pk}", f"{count} contact(s)")


@admin.register(GooglePlacesUsage)
class GooglePlacesUsageAdmin(admin.ModelAdmin):
    """Requests counted against GOOGLE_PLACES_DAILY_LIMIT, per UTC day (read-only)."""

    list_display = ("day", "requests", "search_requests", "details_requests", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the pipeline dashboard: this app's stages and the Places spend --------------------------------

def _spend_rows() -> list[tuple[str, str]]:
    today = GooglePlacesUsage.objects.filter(day=budget.today()).first()
    week = GooglePlacesUsage.objects.filter(day__gt=budget.today() - timedelta(days=7)).aggregate(n=Sum("requests"))["n"]
    daily_limit = budget.limit()
    used = today.requests if today else 0
    return [
        ("Requests today (UTC)", f"{used} of {daily_limit}" if daily_limit > 0 else f"{used} (no daily limit)"),
        ("Text Search / Place Details today",
         f"{today.search_requests if today else 0} / {today.details_requests if today else 0}"),
        ("Requests in the last 7 days", str(week or 0)),
    ]


dashboard.register_stage(dashboard.FunnelStage("searches", "searches", 10, PlaceSearch.objects.count,
                                               lambda: changelist_url(PlaceSearch)))
dashboard.register_stage(dashboard.FunnelStage("places", "places", 20, Place.objects.count,
                                               lambda: changelist_url(Place)))
dashboard.register_stage(dashboard.FunnelStage("businesses", "businesses", 30, LocalBusiness.objects.count,
                                               lambda: changelist_url(LocalBusiness)))
dashboard.register_panel(dashboard.Panel("places-spend", "Google Places spend", _spend_rows))
