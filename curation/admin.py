"""Admin: the workflow mixin every workflow model's admin uses, and the audit trail."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten, quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from curation import admin_links, registry, services
from curation.choices import CurationStatus, ProcessingStatus
from curation.counting import FastCountPaginator, PageAnnotationsMixin, table_is_large
from curation.exceptions import ErrorClass
from curation.history import row_history
from curation.models import CurationEvent, ProcessingAttempt
from scrapersky.access.roles import REQUEUE_PERMISSION

# Badge colours (also in curation/static/curation/admin.css, which the pages use): white text on each
# passes WCAG AA contrast (4.5:1) at the badges' small size.
BADGE_COLOURS = {
    "New": "#5c636a", "Selected": "#0b5ed7", "Maybe": "#8a6100", "Rejected": "#8b0000", "Archived": "#3d4449",
    "Queued": "#6f42c1", "Processing": "#b45309", "Completed": "#146c43", "Error": "#b02a37",
}
IN_FLIGHT = (ProcessingStatus.QUEUED, ProcessingStatus.PROCESSING)


def status_badge(value: str | None, *, curation: bool = False) -> str:
    """A status as a small pill styled by class (admin.css): curation decisions outlined (<i>), processing
    states filled (<b>). Live updates and browser tests read the processing badge's class `s-<status>`."""
    tag = "i" if curation else "b"
    if not value:
        return "" if curation else mark_safe('<b class="s-none">—</b>')
    if value not in BADGE_COLOURS:  # only known values become class names
        return format_html("<{} class=\"s-x\">{}</{}>", tag, value, tag)
    return mark_safe(f'<{tag} class="s-{value}">{value}</{tag}>')


def truncated(text: str, limit: int, *, css: str = "t") -> str:
    """`text` cut to `limit` characters, the whole value in the tooltip (only when it was cut)."""
    text = text or ""
    if len(text) <= limit:
        return text
    return format_html('<span class="{}" title="{}">{}…</span>', css, text, text[: limit - 1])


def workflow_cell(wf, obj) -> str:
    """One workflow's state of a row: its curation badge (if the workflow has curation), its processing
    badge (omitted while a curated row was never queued), and the error on a short line below with the
    whole message on hover. A row that is New and was never queued gets an empty cell."""
    curation = getattr(obj, wf.curation_field) if wf.curation else None
    processing = getattr(obj, wf.status_field)
    if curation == CurationStatus.NEW and not processing:
        return ""  # the state of most rows: left blank, so that the rows that moved stand out (see the legend)
    # Selected is implied by a processing state (selecting is what queued the row): shown only without one.
    implied = processing and curation == wf.trigger
    parts = status_badge(curation, curation=True) if wf.curation and not implied else ""
    if processing or not wf.curation:
        parts += status_badge(processing)
    message = getattr(obj, wf.error_field) if processing == ProcessingStatus.ERROR else ""
    if not message:
        return mark_safe(parts)
    first = message.splitlines()[0]
    error_class = getattr(obj, wf.f("error_class")) or "?"
    if first == message and len(first) <= 60:  # whole on the line: no tooltip copy
        return format_html('{}<small class="err">[{}] {}</small>', mark_safe(parts), error_class, first)
    return format_html('{}<small class="err" title="{}">[{}] {}…</small>', mark_safe(parts), message[:500],
                       error_class, first[:59])


def changelist_url(model, **params) -> str:
    """The admin change list of `model`, filtered by `params` (e.g. domain__id__exact=...)."""
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


def _pk_or_none(model, value):
    try:
        return model._meta.pk.to_python(value)
    except ValidationError:
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
            related = apps.get_model(model) if isinstance(model, str) else model  # "app.Model": no import
            obj = related.objects.filter(pk=pk).first() if related is not None and pk else None
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
    """One compact column per workflow (named after it), so a model with several workflows fits the screen."""

    def column(obj):
        return workflow_cell(wf, obj)

    column.short_description = wf.label
    column.admin_order_field = wf.status_field
    column.__name__ = wf.name
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


