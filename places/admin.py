"""Admin of the places app: a "New search" form, and change lists built for fast curation.

The workflow actions (mark Selected → queues the next stage, Maybe, Rejected,
Archived, Re-run, Retry errors…), status columns and filters come from
`curation.admin.WorkflowAdminMixin`.
"""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils.html import format_html

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

from curation import dashboard
from curation.admin import (WorkflowAdminMixin, YesNoFilter, admin_link, changelist_query_link, changelist_url,
                            truncated)
from curation.services import CurationInputError
from places import budget, services
from places.models import GooglePlacesUsage, LocalBusiness, Place, PlaceSearch, PlaceSearchResult, PlaceSearchTile
from places.pricing import format_usd
from scrapersky.links import external_link


# --- helpers -----------------------------------------------------------------------------


def website_link(url: str) -> str:
    """A short link to a website: the host and path cut to 28 characters, the whole URL on hover."""
    if not url:
        return "—"
    short = url.removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/")
    return external_link(url, short, limit=28)  # unsafe schemes (javascript:...) are shown, never linked


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


# --- PlaceSearch: the "New search" form, with its cost shown before it runs ---------------------

SEARCH_INPUT_FIELDS = ("query", "location_text", "latitude", "longitude", "radius_m", "language", "region",
                       "max_results")
AREA_INPUT_FIELDS = ("cover_area", "area_text", "south", "west", "north", "east", "min_tile_m", "max_requests",
                     "max_cost_usd")
COVERAGE_FIELDS = ("area_resolved", "tiles_total", "tiles_done", "tiles_saturated", "progress", "requests_used",
                   "cost_display", "note")


