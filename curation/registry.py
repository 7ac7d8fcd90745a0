"""Every workflow is registered once; admin, API, schedules and tests read it from here."""
from __future__ import annotations

from curation.resource import Resource
from curation.workflow import Workflow

_registry: dict[str, Workflow] = {}
# The REST resources the apps declared, by lower-cased model label (curation.resources adds defaults).
_resources: dict[str, Resource] = {}
_default_resources: dict[str, Resource] = {}
# Periodic tasks that are not a workflow's drain/rescue (e.g. places' opt-in re-scan), synced with them.
_schedules: dict[str, dict] = {}


class UnknownWorkflow(LookupError):
    pass


def register(workflow: Workflow) -> Workflow:
    existing = _registry.get(workflow.name)
    if existing is not None and existing != workflow:
        raise ValueError(f"Workflow {workflow.name!r} is registered twice with different declarations")
    _registry[workflow.name] = workflow
    return workflow


def unregister(name: str) -> None:
    _registry.pop(name, None)


def get(name: str) -> Workflow:
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise UnknownWorkflow(f"Unknown workflow {name!r}; known workflows: {known}") from None


def all_workflows() -> list[Workflow]:
    return list(_registry.values())


def for_model(model) -> list[Workflow]:
    label = model._meta.label
    return [wf for wf in _registry.values() if wf.model == label or wf.model.lower() == label.lower()]


def chain() -> list[tuple[Workflow, str]]:
    """Every workflow in pipeline order with its stage number, following the declarations' `after`.

    Stages count from the start of the chain; workflows fed by the same stage share its number with a
    letter (8a, 8b, 8c). A workflow linked to no other one (a test's, a new one) comes last, unnumbered.
    """
    children: dict[str | None, list[Workflow]] = {}
    for wf in _registry.values():
        parent = wf.after if wf.after in _registry else None
        children.setdefault(parent, []).append(wf)
    out: list[tuple[Workflow, str]] = []
    seen: set[str] = set()

    def walk(wf: Workflow, number: str, depth: int) -> None:
        if wf.name in seen:  # a cycle is reported by the system check; stop here
            return
        seen.add(wf.name)
        out.append((wf, number))
        kids = children.get(wf.name, [])
        for i, kid in enumerate(kids):
            walk(kid, f"{depth + 1}{chr(ord('a') + i) if len(kids) > 1 else ''}", depth + 1)

    roots = children.get(None, [])
    for root in [r for r in roots if children.get(r.name)]:
        walk(root, "1", 1)
    for wf in sorted(_registry.values(), key=lambda w: w.name):
        if wf.name not in seen:
            seen.add(wf.name)
            out.append((wf, ""))
    return out


def register_schedule(name: str, *, func: str, minutes: int, enabled: str | None = None) -> None:
    """A periodic task synced by `sync_schedules` beside the workflows' own.

    `enabled` is the dotted path of a function returning whether it should exist
    now (read at sync time, so a setting can switch it on or off).
    """
    _schedules[name] = {"func": func, "minutes": minutes, "enabled": enabled}


def all_schedules() -> dict[str, dict]:
    return dict(_schedules)


def register_resource(resource: Resource) -> Resource:
    """Declare a model's REST resource (curation.resource); its ViewSet and routes are generated."""
    key = resource.model.lower()
    existing = _resources.get(key)
    if existing is not None and existing is not resource:
        raise ValueError(f"The resource of {resource.model!r} is registered twice")
    _resources[key] = resource
    return resource


def unregister_resource(model: str) -> None:
    _resources.pop(model.lower(), None)


def all_resources() -> list[Resource]:
    """The declared resources in registration order, then a default one for every other workflow model."""
    found = dict(_resources)
    for wf in _registry.values():
        key = wf.model.lower()
        if key not in found:
            found[key] = _default_resources.setdefault(key, Resource(model=wf.model))
    return list(found.values())
