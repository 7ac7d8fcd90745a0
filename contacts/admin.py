"""Admin of the contacts app: contacts with their provenance, exports, the suppression list, social links.

The workflow actions of all four workflows (validation, Brevo, HubSpot and
webhook sync: mark Selected → queues, Maybe, Rejected, Archived, Re-run, Retry
errors…), status columns and filters come from `curation.admin.WorkflowAdminMixin`.
"""
from __future__ import annotations

import tempfile

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from contacts import exports, services
from contacts.models import Contact, ContactSource, EnrichmentEvent, SocialLink, Suppression
from contacts.suppression import normalize_suppression_entry
from curation import admin_links, dashboard
from curation.admin import WorkflowAdminMixin, changelist_url, id_filter
from pages.models import PAGE_CATEGORIES, Domain, Page
from curation.admin import admin_link
from places.models import LocalBusiness

# --- filters -------------------------------------------------------------------------------

class AddressFilter(admin.SimpleListFilter):
    """What kind of address: one filter for the facts a curator sorts by (one panel entry, not six)."""

    title = "address"
    parameter_name = "address"
    CHOICES = {
        "email": ("Email", Q(kind="email")),
        "phone": ("Phone", Q(kind="phone")),
        "role": ("Role address (info@, sales@…)", Q(is_role=True)),
        "personal": ("Personal", Q(is_role=False)),
        "free": ("Free provider (gmail…)", Q(is_free_provider=True)),
        "disposable": ("Disposable", Q(is_disposable=True)),
        "on_domain": ("On the site's domain", Q(on_domain=True)),
        "off_domain": ("Not on the site's domain", Q(on_domain=False)),
        "certain": ("Certain", Q(certain=True)),
        "uncertain": ("Uncertain", Q(certain=False)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.CHOICES.items()]

    def queryset(self, request, queryset):
        choice = self.CHOICES.get(self.value() or "")
        return queryset.filter(choice[1]) if choice else queryset


class ValidationFilter(admin.SimpleListFilter):
    title = "validation result"
    parameter_name = "validation"

    def lookups(self, request, model_admin):
        return (("valid", "Valid"), ("invalid", "Invalid"), ("risky", "Risky"), ("unknown", "Unknown"),
                ("none", "Not validated"))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(validation_result="")
        if value:
            return queryset.filter(validation_result=value)
        return queryset


class FoundOnCategoryFilter(admin.SimpleListFilter):
    title = "found on page category"
    parameter_name = "found_on"

    def lookups(self, request, model_admin):
        return PAGE_CATEGORIES

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(sources__page__category=self.value()).distinct()
        return queryset


# --- contacts --------------------------------------------------------------------------------

class ContactSourceInline(admin.TabularInline):
    model = ContactSource
    fields = ("page_link", "page_category", "method", "value_as_written", "first_seen", "last_seen", "still_on_page")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "found on"
    verbose_name_plural = "found on (provenance)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("page")

    @admin.display(description="page")
    def page_link(self, obj):
        return format_html('{} <a href="{}" target="_blank" rel="noopener noreferrer" title="open the page">↗</a>',
                           admin_link(obj.page, obj.page.url), obj.page.url)

    @admin.display(description="category")
    def page_category(self, obj):
        return obj.page.category


CONTACT_FACTS = ("kind", "value", "normalized", "domain_link", "business_link", "pages_link", "name", "title",
                 "confidence",
                 "is_role", "is_free_provider", "on_domain", "is_disposable", "number_type", "certain",
                 "first_seen_at", "last_seen_at", "validation_result", "validation_reason", "mx_hosts",
                 "validated_at", "validation_history", "brevo_remote_id", "brevo_synced_at", "brevo_sync_detail",
                 "hubspot_remote_id", "hubspot_synced_at", "hubspot_sync_detail", "webhook_delivery_id",
                 "webhook_synced_at", "webhook_sync_detail", "enrichment_status", "enrichment_completed_at",
                 "last_enrichment_id", "enrichment_error", "enriched_phone", "enriched_address",
                 "enriched_social_profiles", "enriched_company", "enriched_additional_emails",
                 "enrichment_confidence", "enrichment_sources", "enrichment_metadata")


def _export_response(queryset, columns, fmt: str):
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    services.contacts_export(queryset=queryset, columns=columns, fmt=fmt, out=spool)
    spool.seek(0)
    content_type, extension = services.EXPORT_FORMATS[fmt]
    return FileResponse(spool, as_attachment=True, content_type=content_type,
                        filename=f"contacts-{timezone.now():%Y%m%d-%H%M%S}.{extension}")


@admin.register(Contact)
class ContactAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    # Compact: the workflows' columns follow the contact (WorkflowAdminMixin); kind, role, name and title
    # are filters or on the change page, so that 100 rows stay small and on screen.
    list_display = ("normalized", "result", "domain_name", "pages")  # the business: on the change page
    list_filter = (ValidationFilter, AddressFilter, FoundOnCategoryFilter,
                   # one domain's contacts (the domain's pages link here): named in the panel while applied
                   id_filter("domain", "domain", "domain_id", model=Domain),
                   id_filter("business", "business", "business_id", model=LocalBusiness),
                   id_filter("found on page", "page", "sources__page_id", model=Page))
    search_fields = ("normalized", "value", "name", "title", "domain__domain")
    list_select_related = ("domain", "business")
    list_per_page = 100
    inlines = [ContactSourceInline]
    fields = CONTACT_FACTS
    actions = ["export_csv", "export_xlsx", "export_choose_columns"]

    # The unique (domain, kind, value) index orders the list: by domain name would sort every contact
    # before showing 100 (over a minute on 2 million rows); this groups a domain's contacts just the same.
    ordering = ("domain", "kind", "normalized")

    def get_queryset(self, request):
        # A correlated count, worked out for the 100 rows shown only (an aggregate over the join would
        # group every contact of the table first).
        pages = (ContactSource.objects.filter(contact=OuterRef("pk")).order_by().values("contact")
                 .annotate(n=Count("page", distinct=True)).values("n"))
        return super().get_queryset(request).annotate(n_pages=Coalesce(Subquery(pages), 0))

    def get_readonly_fields(self, request, obj=None):
        return [*CONTACT_FACTS, *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False  # contacts come from page scrapes

    @admin.display(description="domain", ordering="domain__domain")
    def domain_link(self, obj):
        return admin_link(obj.domain)

    @admin.display(description="business")
    def business_link(self, obj):
        return admin_link(obj.business) if obj.business_id else "—"

    @admin.display(description="domain", ordering="domain__domain")
    def domain_name(self, obj):
        return obj.domain.domain if obj.domain_id else "—"  # the link is on the change page; the filter is aside

    @admin.display(description="validation", ordering="validation_result")
    def result(self, obj):
        if not obj.validation_result:
            return ""
        return format_html('<span class="v-{}" title="{}">{}</span>', obj.validation_result, obj.validation_reason,
                           obj.validation_result)

    @admin.display(description="pages", ordering="n_pages")
    def pages(self, obj):
        return getattr(obj, "n_pages", None)  # a plain count: the links to the pages are on the change page

    @admin.display(description="found on pages")
    def pages_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = obj.sources.values("page").distinct().count()
        return format_html('<a href="{}">{} page(s)</a>', changelist_url(Page, contact=obj.pk), count)

    # --- exports ---------------------------------------------------------------------------
    @admin.action(description="Export selected as CSV (UTF-8, Excel-safe)")
    def export_csv(self, request, queryset):
        return _export_response(queryset, exports.DEFAULT_COLUMNS, "csv")

    @admin.action(description="Export selected as XLSX")
    def export_xlsx(self, request, queryset):
        return _export_response(queryset, exports.DEFAULT_COLUMNS, "xlsx")

    @admin.action(description="Export selected, choose columns…")
    def export_choose_columns(self, request, queryset):
        if "apply" in request.POST:
            columns = [c for c in request.POST.getlist("columns") if c in exports.EXPORT_COLUMNS]
            fmt = request.POST.get("format", "csv")
            if not columns:
                self.message_user(request, "Choose at least one column to export.", messages.ERROR)
                return None
            if fmt not in services.EXPORT_FORMATS:
                self.message_user(request, f"Unknown format {fmt!r}.", messages.ERROR)
                return None
            return _export_response(queryset, columns, fmt)
        return TemplateResponse(request, "admin/contacts/export_columns.html", {
            **self.admin_site.each_context(request),
            "title": "Export contacts: choose columns",
            "opts": self.model._meta,
            "columns": [(key, label, key in exports.DEFAULT_COLUMNS) for key, label in exports.EXPORT_COLUMNS.items()],
            "selected_ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
            "action_name": "export_choose_columns",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })


# --- suppression list -------------------------------------------------------------------------

class SuppressionForm(forms.ModelForm):
    value = forms.CharField(max_length=500, help_text="An email address, a domain, \"@domain\" or a URL "
                                                      "(a domain covers its subdomains).")

    class Meta:
        model = Suppression
        fields = ("value", "reason")

    def clean_value(self):
        try:
            kind, value = normalize_suppression_entry(self.cleaned_data["value"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if Suppression.objects.filter(kind=kind, value=value).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"{value} is already on the suppression list")
        self.instance.kind = kind
        return value


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    form = SuppressionForm
    list_display = ("value", "kind", "reason", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "reason")
    readonly_fields = ("kind", "created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SocialLink)
class SocialLinkAdmin(admin.ModelAdmin):
    list_display = ("url", "network", "handle", "domain", "business", "method", "last_seen")
    list_filter = ("network", "method")
    search_fields = ("url", "handle", "domain__domain")
    list_select_related = ("domain", "business")
    readonly_fields = ("domain", "business", "network", "url", "handle", "method", "page", "first_seen", "last_seen")

    def has_add_permission(self, request):
        return False


@admin.register(EnrichmentEvent)
class EnrichmentEventAdmin(admin.ModelAdmin):
    """Enrichment callbacks received (read-only)."""

    list_display = ("enrichment_id", "contact", "status", "received_at")
    list_filter = ("status",)
    search_fields = ("enrichment_id", "contact__normalized")
    readonly_fields = ("enrichment_id", "contact", "status", "received_at", "updated_fields", "payload")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- the pipeline dashboard: this app's stages ------------------------------------------------------

SYNCS = ("brevo_sync", "hubspot_sync", "webhook_sync")


def _synced_count() -> int:
    synced = Q()
    for name in SYNCS:
        synced |= Q(**{f"{name}_processing_status": "Completed"})
    return Contact.objects.filter(synced).count()


dashboard.register_stage(dashboard.FunnelStage("contacts", "contacts", 70, Contact.objects.count,
                                               lambda: changelist_url(Contact)))
dashboard.register_stage(dashboard.FunnelStage(
    "validated", "validated", 80, Contact.objects.filter(contact_validation_processing_status="Completed").count,
    lambda: changelist_url(Contact, contact_validation="Completed")))
dashboard.register_stage(dashboard.FunnelStage("synced", "synced to a CRM", 90, _synced_count))


# --- links from the earlier apps' rows to their contacts (curation.admin_links) ----------------------

admin_links.register(admin_links.RelatedLink("contacts", "places.LocalBusiness", "contacts.Contact", via="business",
                                             label="contact(s)"))
admin_links.register(admin_links.RelatedLink("contacts", "pages.Domain", "contacts.Contact", via="domain",
                                             label="contact(s)"))
admin_links.register(admin_links.RelatedLink("contacts", "pages.Page", "contacts.Contact", via="sources__page",
                                             param="page", count_model="contacts.ContactSource", count_field="page",
                                             label="contact(s)"))