class PlaceSearchForm(forms.ModelForm):
    class Meta:
        model = PlaceSearch
        fields = (*SEARCH_INPUT_FIELDS, *AREA_INPUT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "min_tile_m" in self.fields:
            self.fields["min_tile_m"].required = False  # the model's default when empty

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.instance._state.adding:
            return cleaned
        names = (*SEARCH_INPUT_FIELDS, *AREA_INPUT_FIELDS)
        params = {name: cleaned.get(name) for name in names}
        if params.get("min_tile_m") is None:
            params.pop("min_tile_m")
        try:
            self.search_params = services.place_search_clean(**params)
        except CurationInputError as exc:
            raise ValidationError(exc.message) from None
        problem = services.google_readiness()  # e.g. no key with the sandbox off: say so on the form, not a 500
        if problem:
            raise ValidationError(f"Place search cannot run: {problem}")
        self.estimate = services.place_search_estimate(**self.search_params)
        return cleaned


class PlaceSearchTileInline(admin.TabularInline):
    model = PlaceSearchTile
    fields = ("key", "status", "results", "new_places", "pages", "requests", "bounds", "error", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "tile"
    verbose_name_plural = "tiles (coverage planner)"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="south, west – north, east")
    def bounds(self, obj):
        return f"{obj.south:.5f}, {obj.west:.5f} – {obj.north:.5f}, {obj.east:.5f}"


@admin.register(PlaceSearch)
class PlaceSearchAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    form = PlaceSearchForm
    list_display = ("query", "where", "results_found", "results_new", "results_known", "progress", "cost_display",
                    "places_link", "created_by", "created_at")
    list_display_links = ("query",)
    list_filter = ("cover_area",)
    search_fields = ("query", "location_text", "area_text")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    inlines = [PlaceSearchTileInline]

    def get_inlines(self, request, obj=None):
        return [PlaceSearchTileInline] if obj is not None and obj.cover_area else []

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                ("What and where", {"fields": ("query", "location_text", "max_results")}),
                ("Or: every place in an area (past Google's 60 results)", {
                    "fields": ("cover_area", "area_text", ("south", "west", "north", "east"), "min_tile_m",
                               "max_requests", "max_cost_usd"),
                    "description": "Tick “cover the whole area” and give an area name, a bounding box, or "
                                   "latitude/longitude with a radius (below). Leave “location” empty. "
                                   "The cost is shown for confirmation before anything runs."}),
                ("Optional: circle (bias, or the area), language and region",
                 {"fields": ("latitude", "longitude", "radius_m", "language", "region"), "classes": ("collapse",)}),
            ]
        search = [*SEARCH_INPUT_FIELDS, "created_by", "created_at"]
        sets = [("Search", {"fields": search})]
        if obj.cover_area:
            sets.append(("Area", {"fields": [f for f in AREA_INPUT_FIELDS if f != "cover_area"]}))
        sets.append(("Results and cost", {"fields": ("results_found", "results_new", "results_known", "places_link",
                                                     *COVERAGE_FIELDS)}))
        sets.append(("Processing", {"fields": (
            "place_search_processing_status", "place_search_processing_error", "place_search_error_class",
            "place_search_attempts", "place_search_queued_at", "place_search_processed_at", "status_history")}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a search is a record of what was asked: not edited after the fact
            base += [*SEARCH_INPUT_FIELDS, *AREA_INPUT_FIELDS, "created_by", "created_at", "results_found",
                     "results_new", "results_known", "places_link", *COVERAGE_FIELDS]
        return base

    def add_view(self, request, form_url="", extra_context=None):
        context = {**(extra_context or {}), "title": "New place search"}
        if request.method == "POST" and "_confirmed" not in request.POST:
            form = self.get_form(request)(request.POST)
            if form.is_valid():
                # Nothing runs yet: show what it will cost and ask again.
                return TemplateResponse(request, "admin/places/confirm_cost.html", {
                    **self.admin_site.each_context(request),
                    "title": "Confirm the search and its cost",
                    "opts": self.model._meta,
                    "summary": f"{form.search_params['query']}: {form.estimate['summary']}",
                    "estimate": form.estimate,
                    "spend": budget.spend_today(),
                    "hidden": [(k, v) for k, values in request.POST.lists() for v in values
                               if k not in ("csrfmiddlewaretoken",)],
                    "confirm_label": "Run the search",
                })
        return super().add_view(request, form_url, context)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        search = services.place_search_create(**form.search_params, user=request.user)
        # The admin goes on with `obj` (messages, redirect): make it the created, queued row.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(search, field.attname))
        obj._state.adding = False
        obj._state.db = search._state.db

    @admin.display(description="where")
    def where(self, obj):
        return str(obj).removeprefix(obj.query).removeprefix(" in ").removeprefix(" — ")

    @admin.display(description="coverage")
    def progress(self, obj):
        if not obj.cover_area:
            return obj.note or "—"
        if not obj.tiles_total:
            return "not started"
        done = obj.tiles_done * 100 // obj.tiles_total
        saturated = f", {obj.tiles_saturated} saturated" if obj.tiles_saturated else ""
        return format_html('<progress max="{}" value="{}" title="{}%"></progress> {} of {} tiles{}{}',
                           obj.tiles_total, obj.tiles_done, done, obj.tiles_done, obj.tiles_total, saturated,
                           f" — {obj.note}" if obj.note else "")

    @admin.display(description="cost", ordering="cost_micros")
    def cost_display(self, obj):
        return f"{format_usd(obj.cost_micros)} ({obj.requests_used} requests)"

    @admin.display(description="places")
    def places_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return changelist_query_link(Place, f"search={obj.pk}", f"{obj.results_found or 0} place(s)")


# --- cost confirmation of deep scans ------------------------------------------------------------

def confirm_cost_page(modeladmin, request, queryset, *, action_name: str, estimate: dict, confirm_label: str):
    """The "this will cost ≈ $X for N places" page: it posts the same action again, confirmed."""
    ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1]]
    return TemplateResponse(request, "admin/places/confirm_cost.html", {
        **modeladmin.admin_site.each_context(request),
        "title": "Confirm the cost",
        "opts": modeladmin.model._meta,
        "summary": estimate["summary"],
        "estimate": estimate,
        "spend": budget.spend_today(),
        "hidden": [(ACTION_CHECKBOX_NAME, pk) for pk in ids] + [("action", action_name)],
        "confirm_label": confirm_label,
    })


