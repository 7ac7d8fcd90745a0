"""Admin: the workflow mixin every workflow model's admin uses, and the audit trail."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from curation import registry, services
from curation.choices import ProcessingStatus
from curation.counting import FastCountPaginator, table_is_large
from curation.exceptions import ErrorClass
from curation.models import CurationEvent

# Badge colours: white text on each passes WCAG AA contrast (4.5:1) at the badges' small size.
BADGE_COLOURS = {
    "New": "#5c636a", "Selected": "#0b5ed7", "Maybe": "#8a6100", "Rejected": "#8b0000", "Archived": "#3d4449",
    "Queued": "#6f42c1", "Processing": "#b45309", "Completed": "#146c43", "Error": "#b02a37",
}
MUTED = "#adb5bd"

# Where each workflow sits in the chain (DESIGN §1; the numbers are the original system's: WF6 never existed).
# Workflows not listed (a new one, the tests' widgets) follow in name order.
CHAIN = (
    ("place_search", "WF1"), ("deep_scan", "WF2"), ("domain_extraction", "WF3"), ("sitemap_discovery", "WF4"),
    ("sitemap_import", "WF5"), ("page_scrape", "WF7"), ("contact_validation", "WF8"), ("brevo_sync", "WF8"),
    ("hubspot_sync", "WF8"), ("webhook_sync", "WF8"),
)


def status_badge(value: str | None, *, kind: str = "") -> str:
    """A coloured pill for a status value; `kind` ("curation"/"processing") goes into its tooltip."""
    what = f"{kind}: " if kind else ""
    if not value:
        return format_html('<span class="status-badge status-none" title="{}" style="color:#6c757d">—</span>',
                           f"{what}not queued" if kind == "processing" else f"{what}none")
    colour = BADGE_COLOURS.get(value, "#333")
    return format_html(
        '<span class="status-badge" data-status="{}" title="{}" style="background:{};color:#fff;border-radius:8px;'
        'padding:1px 7px;font-size:11px;font-weight:600;white-space:nowrap;display:inline-block;margin:1px 0">'
        '{}</span>',
        value, f"{what}{value}", colour, value,
    )


def changelist_url(model, **params) -> str:
    """The admin change list of `model`, filtered by `params` (e.g. domain__id__exact=...)."""
    from urllib.parse import urlencode

    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def changelist_link(model, text: str, **params) -> str:
    return format_html('<a href="{}">{}</a>', changelist_url(model, **params), text)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def id_filter(title: str, parameter_name: str, lookup: str, model=None):
    """A list filter for "the rows of one related object" (?<parameter_name>=<pk>), used by the row links.

    It shows in the sidebar only while it is applied (no list of thousands of choices) with the
    object's name, and it lets a link filter across a relation the admin would otherwise refuse
    (e.g. the contacts found on one page).
    """

    class IdFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            value = self.value()
            if not value:
                return ()
            pk = _uuid_or_none(value)
            obj = model.objects.filter(pk=pk).first() if model is not None and pk else None
            label = str(obj) if obj is not None else str(value)
            return [(value, label if len(label) <= 60 else label[:59] + "…")]

        def queryset(self, request, queryset):
            value = self.value()
            if not value:
                return queryset
            pk = _uuid_or_none(value)
            if pk is None:
                return queryset.none()
            return queryset.filter(**{lookup: pk}).distinct()

    IdFilter.title = title
    IdFilter.parameter_name = parameter_name
    IdFilter.__name__ = f"{parameter_name.title().replace('_', '')}IdFilter"
    return IdFilter


def _status_column(wf):
    """Both statuses as badges, and the error (if any) on a short line below: one column per workflow,
    so a model with several workflows still fits the screen."""

    def column(obj):
        parts = []
        if wf.curation:
            parts.append(status_badge(getattr(obj, wf.curation_field), kind=f"{wf.label} curation"))
        parts.append(status_badge(getattr(obj, wf.status_field), kind=f"{wf.label} processing"))
        badges = format_html_join(" ", "{}", ((p,) for p in parts))
        message = getattr(obj, wf.error_field)
        if not message:
            return badges
        first = message.splitlines()[0]
        short = first if len(first) <= 70 else first[:67] + "…"
        return format_html(
            '<span style="white-space:nowrap">{}</span><br><small class="workflow-error" title="{}" '
            'style="color:#b02a37">[{}] {}</small>',
            badges, message, getattr(obj, wf.f("error_class")) or "?", short,
        )

    column.short_description = wf.label
    column.admin_order_field = wf.status_field
    column.__name__ = f"{wf.name}_statuses"
    return column


def admin_link(obj, text: str | None = None) -> str:
    """A link to `obj`'s admin change page (plain text when its model has no admin)."""
    if obj is None:
        return "—"
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(text or obj)
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def changelist_query_link(model, query: str, text: str) -> str:
    """A link to `model`'s change list with a ready-made query string."""
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


