from django.contrib import admin

from curation.admin import WorkflowAdminMixin
from tests.testapp.models import Widget


@admin.register(Widget)
class WidgetAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("name", "behaviour")
    search_fields = ("name",)
