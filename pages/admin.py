"""Admin of the pages app: domains → sitemap files → pages → page contents, and back to the businesses.

The workflow actions (Selected queues discovery / import / scrape, Maybe,
Rejected, Archived, Re-run, Retry errors…), status columns and filters come
from `curation.admin.WorkflowAdminMixin`. On domains and pages, "Select
suggested contact pages of these domains" queues the page scrape of every
suggested page of the chosen domains (`pages.services.pages_select_suggested`).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from curation import admin_links, dashboard
from curation.counting import PageAnnotationsMixin
from curation.admin import (WorkflowAdminMixin, YesNoFilter, admin_link, changelist_query_link, changelist_url,
                            id_filter, truncated)
from curation.services import CurationInputError
from pages import services
from pages.models import Domain, DomainKind, DomainSource, Page, PageContent, SitemapFile
from places.domains import SITE_BUILDER, domain_key, normalize_website
from scrapersky.links import external_link as _external_link


# --- helpers -----------------------------------------------------------------------------


def short_url(url: str, limit: int = 48) -> str:
    """A URL without its scheme, cut to `limit` characters with the whole URL on hover."""
    text = (url or "").removeprefix("https://").removeprefix("http://")
    if len(text) <= limit:
        return text
    return format_html('<span class="t" title="{}">{}…</span>', url, text[: limit - 1])


def external_link(url: str, limit: int = 70) -> str:
    if not url:
        return "—"
    return _external_link(url, short_url(url, limit), limit=limit)  # never links javascript: and the like


class HasContentFilter(YesNoFilter):
    title = "scraped (has content)"
    parameter_name = "has_content"

    def condition(self):
        return Q(content__isnull=False)


class HasFetchErrorFilter(YesNoFilter):
    title = "could not be read"
    parameter_name = "has_fetch_error"

    def condition(self):
        return ~Q(fetch_error="")


class HasBusinessesFilter(YesNoFilter):
    title = "linked to a business"
    parameter_name = "has_businesses"

    def condition(self):
        return Q(businesses__isnull=False)

    def queryset(self, request, queryset):
        return super().queryset(request, queryset).distinct()


def _select_suggested(modeladmin, request, domain_ids) -> None:
    try:
        result = services.pages_select_suggested(domain_ids=domain_ids, actor=request.user, source="admin")
    except CurationInputError as exc:
        modeladmin.message_user(request, f"Page scrape: {exc.message}", messages.ERROR)
        return
    modeladmin.message_user(request, f"Page scrape: suggested contact pages — {result.message}", messages.SUCCESS)


def _add_select_suggested(modeladmin, request, actions: dict, domain_ids_of) -> dict:
    if not request.user.has_perm("pages.change_page"):
        return actions

    def select_suggested_pages(modeladmin, request, queryset):
        _select_suggested(modeladmin, request, domain_ids_of(queryset))

    select_suggested_pages.allowed_permissions = ()
    description = "Select suggested contact pages of these domains (queues page scrape)"
    actions["select_suggested_pages"] = (select_suggested_pages, "select_suggested_pages", description)
    return actions


# --- Domain ---------------------------------------------------------------------------------

class SitemapFileInline(admin.TabularInline):
    model = SitemapFile
    fk_name = "domain"
    fields = ("file_link", "sitemap_type", "discovered_how", "depth", "url_count", "fetch_error",
              "sitemap_import_curation_status", "sitemap_import_processing_status")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "sitemap files"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="sitemap")
    def file_link(self, obj):
        return admin_link(obj, short_url(obj.url))


DOMAIN_FACTS = ("domain", "kind", "source", "homepage_url", "title", "meta_description", "language",
                "last_fetched_at", "has_sitemap", "sitemap_count", "discovery_note", "discovered_at")


class DomainForm(forms.ModelForm):
    """Adding a domain by hand: normalised like the API's direct submission ("https://www.Foo.co.uk/x" → foo.co.uk)."""

    class Meta:
        model = Domain
        fields = ("domain",)

    def clean_domain(self):
        value = self.cleaned_data["domain"]
        if not self.instance._state.adding:
            return value
        try:
            info = normalize_website(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        key = domain_key(info)
        if key is None:
            raise ValidationError(f"Not a site to crawl: {info.reason}")
        if Domain.objects.filter(domain=key).exists():
            raise ValidationError(f"{key} is already known")
        parts = urlsplit(info.url)
        self.instance.kind = DomainKind.SITE_BUILDER if info.kind == SITE_BUILDER else DomainKind.OWN_SITE
        self.instance.homepage_url = info.url if info.kind == SITE_BUILDER else f"{parts.scheme}://{parts.netloc}"
        self.instance.source = DomainSource.DIRECT
        return key


@admin.register(Domain)
class DomainAdmin(PageAnnotationsMixin, WorkflowAdminMixin, admin.ModelAdmin):
    form = DomainForm
    list_display = ("domain", "kind", "source", "businesses_link", "has_sitemap", "sitemaps_link", "pages_link",
                    "title", "created_at")
    list_filter = ("has_sitemap", "kind", "source", HasBusinessesFilter)
    search_fields = ("domain", "title", "homepage_url")
    list_per_page = 100
    inlines = [SitemapFileInline]
    fields = (*DOMAIN_FACTS, "businesses_link", "sitemaps_link", "pages_link")

    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        facts = [f for f in DOMAIN_FACTS if f != "domain"] if obj is None else list(DOMAIN_FACTS)
        links = ["businesses_link", "sitemaps_link", "pages_link"]
        if obj is None:  # adding by hand: only the domain name (normalised through the same service as the API)
            return [*links, *facts, *base]
        return [*facts, *links, *base]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # adding: the domain name only

    def list_annotations(self, request):
        return {**services.domain_count_annotations(), **admin_links.annotations(Domain)}

    def get_actions(self, request):
        return _add_select_suggested(self, request, super().get_actions(request),
                                     lambda qs: list(qs.values_list("pk", flat=True)))

    @admin.display(description="businesses", ordering="business_count")
    def businesses_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = getattr(obj, "business_count", None)
        if count is None:
            count = obj.businesses.count()
        url = reverse("admin:places_localbusiness_changelist")
        return format_html('<a href="{}?domain__id__exact={}">{} business(es)</a>', url, obj.pk, count)

    @admin.display(description="sitemaps", ordering="sitemap_file_count")
    def sitemaps_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = getattr(obj, "sitemap_file_count", None)
        if count is None:
            count = obj.sitemap_files.count()
        return changelist_query_link(SitemapFile, f"domain__id__exact={obj.pk}", f"{count} file(s)")

    @admin.display(description="pages (suggested)", ordering="page_count")
    def pages_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        total = getattr(obj, "page_count", None)
        suggested = getattr(obj, "suggested_count", None)
        if total is None:
            total = obj.pages.count()
            suggested = obj.pages.filter(suggested=True).count()
        return format_html(
            '{} ({})', changelist_query_link(Page, f"domain__id__exact={obj.pk}", f"{total} page(s)"),
            changelist_query_link(Page, f"domain__id__exact={obj.pk}&suggested__exact=1", f"{suggested} suggested"))


# --- SitemapFile ------------------------------------------------------------------------------

SITEMAP_FACTS = ("domain_link", "url", "sitemap_type", "discovered_how", "parent_link", "depth", "url_count",
                 "size_bytes", "decompressed_bytes", "is_gzip", "truncated", "last_modified", "fetched_at",
                 "fetch_error", "warnings", "pages_imported", "pages_new", "import_note", "children_link",
                 "pages_link")


@admin.register(SitemapFile)
class SitemapFileAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("url_display", "domain_link", "sitemap_type", "discovered_how", "depth", "url_count", "is_gzip",
                    "pages_link", "fetch_error_short", "fetched_at")
    list_filter = ("sitemap_type", "discovered_how", "is_gzip", "truncated", HasFetchErrorFilter)
    search_fields = ("url", "domain__domain")
    list_select_related = ("domain",)
    list_per_page = 100
    fields = SITEMAP_FACTS

    def get_readonly_fields(self, request, obj=None):
        return [*SITEMAP_FACTS, *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False  # sitemap files come from discovery (and indexes)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(page_count=services.count_of(Page, "sitemap_file"))

    @admin.display(description="sitemap", ordering="url")
    def url_display(self, obj):
        return short_url(obj.url)

    @admin.display(description="domain", ordering="domain__domain")
    def domain_link(self, obj):
        return admin_link(obj.domain)

    @admin.display(description="listed by")
    def parent_link(self, obj):
        return admin_link(obj.parent, short_url(obj.parent.url)) if obj.parent_id else "—"

    @admin.display(description="child sitemaps")
    def children_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return changelist_query_link(SitemapFile, f"parent__id__exact={obj.pk}", f"{obj.children.count()} child file(s)")

    @admin.display(description="pages", ordering="page_count")
    def pages_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = getattr(obj, "page_count", None)
        if count is None:
            count = obj.pages.count()
        return changelist_query_link(Page, f"sitemap_file__id__exact={obj.pk}", f"{count} page(s)")

    @admin.display(description="could not be read")
    def fetch_error_short(self, obj):
        text = obj.fetch_error or ""
        return truncated(text, 40)


# --- Page ------------------------------------------------------------------------------------------

PAGE_FACTS = ("domain_link", "url_link", "sitemap_file_link", "source", "lastmod", "changefreq", "priority",
              "alternates", "category", "confidence", "scrape_priority", "path_depth", "suggested", "content_link")


class ScrapePriorityFilter(admin.SimpleListFilter):
    """The three priorities by name: a field filter would list them with a DISTINCT over every page."""

    title = "scrape priority"
    parameter_name = "scrape_priority__exact"

    def lookups(self, request, model_admin):
        return [("1", "1 · contact / impressum"), ("2", "2 · other suggested"), ("3", "3 · the rest")]

    def queryset(self, request, queryset):
        return queryset.filter(scrape_priority=self.value()) if self.value() else queryset


@admin.register(Page)
class PageAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("url_display", "domain_link", "category", "confidence", "suggested", "path_depth",
                    "sitemap_file_link", "content_link")
    list_filter = ("category", "suggested", HasContentFilter, "source", ScrapePriorityFilter,
                   id_filter("has contact", "contact", "contact_sources__contact", model="contacts.Contact"))
    search_fields = ("url", "domain__domain")
    list_select_related = ("domain", "sitemap_file", "content")
    list_per_page = 100
    fields = PAGE_FACTS

    def get_readonly_fields(self, request, obj=None):
        return [*PAGE_FACTS, *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False  # pages come from sitemap imports (or the no-sitemap fallback crawl)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content__html")

    def get_actions(self, request):
        return _add_select_suggested(self, request, super().get_actions(request),
                                     lambda qs: list(qs.values_list("domain_id", flat=True).distinct()))

    @admin.display(description="page", ordering="url")
    def url_display(self, obj):
        return short_url(obj.url)

    @admin.display(description="URL")
    def url_link(self, obj):
        return external_link(obj.url, 120)

    @admin.display(description="domain", ordering="domain__domain")
    def domain_link(self, obj):
        return admin_link(obj.domain)

    @admin.display(description="sitemap")
    def sitemap_file_link(self, obj):
        if not obj.sitemap_file_id:
            return "homepage links" if obj.source == "homepage_links" else "—"
        return admin_link(obj.sitemap_file, short_url(obj.sitemap_file.url, 50))

    @admin.display(description="content")
    def content_link(self, obj):
        content = getattr(obj, "content", None)
        if content is None:
            return "—"
        return admin_link(content, content.title[:60] or f"HTTP {content.status_code}")


# --- PageContent --------------------------------------------------------------------------------------

CONTENT_FIELDS = ("page_link", "domain_link", "final_url", "redirects", "status_code", "content_type", "content_hash",
                  "size_bytes", "fetched_at", "elapsed_ms", "title", "meta_description", "h1", "canonical_url",
                  "language", "word_count", "social_links", "html")


@admin.register(PageContent)
class PageContentAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    """What page_scrape stored (read-only: written by the workflows only), with its contact_extraction
    status and the engine's actions (re-run, retry errors) on the change list."""

    list_display = ("title_display", "page_link", "domain_link", "status_code", "language", "word_count",
                    "fetched_at")
    list_filter = ("status_code", "language")
    search_fields = ("page__url", "page__domain__domain", "title", "h1")
    list_select_related = ("page", "page__domain")
    fields = CONTENT_FIELDS
    readonly_fields = CONTENT_FIELDS
    list_per_page = 100

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("html")
        return queryset

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # the change list's workflow actions (re-run, retry errors) need it; one content is never edited
        return obj is None and super().has_change_permission(request)

    @admin.display(description="title", ordering="title")
    def title_display(self, obj):
        return truncated(obj.title, 60) or "(no title)"

    @admin.display(description="page")
    def page_link(self, obj):
        return admin_link(obj.page, short_url(obj.page.url))

    @admin.display(description="domain")
    def domain_link(self, obj):
        return admin_link(obj.page.domain)


# --- the pipeline dashboard: this app's stages ------------------------------------------------------

dashboard.register_stage(dashboard.FunnelStage("domains", "domains", 40, Domain.objects.count,
                                               lambda: changelist_url(Domain)))
dashboard.register_stage(dashboard.FunnelStage("sitemap_files", "sitemap files", 50, SitemapFile.objects.count,
                                               lambda: changelist_url(SitemapFile)))
dashboard.register_stage(dashboard.FunnelStage("pages", "pages", 60, Page.objects.count,
                                               lambda: changelist_url(Page)))
