"""System checks (`manage.py check`): a broken declaration fails loudly at start, not at 3 a.m."""
from __future__ import annotations

import inspect
import re

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from curation import registry, resources
from curation.workflow import Workflow

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def check_workflow(wf: Workflow) -> list:
    errors = []
    obj = f"workflow {wf.name}"
    if not NAME_RE.match(wf.name):
        errors.append(Error(f"{obj}: the name must be snake_case", id="curation.E006", obj=obj))
    try:
        model = wf.model_class
    except (LookupError, ValueError) as exc:
        return [*errors, Error(f"{obj}: model {wf.model!r} not found ({exc})", id="curation.E001", obj=obj)]
    for name in wf.required_fields():
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            errors.append(
                Error(
                    f"{obj}: {model._meta.label} lacks the field {name!r}",
                    hint=f"Inherit curation.fields.workflow_fields({wf.name!r}) and run makemigrations.",
                    id="curation.E002",
                    obj=obj,
                )
            )
    try:
        hook = wf.load_hook()
    except ImportError as exc:
        errors.append(Error(f"{obj}: hook {wf.hook!r} does not import: {exc}", id="curation.E003", obj=obj))
    else:
        if not callable(hook):
            errors.append(Error(f"{obj}: hook {wf.hook!r} is not callable", id="curation.E003", obj=obj))
        else:
            params = inspect.signature(hook).parameters
            wanted = ("records", "leases") if wf.hook_batch_size else ("record", "lease")
            shape = "def hook(*, records, leases) -> {pk: error}" if wf.hook_batch_size else "def hook(*, record, lease)"
            missing = [n for n in wanted if n not in params or params[n].kind is not inspect.Parameter.KEYWORD_ONLY]
            if missing:
                what = "a batch hook (hook_batch_size > 0)" if wf.hook_batch_size else "a hook"
                errors.append(Error(
                    f"{obj}: {what} {wf.hook!r} must take a keyword-only "
                    + " and ".join(f"`{n}`" for n in missing)
                    + f" (`{shape}`; results are written through the lease, docs/architecture.md \"Hooks\")",
                    id="curation.E003", obj=obj,
                ))
    timeout = settings.Q_CLUSTER.get("timeout")
    if timeout is None:
        errors.append(Error("Q_CLUSTER['timeout'] must be set (leases are measured against it)", id="curation.E004"))
    else:
        if wf.lease_seconds <= timeout:
            errors.append(
                Error(
                    f"{obj}: lease_seconds ({wf.lease_seconds}) must exceed the worker timeout "
                    f"Q_CLUSTER['timeout'] ({timeout}), or live rows get rescued and run twice",
                    id="curation.E004",
                    obj=obj,
                )
            )
        if wf.time_budget_seconds >= timeout:
            errors.append(
                Warning(
                    f"{obj}: time_budget_seconds ({wf.time_budget_seconds}) should be well below the worker "
                    f"timeout ({timeout}) so a run ends before it is killed",
                    id="curation.W001",
                    obj=obj,
                )
            )
    if wf.curation and wf.trigger not in wf.curation_values():
        errors.append(Error(f"{obj}: trigger {wf.trigger!r} is not a curation choice", id="curation.E007", obj=obj))
    for attr in ("batch_size", "max_attempts", "schedule_minutes", "concurrency"):
        if getattr(wf, attr) < 1:
            errors.append(Error(f"{obj}: {attr} must be at least 1", id="curation.E008", obj=obj))
    if wf.after is not None and wf.after not in {w.name for w in registry.all_workflows()}:
        errors.append(Error(f"{obj}: after={wf.after!r} is not a registered workflow", id="curation.E009", obj=obj))
    if _runs_after_itself(wf):
        errors.append(Error(f"{obj}: its `after` chain loops back to itself", id="curation.E009", obj=obj))
    if wf.readiness:
        try:
            import_string(wf.readiness)
        except ImportError as exc:
            errors.append(Error(f"{obj}: readiness {wf.readiness!r} does not import: {exc}", id="curation.E003", obj=obj))
    return errors


def _runs_after_itself(wf: Workflow) -> bool:
    names, current = set(), wf
    while current is not None and current.after:
        if current.after == wf.name or current.after in names:
            return True
        names.add(current.after)
        try:
            current = registry.get(current.after)
        except registry.UnknownWorkflow:
            return False
    return False


@register("curation")
def check_workflows(app_configs=None, **kwargs) -> list:
    errors = []
    for wf in registry.all_workflows():
        errors.extend(check_workflow(wf))
    return errors


@register("curation")
def check_hooks_written(app_configs=None, **kwargs) -> list:
    """A hook generated by `startworkflow` and still marked @not_written_yet: its rows would all fail."""
    warnings = []
    for wf in registry.all_workflows():
        try:
            hook = wf.load_hook()
        except ImportError:
            continue  # reported by check_workflows
        if getattr(hook, "not_written_yet", False):
            warnings.append(Warning(
                f"workflow {wf.name}: its hook {wf.hook} is not written yet (rows reaching it go to Error)",
                hint="Write the hook's body and remove @not_written_yet.", id="curation.W002", obj=f"workflow {wf.name}"))
    return warnings


@register("curation")
def check_resources(app_configs=None, **kwargs) -> list:
    """Every resource declaration builds into a ViewSet (its model, serializers, FilterSet, actions import)
    and no two claim one route."""
    errors, routes = [], {}
    for resource in registry.all_resources():
        obj = f"resource {resource}"
        try:
            resources.build_viewset(resource)
            route = resources.resource_route(resource)
        except Exception as exc:  # noqa: BLE001 - any broken declaration is reported, not raised
            errors.append(Error(f"{obj}: {type(exc).__name__}: {exc}", id="curation.E010", obj=obj))
            continue
        if route in routes:
            errors.append(Error(f"{obj}: /api/v3/{route}/ is already the route of {routes[route]}",
                                hint="Give one of them another `route`.", id="curation.E010", obj=obj))
        routes.setdefault(route, resource)
    return errors
