"""Every workflow is registered once; admin, API, schedules and tests read it from here."""
from __future__ import annotations

from curation.workflow import Workflow

_registry: dict[str, Workflow] = {}


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
