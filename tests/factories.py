"""factory_boy factories. `FACTORIES` maps every workflow model to its factory,
so that the contract suite can create rows for any registered workflow."""
from __future__ import annotations

import importlib
import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from curation.workflow import Workflow
from tests.testapp.models import Widget


class WidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Widget

    name = factory.Sequence(lambda n: f"widget-{n}")
    behaviour = "ok"

    class Params:
        queued = factory.Trait(
            widget_check_curation_status="Selected",
            widget_check_processing_status="Queued",
            widget_check_queued_at=factory.LazyFunction(timezone.now),
            widget_check_available_at=factory.LazyFunction(timezone.now),
        )
        # Claimed by a worker that died: the lease has expired.
        stuck = factory.Trait(
            widget_check_curation_status="Selected",
            widget_check_processing_status="Processing",
            widget_check_attempts=1,
            widget_check_lease_token=factory.LazyFunction(uuid.uuid4),
            widget_check_lease_until=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1)),
            widget_check_locked_by="dead-host:1:1",
        )
        errored = factory.Trait(
            widget_check_curation_status="Selected",
            widget_check_processing_status="Error",
            widget_check_processing_error="HTTP 404 from https://example.com/",
            widget_check_error_class="not_found",
            widget_check_attempts=1,
        )
        completed = factory.Trait(
            widget_check_curation_status="Selected",
            widget_check_processing_status="Completed",
            widget_check_processed_at=factory.LazyFunction(timezone.now),
            widget_check_attempts=1,
        )


FACTORIES: dict[str, type[factory.django.DjangoModelFactory]] = {
    "testapp.Widget": WidgetFactory,
}
# Each app's factories module declares its own FACTORIES map (tests/<app>/factories.py).
for _module in ("tests.places.factories", "tests.pages.factories", "tests.contacts.factories"):
    try:
        FACTORIES.update(importlib.import_module(_module).FACTORIES)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise


def make_rows(workflow: Workflow, n: int = 1, **kwargs) -> list:
    """Create `n` plain rows of the workflow's model with its registered factory (or, for a model without
    one, a plain factory: enough for models whose fields all have defaults, as `startworkflow` writes them)."""
    label = workflow.model_class._meta.label
    factory_class = FACTORIES.get(label)
    if factory_class is None:  # a new workflow's model (manage.py startworkflow): its fields all have defaults
        factory_class = type(f"{workflow.model_class.__name__}Factory", (factory.django.DjangoModelFactory,),
                             {"Meta": type("Meta", (), {"model": workflow.model_class})})
        FACTORIES[label] = factory_class
    return factory_class.create_batch(n, **kwargs)


def put_in_state(workflow: Workflow, rows, *, processing: str | None, curation: str | None = None, **extra) -> None:
    """Test set-up: put rows into a processing state directly (as if the engine had done it)."""
    values = {workflow.status_field: processing, **{workflow.f(k): v for k, v in extra.items()}}
    now = timezone.now()
    if processing == "Queued":
        values.setdefault(workflow.f("queued_at"), now)
        values.setdefault(workflow.f("available_at"), now)
    if processing == "Processing":
        values.setdefault(workflow.f("lease_token"), uuid.uuid4())
        values.setdefault(workflow.f("lease_until"), now + timedelta(seconds=workflow.lease_seconds))
        values.setdefault(workflow.f("attempts"), 1)
    if processing == "Error":
        values.setdefault(workflow.error_field, "HTTP 500 from https://example.com/")
        values.setdefault(workflow.f("error_class"), "http_5xx")
    if curation is not None:
        values[workflow.curation_field] = curation
    workflow.model_class.objects.filter(pk__in=[r.pk for r in rows]).update(**values)


def lease_for(workflow: Workflow, record, *, worker: str = "test-worker"):
    """Test set-up: claim `record` as a worker would (Processing under a fresh token) and return its lease.

    For calling a hook directly: `hook(record=record, lease=lease_for(wf, record))`.
    """
    from curation.lease import Lease

    now = timezone.now()
    token, until = uuid.uuid4(), now + timedelta(seconds=workflow.lease_seconds)
    attempts = (workflow.model_class.objects.filter(pk=record.pk).values_list(workflow.f("attempts"), flat=True).first() or 0) + 1
    put_in_state(workflow, [record], processing="Processing", lease_token=token, lease_until=until, attempts=attempts,
                 locked_by=worker)
    return Lease(workflow=workflow, record=record, token=token, attempt=attempts, deadline=until, worker=worker,
                 claimed_at=now)