class YesNoFilter(admin.SimpleListFilter):
    """A Yes/No list filter: subclasses give the condition of "yes"."""

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def condition(self):
        raise NotImplementedError(f"{type(self).__name__} must define condition()")

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class WorkflowAdminMixin:
    """Gives a ModelAdmin the bulk actions, columns, filters and history of its model's workflows.

    Workflows are read from the registry when a request comes in, so the
    order in which apps register them does not matter.
    """

    # Curators work through thousands of rows: counts next to every filter choice, 100 rows a page.
    # On tables of millions every facet count is a scan: there they are one click away ("Show counts"),
    # the page count is exact while cheap and estimated otherwise, and the unfiltered total is not counted.
    list_per_page = 100
    paginator = FastCountPaginator
    show_full_result_count = False

    @property
    def show_facets(self):
        return admin.ShowFacets.ALLOW if table_is_large(self.model) else admin.ShowFacets.ALWAYS

    def get_workflows(self):
        return registry.for_model(self.model)

    def get_ordering(self, request):
        # The admin's own ordering, else the model's (newest first or by name), else newest first.
        return super().get_ordering(request) or self.model._meta.ordering or ["-created_at"]

    # --- change list -----------------------------------------------------
    def get_list_display(self, request):
        base = list(super().get_list_display(request))
        for wf in self.get_workflows():
            base.append(_status_column(wf))
        return base

    def get_list_filter(self, request):
        base = list(super().get_list_filter(request))
        for wf in self.get_workflows():
            if wf.curation:
                base.append(wf.curation_field)
            base += [wf.status_field, wf.f("error_class")]
        return base

    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        for wf in self.get_workflows():
            base += [wf.status_field, wf.error_field] + [wf.f(s) for s in (
                "error_class", "attempts", "queued_at", "available_at", "lease_until", "lease_token", "locked_by", "processed_at",
            )]
            if wf.curation:
                base.append(wf.curation_field)  # changed through actions, so that it queues and is audited
        return [*base, "status_history"]

    def get_fields(self, request, obj=None):
        """The declared fields plus every read-only one (the engine's fields, display-only links),
        so that an admin declaring `fields` still shows them."""
        fields = list(super().get_fields(request, obj))
        return fields + [f for f in self.get_readonly_fields(request, obj) if f not in fields]

    def get_fieldsets(self, request, obj=None):
        """Unless the admin declares its own fieldsets: the model's fields first, then one section per
        workflow (statuses and error), its queue bookkeeping collapsed, and the status history."""
        fieldsets = super().get_fieldsets(request, obj)
        if self.fieldsets or obj is None:
            return fieldsets
        engine_fields = set()
        sections = []
        for wf in self.get_workflows():
            main = ([wf.curation_field] if wf.curation else []) + [
                wf.status_field, wf.error_field, wf.f("error_class"), wf.f("attempts"), wf.f("processed_at")]
            bookkeeping = [wf.f(s) for s in ("queued_at", "available_at", "lease_until", "lease_token", "locked_by")]
            engine_fields.update(main, bookkeeping)
            sections += [(wf.label, {"fields": main}),
                         (f"{wf.label}: queue bookkeeping", {"fields": bookkeeping, "classes": ["collapse"]})]
        engine_fields.add("status_history")
        rest = [f for f in fieldsets[0][1]["fields"] if f not in engine_fields] if fieldsets else []
        return [(None, {"fields": rest}), *sections, ("Status history", {"fields": ["status_history"]}),
                *[fs for fs in fieldsets[1:]]]

    @admin.display(description="Status history")
    def status_history(self, obj):
        if obj is None or obj.pk is None:
            return ""
        events = CurationEvent.objects.filter(model_label=obj._meta.label, object_id=str(obj.pk))[:50]
        if not events:
            return "No status changes yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (e.at.strftime("%Y-%m-%d %H:%M:%S"), e.workflow, e.curation_from or "—", e.curation_to or "—",
                 e.processing_from or "—", e.processing_to or "—", e.actor_label, e.source)
                for e in events
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Workflow</th><th>Curation</th><th>Processing</th><th>Who</th>"
            "<th>Via</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- actions -------------------------------------------------------------
    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        for wf in self.get_workflows():
            for func, name, description in _workflow_actions(wf):
                actions[name] = (func, name, description)
        return actions


def _ids(queryset) -> list:
    return list(queryset.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])


def _report(modeladmin, request, wf, call):
    try:
        result = call()
    except services.CurationInputError as exc:
        modeladmin.message_user(request, f"{wf.label}: {exc.message}", messages.ERROR)
        return None
    modeladmin.message_user(request, f"{wf.label}: {result.message}", messages.SUCCESS)
    return result