def _confirmed(func, name: str, label: str, *, reprocess: bool):
    """Wrap a generated workflow action so that it first shows what it will cost."""
    def action(modeladmin, request, queryset):
        if "_confirmed" in request.POST:
            return func(modeladmin, request, queryset)
        ids = list(queryset.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])
        estimate = services.deep_scan_estimate(ids=ids, reprocess=reprocess)
        return confirm_cost_page(modeladmin, request, queryset, action_name=name, estimate=estimate,
                                 confirm_label=label)

    action.__name__ = name
    action.allowed_permissions = ("change",)
    return action


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
               "google_maps_uri", "first_seen_at", "last_seen_at", "last_deep_scanned_at", "deep_scan_requests",
               "deep_scan_cost_micros", "moved_to", "first_search", "last_search", "raw")


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

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Queueing deep scans spends money: both show the cost first.
        for name, label, reprocess in (("deep_scan__selected", "Deep-scan them", False),
                                       ("deep_scan__rerun", "Deep-scan them again", True)):
            if name in actions:
                func, _name, description = actions[name]
                actions[name] = (_confirmed(func, name, label, reprocess=reprocess), name,
                                 f"{description} — shows the cost first")
        if self.has_change_permission(request):
            actions["follow_moved"] = (self.follow_moved, "follow_moved",
                                       "Deep scan: the places these moved to (Google's movedPlaceId)")
        return actions

    def follow_moved(self, modeladmin, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])
        try:
            result = services.place_moved_follow(ids=ids, actor=request.user)
        except CurationInputError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(request, f"Deep scan of the moved places: {result.message}", messages.SUCCESS)
        return None

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
                  "utc_offset_minutes", "time_zone", "business_status", "moved_place_id", "google_maps_uri",
                  "last_scanned_at",
                  "website_normalized", "website_kind", "website_note", "social_links", "domain_link",
                  "raw")


@admin.register(LocalBusiness)
class LocalBusinessAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    # later apps add their links (contacts…) through curation.admin_links
    list_display = ("name", "city", "primary_category", "rating_display", "phone_e164", "website_display",
                    "website_kind", "place_link", "domain_link")
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

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            actions["rescan"] = (self.rescan, "rescan", "Re-scan (deep scan again, shows the cost first)")
        return actions

    def rescan(self, modeladmin, request, queryset):
        if "_confirmed" not in request.POST:
            places = list(queryset.exclude(source_place__isnull=True).values_list("source_place_id", flat=True))
            return confirm_cost_page(self, request, queryset, action_name="rescan",
                                     estimate=services.deep_scan_estimate(ids=places), confirm_label="Re-scan them")
        ids = list(queryset.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])
        try:
            result = services.business_rescan(ids=ids, actor=request.user)
        except CurationInputError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        parts = [f"{result['queued']} queued for a deep scan"]
        if result["skipped"]:
            parts.append(f"{result['skipped']} skipped (Rejected, or already queued)")
        if result["over_budget"]:
            parts.append(f"{result['over_budget']} left for another day (today's Places budget)")
        self.message_user(request, "Re-scan: " + "; ".join(parts) + ".",
                          messages.WARNING if result["over_budget"] else messages.SUCCESS)
        return None

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


@admin.register(GooglePlacesUsage)
class GooglePlacesUsageAdmin(admin.ModelAdmin):
    """Requests and their list price counted against the daily budgets, per UTC day (read-only)."""

    list_display = ("day", "requests", "search_requests", "details_requests", "cost", "updated_at")

    @admin.display(description="cost (list price)", ordering="cost_micros")
    def cost(self, obj):
        return format_usd(obj.cost_micros)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the pipeline dashboard: this app's stages and the Places spend --------------------------------

def _spend_rows() -> list[tuple[str, str]]:
    today = budget.spend_today()
    week = GooglePlacesUsage.objects.filter(day__gt=budget.today() - timedelta(days=7)).aggregate(
        n=Sum("requests"), cost=Sum("cost_micros"))
    limit = today["request_limit"]
    return [
        ("Spent today (UTC, list price)", f"{today['cost']} of {today['budget']}" if today["budget"] else today["cost"]),
        ("Requests today", f"{today['requests']} of {limit}" if limit else f"{today['requests']} (no daily limit)"),
        ("Text Search / Place Details today", f"{today['search_requests']} / {today['details_requests']}"),
        ("Last 7 days", f"{week['n'] or 0} requests, {format_usd(week['cost'] or 0)}"),
    ]


dashboard.register_stage(dashboard.FunnelStage("searches", "searches", 10, PlaceSearch.objects.count,
                                               lambda: changelist_url(PlaceSearch)))
dashboard.register_stage(dashboard.FunnelStage("places", "places", 20, Place.objects.count,
                                               lambda: changelist_url(Place)))
dashboard.register_stage(dashboard.FunnelStage("businesses", "businesses", 30, LocalBusiness.objects.count,
                                               lambda: changelist_url(LocalBusiness)))
dashboard.register_panel(dashboard.Panel("places-spend", "Google Places spend", _spend_rows))
