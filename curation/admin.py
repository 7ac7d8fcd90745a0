"""Admin: the workflow mixin every workflow model's admin uses, and the audit trail."""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from curation import registry, services
from curation.choices import ProcessingStatus
from curation.exceptions import ErrorClass
from curation.models import CurationEvent

BADGE_COLOURS = {
    "New": "#6c757d", "Selected": "#0d6efd", "Maybe": "#b8860b", "Rejected": "#8b0000", "Archived": "#495057",
    "Queued": "#6f42c1", "Processing": "#fd7e14", "Completed": "#198754", "Error": "#dc3545",
}


def status_badge(value: str | None) -> str:
    if not value:
        return mark_safe('<span style="color:#999">—</span>')
    colour = BADGE_COLOURS.get(value, "#333")
    return format_html(
        '<span class="status-badge" data-status="{}" style="background:{};color:#fff;border-radius:8px;'
        'padding:1px 7px;font-size:11px;white-space:nowrap">{}</span>',
        value, colour, value,
    )


def _status_column(wf):
    def column(obj):
        parts = []
        if wf.curation:
            parts.append(status_badge(getattr(obj, wf.curation_field)))
        parts.append(status_badge(getattr(obj, wf.status_field)))
        return format_html_join(" ", "{}", ((p,) for p in parts))

    column.short_description = wf.label
    column.admin_order_field = wf.status_field
    column.__name__ = f"{wf.name}_statuses"
    return column


def _error_column(wf):
    def column(obj):
        message = getattr(obj, wf.error_field)
        if not message:
            return ""
        first = message.splitlines()[0]
        short = first if len(first) <= 90 else first[:87] + "…"
        return format_html('<span title="{}">[{}] {}</span>', message, getattr(obj, wf.f("error_class")) or "?", short)

    column.short_description = f"{wf.label} error"
    column.__name__ = f"{wf.name}_error"
    return column


class WorkflowAdminMixin:
    """Gives a ModelAdmin the bulk actions, columns, filters and history of its model's workflows.

    Workflows are read from the registry when a request comes in, so the
    order in which apps register them does not matter.
    """

    def get_workflows(self):
        return registry.for_model(self.model)

    # --- change list -----------------------------------------------------
    def get_list_display(self, request):
        base = list(super().get_list_display(request))
        for wf in self.get_workflows():
            base += [_status_column(wf), _error_column(wf)]
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