def _workflow_actions(wf):
    actions = []
    if wf.curation:
        for value, label in wf.curation_choices.choices:
            def set_status(modeladmin, request, queryset, value=value):
                _report(modeladmin, request, wf, lambda: services.curation_status_set(
                    workflow=wf, ids=_ids(queryset), status=value, actor=request.user, source="admin"))

            suffix = f" (queues {wf.label.lower()})" if value == wf.trigger else ""
            actions.append((set_status, f"{wf.name}__{value.lower()}", f"{wf.label}: mark as {label}{suffix}"))

        def rerun(modeladmin, request, queryset):
            _report(modeladmin, request, wf, lambda: services.curation_status_set(
                workflow=wf, ids=_ids(queryset), status=wf.trigger, reprocess=True, actor=request.user, source="admin"))
    else:
        def rerun(modeladmin, request, queryset):
            _report(modeladmin, request, wf, lambda: services.processing_requeue(
                workflow=wf, ids=_ids(queryset), from_statuses=(ProcessingStatus.COMPLETED, ProcessingStatus.ERROR),
                actor=request.user, source="admin"))

    actions.append((rerun, f"{wf.name}__rerun", f"{wf.label}: re-run (also completed rows)"))

    def retry_errors(modeladmin, request, queryset):
        _report(modeladmin, request, wf, lambda: services.processing_requeue(
            workflow=wf, ids=_ids(queryset), actor=request.user, source="admin"))

    actions.append((retry_errors, f"{wf.name}__retry_errors", f"{wf.label}: retry errors"))

    def retry_errors_of_class(modeladmin, request, queryset):
        chosen = request.POST.get("error_class")
        if "apply" in request.POST and chosen:
            _report(modeladmin, request, wf, lambda: services.processing_requeue(
                workflow=wf, ids=_ids(queryset), error_class=chosen, actor=request.user, source="admin"))
            return None
        classes = (
            queryset.filter(**{wf.status_field: ProcessingStatus.ERROR})
            .values_list(wf.f("error_class"))
            .annotate(n=Count("pk"))
            .order_by("-n")
        )
        if not classes:
            modeladmin.message_user(request, f"{wf.label}: none of the selected rows is in Error.", messages.WARNING)
            return None
        return TemplateResponse(
            request,
            "admin/curation/retry_errors_of_class.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": f"{wf.label}: retry errors of one class",
                "opts": modeladmin.model._meta,
                "workflow": wf,
                "classes": [(c or ErrorClass.BUG, n) for c, n in classes],
                "selected_ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                "action_name": f"{wf.name}__retry_errors_of_class",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    actions.append((retry_errors_of_class, f"{wf.name}__retry_errors_of_class", f"{wf.label}: retry errors of class…"))
    for func, name, _description in actions:
        func.__name__ = name
        func.allowed_permissions = ("change",)
    return actions


@admin.register(CurationEvent)
class CurationEventAdmin(admin.ModelAdmin):
    """The audit trail: read-only, append-only."""

    list_display = ("at", "workflow", "model_label", "object_id", "curation_change", "processing_change", "actor_label", "source", "note")
    list_filter = ("workflow", "source", "curation_to", "processing_to")
    search_fields = ("object_id", "actor_label")
    date_hierarchy = "at"

    @admin.display(description="Curation")
    def curation_change(self, e):
        return f"{e.curation_from or '—'} → {e.curation_to or '—'}"

    @admin.display(description="Processing")
    def processing_change(self, e):
        return f"{e.processing_from or '—'} → {e.processing_to or '—'}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the operator page ---------------------------------------------------------------------------

def operator_rows(rows: list[dict]) -> list[dict]:
    """The overview rows (curation.selectors) in chain order, with WF numbers, badge colours and change-list links."""
    order = {name: (i, number) for i, (name, number) in enumerate(CHAIN)}
    out = []
    for row in rows:
        wf = registry.get(row["name"])
        position, number = order.get(row["name"], (len(order), ""))
        row = {**row, "position": position, "number": number}
        status = wf.status_field
        counts = row["processing_counts"]
        row["processing_badges"] = [
            {"status": label, "count": counts.get(key, 0), "colour": BADGE_COLOURS.get(key, MUTED) if counts.get(key)
             else MUTED, "url": changelist_url(wf.model_class, **query)}
            for key, label, query in (
                ("none", "Not queued", {f"{status}__isnull": "True"}),
                ("Queued", "Queued", {f"{status}__exact": "Queued"}),
                ("Processing", "Processing", {f"{status}__exact": "Processing"}),
                ("Completed", "Completed", {f"{status}__exact": "Completed"}),
                ("Error", "Error", {f"{status}__exact": "Error"}),
            )
        ]
        row["curation_badges"] = [
            {"status": value, "count": n, "colour": BADGE_COLOURS.get(value, MUTED) if n else MUTED,
             "url": changelist_url(wf.model_class, **{f"{wf.curation_field}__exact": value})}
            for value, n in row["curation_counts"].items()
        ]
        row["changelist_url"] = changelist_url(wf.model_class)
        row["queued_url"] = changelist_url(wf.model_class, **{f"{status}__exact": "Queued"})
        row["error_url"] = changelist_url(wf.model_class, **{f"{status}__exact": "Error"})
        row["error_class_urls"] = [
            (cls or "?", n, changelist_url(wf.model_class, **{f"{status}__exact": "Error", f"{wf.f('error_class')}__exact": cls or ""}))
            for cls, n in row["errors_by_class"].items()
        ]
        row["verbose_name_plural"] = wf.model_class._meta.verbose_name_plural
        out.append(row)
    return sorted(out, key=lambda r: (r["position"], r["name"]))
