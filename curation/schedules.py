"""Schedules are code: synced idempotently from the registry into django-q2."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from curation import registry

PREFIX = "curation:"
RESCUE_EVERY_MINUTES = 5


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _wanted() -> dict[str, dict]:
    wanted = {}
    for wf in registry.all_workflows():
        wanted[f"{PREFIX}{wf.name}:run"] = {
            "func": "curation.tasks.workflow_run",
            "args": repr((wf.name,)),
            "kwargs": None,
            "schedule_type": Schedule.MINUTES,
            "minutes": wf.schedule_minutes,
            "repeats": -1,
        }
        wanted[f"{PREFIX}{wf.name}:rescue"] = {
            "func": "curation.tasks.workflow_rescue",
            "args": repr((wf.name,)),
            "kwargs": None,
            "schedule_type": Schedule.MINUTES,
            "minutes": RESCUE_EVERY_MINUTES,
            "repeats": -1,
        }
    for name, spec in registry.all_schedules().items():
        if spec["enabled"] and not import_string(spec["enabled"])():
            continue
        wanted[f"{PREFIX}{name}"] = {
            "func": spec["func"], "args": repr(()), "kwargs": None, "schedule_type": Schedule.MINUTES,
            "minutes": spec["minutes"], "repeats": -1,
        }
    return wanted


@transaction.atomic
def schedules_sync() -> SyncResult:
    """Create or update one run and one rescue schedule per workflow; delete the orphans.

    django-q2's `Schedule.name` is not unique, so duplicates left by hand are removed here.
    """
    result = SyncResult()
    wanted = _wanted()
    existing: dict[str, list[Schedule]] = {}
    for schedule in Schedule.objects.select_for_update().filter(name__startswith=PREFIX).order_by("id"):
        existing.setdefault(schedule.name, []).append(schedule)
    for name, rows in existing.items():
        if name not in wanted:
            Schedule.objects.filter(pk__in=[r.pk for r in rows]).delete()
            result.deleted.append(name)
        elif len(rows) > 1:
            Schedule.objects.filter(pk__in=[r.pk for r in rows[1:]]).delete()
    for name, values in wanted.items():
        rows = existing.get(name)
        if not rows:
            Schedule.objects.create(name=name, next_run=timezone.now(), **values)
            result.created.append(name)
            continue
        schedule = rows[0]
        changed = {k: v for k, v in values.items() if getattr(schedule, k) != v}
        if changed:
            Schedule.objects.filter(pk=schedule.pk).update(**changed)
            result.updated.append(name)
        else:
            result.unchanged.append(name)
    return result