def workflow_filter(wf):
    """One filter per workflow (?<name>=<status>): the curation decisions and the processing states share
    it (their values never overlap), "never queued" included; the facet counts follow each choice."""
    curation = list(wf.curation_choices.choices) if wf.curation else []
    processing = [(s, s) for s in ProcessingStatus.values]

    class WorkflowFilter(admin.SimpleListFilter):
        title = wf.label
        parameter_name = wf.name

        def lookups(self, request, model_admin):
            return [*curation, *processing, ("none", "never queued")]

        def queryset(self, request, queryset):
            value = self.value()
            if not value:
                return queryset
            if value == "none":
                return queryset.filter(**{f"{wf.status_field}__isnull": True})
            if value in ProcessingStatus.values:
                return queryset.filter(**{wf.status_field: value})
            if wf.curation and value in wf.curation_values():
                return queryset.filter(**{wf.curation_field: value})
            return queryset.none()

    WorkflowFilter.__name__ = f"{wf.name.title().replace('_', '')}Filter"
    return WorkflowFilter


def error_class_filter(wf):
    """Filter by a workflow's error class: only the classes that occur, never an empty choice (rows without
    an error have no class). It keeps the field lookup's parameter, so links into it stay the same."""

    class ErrorClassFilter(admin.SimpleListFilter):
        title = f"{wf.label} error class"
        parameter_name = f"{wf.f('error_class')}__exact"

        def lookups(self, request, model_admin):
            if table_is_large(model_admin.model):  # a DISTINCT over millions of rows per page view: the known ones
                return [(c, c) for c in sorted(ErrorClass.ALL)]
            classes = (model_admin.model.objects.exclude(**{wf.f("error_class"): ""})
                       .values_list(wf.f("error_class"), flat=True).distinct().order_by(wf.f("error_class")))
            return [(c, c) for c in classes]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{wf.f("error_class"): value}) if value else queryset

    ErrorClassFilter.__name__ = f"{wf.name.title().replace('_', '')}ErrorClassFilter"
    return ErrorClassFilter


class CompactChangeList(ChangeList):
    """Row links relative to the list's own URL: 100 rows carry no repeated "/admin/<app>/<model>/"."""

    def url_for_result(self, result):
        return f"{quote(getattr(result, self.pk_attname))}/change/"


