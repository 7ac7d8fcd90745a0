"""A test-only model carrying two throwaway workflows that exercise the engine."""
from django.db import models

from curation.fields import BaseModel, workflow_constraints, workflow_fields, workflow_indexes


class Widget(workflow_fields("widget_check"), workflow_fields("widget_index", curation=False), BaseModel):
    name = models.CharField(max_length=100)
    # What the test hook does: noop | ok | retry | permanent | bug | pause | sleep:<seconds> | retry_after:<seconds>
    behaviour = models.CharField(max_length=40, default="ok")

    class Meta:
        indexes = [*workflow_indexes("widget_check"), *workflow_indexes("widget_index")]
        constraints = [*workflow_constraints("widget_check"), *workflow_constraints("widget_index")]

    def __str__(self) -> str:
        return self.name


class HookCall(models.Model):
    """Every hook call, from any process: exactly-once tests count these."""

    widget_id = models.UUIDField(db_index=True)
    workflow = models.CharField(max_length=40)
    pid = models.IntegerField()
    at = models.DateTimeField(auto_now_add=True)
