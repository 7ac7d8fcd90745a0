"""Model building blocks: the UUID base model and the per-workflow field sets.

`workflow_fields("deep_scan")` returns an abstract model with every field the
engine needs for that workflow; the concrete model inherits it and
`makemigrations` writes plain columns (abstract bases never reach migrations).
Because Django only inherits `Meta` from the first abstract parent, indexes and
constraints come from `workflow_indexes()` / `workflow_constraints()` that the
concrete model lists in its own `Meta`.
"""
from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from curation.choices import CurationStatus, ProcessingStatus


class BaseModel(models.Model):
    """UUID primary key (the seeds' "UUID standard") and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def workflow_fields(
    name: str,
    *,
    curation: bool = True,
    choices: type[models.TextChoices] = CurationStatus,
    default_curation: str = CurationStatus.NEW,
) -> type[models.Model]:
    """The abstract model holding workflow `name`'s statuses and bookkeeping."""
    attrs: dict = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"abstract": True}),
    }
    if curation:
        attrs[f"{name}_curation_status"] = models.CharField(
            max_length=20, choices=choices.choices, default=default_curation, db_index=True
        )
    attrs[f"{name}_processing_status"] = models.CharField(
        max_length=20, choices=ProcessingStatus.choices, null=True, blank=True, default=None, db_index=True
    )
    attrs[f"{name}_processing_error"] = models.TextField(blank=True, default="")
    attrs[f"{name}_error_class"] = models.CharField(max_length=20, blank=True, default="", db_index=True)
    attrs[f"{name}_attempts"] = models.PositiveIntegerField(default=0)
    attrs[f"{name}_queued_at"] = models.DateTimeField(null=True, blank=True)
    attrs[f"{name}_available_at"] = models.DateTimeField(null=True, blank=True)
    attrs[f"{name}_lease_until"] = models.DateTimeField(null=True, blank=True)
    attrs[f"{name}_lease_token"] = models.UUIDField(null=True, blank=True)
    attrs[f"{name}_locked_by"] = models.CharField(max_length=100, blank=True, default="")
    attrs[f"{name}_processed_at"] = models.DateTimeField(null=True, blank=True, db_index=True)
    class_name = "".join(part.capitalize() for part in name.split("_")) + "WorkflowFields"
    return type(class_name, (models.Model,), attrs)


def workflow_indexes(name: str) -> list[models.Index]:
    """Partial indexes for claiming (Queued by due time) and rescue (Processing by lease)."""
    return [
        models.Index(
            fields=[f"{name}_available_at"],
            condition=Q(**{f"{name}_processing_status": ProcessingStatus.QUEUED}),
            name=f"{name[:18]}_claim_idx",
        ),
        models.Index(
            fields=[f"{name}_lease_until"],
            condition=Q(**{f"{name}_processing_status": ProcessingStatus.PROCESSING}),
            name=f"{name[:18]}_lease_idx",
        ),
    ]


def workflow_constraints(name: str) -> list[models.BaseConstraint]:
    """Illegal combinations are unrepresentable: a row in Processing always holds a lease."""
    processing = Q(**{f"{name}_processing_status": ProcessingStatus.PROCESSING})
    leased = Q(**{f"{name}_lease_token__isnull": False, f"{name}_lease_until__isnull": False})
    return [
        models.CheckConstraint(condition=~processing | leased, name=f"{name}_processing_has_lease"),
    ]