class WorkflowAdminMixin:
    """Gives a ModelAdmin the bulk actions, columns, filters and history of its model's workflows,
    and the live status updates of its pages (admin.css, live.js).

    Workflows are read from the registry when a request comes in, so the
    order in which apps register them does not matter.
    """

    # Curators work through thousands of rows: counts next to every filter choice, 100 rows a page.
    # On tables of millions every facet count is a scan: there they are one click away ("Show counts"),
    # the page count is exact while cheap and estimated otherwise, and the unfiltered total is not counted.
    list_per_page = 100
    paginator = FastCountPaginator
    show_full_result_count = False
    empty_value_display = ""  # blank cells: nothing to read, nothing to send

    @property
    def show_facets(self):
        return admin.ShowFacets.ALLOW if table_is_large(self.model) else admin.ShowFacets.ALWAYS

    def has_requeue_permission(self, request) -> bool:
        """Retry, requeue and re-run actions: the operator's (scrapersky/access/roles.py)."""
        return request.user.has_perm(REQUEUE_PERMISSION)

    def get_workflows(self):
        return registry.for_model(self.model)

    def get_ordering(self, request):
        # The admin's own ordering, else the model's (newest first or by name), else newest first.
        return super().get_ordering(request) or self.model._meta.ordering or ["-created_at"]

    # --- change list -----------------------------------------------------
    def get_list_display(self, request):
        """The row's name first, then its workflows, then the admin's other columns: what a curator came
        to see stays on screen at 1366 px with the sidebar and the filters open."""
        base = list(super().get_list_display(request))
        columns = [_status_column(wf) for wf in self.get_workflows()]
        related = [admin_links.column(link) for link in admin_links.links_for(self.model)]
        return [*base[:1], *columns, *base[1:], *related]

    def get_queryset(self, request):
        # the counts of the related rows later apps link here (curation.admin_links); an admin counting for
        # the page's rows only (PageAnnotationsMixin) adds them in its list_annotations instead
        queryset = super().get_queryset(request)
        if isinstance(self, PageAnnotationsMixin):
            return queryset
        return queryset.annotate(**admin_links.annotations(self.model))

    def get_list_filter(self, request):
        base = list(super().get_list_filter(request))
        for wf in self.get_workflows():
            base += [workflow_filter(wf), error_class_filter(wf)]
        return base

    def get_changelist(self, request, **kwargs):
        return CompactChangeList

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle" aria-label="Select all">'))
    def action_checkbox(self, obj):
        """Django's checkbox with a shorter label (it is repeated on every row)."""
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="Select {}">',
                           ACTION_CHECKBOX_NAME, str(obj.pk), str(obj)[:40])

    def _live_context(self, request, object_id=None) -> dict:
        opts = self.model._meta
        return {"live_status": {
            "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_live_status"),
            "workflows": [wf.name for wf in self.get_workflows()],
            **({"id": str(object_id)} if object_id else {}),
        }}

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**self._live_context(request), **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**self._live_context(request, object_id), **(extra_context or {})}
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            context["workflow_strip"] = [(wf, workflow_cell(wf, obj)) for wf in self.get_workflows()]
            if not self._has_editable_fields(request, obj):
                # Every field is read-only (statuses change through actions): no Save buttons to press.
                context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, context)

    def _has_editable_fields(self, request, obj) -> bool:
        readonly = set(self.get_readonly_fields(request, obj))
        fields = {f for _name, opts in self.get_fieldsets(request, obj) for f in flatten(opts["fields"])}
        if fields - readonly:
            return True
        return any(
            inline.has_add_permission(request, obj) or set(flatten(inline.get_fields(request, obj))) - set(
                inline.get_readonly_fields(request, obj))
            for inline in self.get_inline_instances(request, obj)
        )

    # --- live status -----------------------------------------------------
    def get_urls(self):
        opts = self.model._meta
        live = path("live-status/", self.admin_site.admin_view(self.live_status_view),
                    name=f"{opts.app_label}_{opts.model_name}_live_status")
        return [live, *super().get_urls()]

    def live_status_view(self, request):
        """The workflow cells of the rows asked for (?id=…&id=…), rendered as on the page, and which of
        them are still in flight: the pages' script swaps the cells in and stops asking when none is."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        ids = [pk for pk in (_pk_or_none(self.model, value) for value in request.GET.getlist("id")[:200]) if pk]
        workflows = self.get_workflows()
        fields = ["pk"]
        for wf in workflows:
            fields += [wf.status_field, wf.error_field, wf.f("error_class")] + ([wf.curation_field] if wf.curation else [])
        rows, busy = {}, []
        for obj in self.model.objects.filter(pk__in=ids).only(*fields[1:]):
            rows[str(obj.pk)] = {wf.name: {"html": str(workflow_cell(wf, obj)), "status": getattr(obj, wf.status_field),
                                           "error": getattr(obj, wf.error_field)} for wf in workflows}
            if any(getattr(obj, wf.status_field) in IN_FLIGHT for wf in workflows):
                busy.append(str(obj.pk))
        return JsonResponse({"rows": rows, "busy": busy})

    # --- change page -----------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            base += [admin_links.column(link) for link in admin_links.links_for(self.model)]
        for wf in self.get_workflows():
            base += [wf.status_field, wf.error_field] + [wf.f(s) for s in (
                "error_class", "attempts", "queued_at", "available_at", "lease_until", "lease_token", "locked_by", "processed_at",
            )]
            if wf.curation:
                base.append(wf.curation_field)  # changed through actions, so that it queues and is audited
        return [*base, "status_history", "processing_history"]

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
        engine_fields.update(("status_history", "processing_history"))
        rest = [f for f in fieldsets[0][1]["fields"] if f not in engine_fields] if fieldsets else []
        return [(None, {"fields": rest}), *sections, ("Status history", {"fields": ["status_history"]}),
                ("Processing history", {"fields": ["processing_history"]}), *[fs for fs in fieldsets[1:]]]

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

    @admin.display(description="Processing history")
    def processing_history(self, obj):
        """Every worker attempt at this row: when it was claimed and finished, by which worker, how long
        the hook ran, the outcome and the error (newest first)."""
        if obj is None or obj.pk is None:
            return ""
        attempts = row_history(workflows=self.get_workflows(), pk=obj.pk, limit=50)["attempts"]
        if not attempts:
            return "No worker has processed this row yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (a["finished_at"].strftime("%Y-%m-%d %H:%M:%S"), a["workflow"], a["attempt"],
                 a["claimed_at"].strftime("%H:%M:%S") if a["claimed_at"] else "—",
                 f"{a['duration_ms'] / 1000:.2f} s" if a["duration_ms"] is not None else "—",
                 a["worker"] or "—", a["outcome_label"],
                 f"[{a['error_class']}] {a['message']}" if a["error_class"] else a["message"])
                for a in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>Finished</th><th>Workflow</th><th>Attempt</th><th>Claimed</th><th>Ran</th>"
            "<th>Worker</th><th>Outcome</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- actions -------------------------------------------------------------
    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        for wf in self.get_workflows():
            for func, name, description in _workflow_actions(wf):
                if func.allowed_permissions == ("requeue",) and not self.has_requeue_permission(request):
                    continue
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
        # Marking rows is a curator's change; re-running and retrying are the operator's.
        requeues = name.endswith(("__rerun", "__retry_errors", "__retry_errors_of_class"))
        func.allowed_permissions = ("requeue",) if requeues else ("change",)
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


@admin.register(ProcessingAttempt)
class ProcessingAttemptAdmin(admin.ModelAdmin):
    """The processing history of every row: read-only, append-only."""

    list_display = ("finished_at", "workflow", "object_id", "attempt", "outcome", "error_class", "duration_ms", "worker")
    list_filter = ("workflow", "outcome", "error_class")
    search_fields = ("object_id", "worker", "message")
    date_hierarchy = "finished_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the operator page ---------------------------------------------------------------------------

def operator_rows(rows: list[dict]) -> list[dict]:
    """The overview rows (curation.selectors) in chain order, with stage numbers, badge classes and
    change-list links."""
    order = {wf.name: (i, number) for i, (wf, number) in enumerate(registry.chain())}
    out = []
    for row in rows:
        wf = registry.get(row["name"])
        position, number = order.get(row["name"], (len(order), ""))
        row = {**row, "position": position, "number": number}
        counts = row["processing_counts"]
        row["processing_badges"] = [
            {"status": label, "key": key, "count": counts.get(key, 0),
             "css": f"s-{key}" if counts.get(key) and key != "none" else "zero",
             "url": changelist_url(wf.model_class, **query)}
            for key, label, query in (
                ("none", "Not queued", {wf.name: "none"}),
                ("Queued", "Queued", {wf.name: "Queued"}),
                ("Processing", "Processing", {wf.name: "Processing"}),
                ("Completed", "Completed", {wf.name: "Completed"}),
                ("Error", "Error", {wf.name: "Error"}),
            )
        ]
        row["curation_badges"] = [
            {"status": value, "count": n, "css": f"s-{value}" if n and value in BADGE_COLOURS else "zero",
             "url": changelist_url(wf.model_class, **{wf.name: value})}
            for value, n in row["curation_counts"].items()
        ]
        row["in_flight"] = counts.get("Queued", 0) + counts.get("Processing", 0)
        row["changelist_url"] = changelist_url(wf.model_class)
        row["queued_url"] = changelist_url(wf.model_class, **{wf.name: "Queued"})
        row["error_url"] = changelist_url(wf.model_class, **{wf.name: "Error"})
        row["error_class_urls"] = [
            (cls or "?", n, changelist_url(wf.model_class, **{wf.name: "Error", f"{wf.f('error_class')}__exact": cls or ""}))
            for cls, n in row["errors_by_class"].items()
        ]
        row["verbose_name_plural"] = wf.model_class._meta.verbose_name_plural
        out.append(row)
    return sorted(out, key=lambda r: (r["position"], r["name"]))
